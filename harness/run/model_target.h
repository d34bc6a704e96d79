// The page-cache model over a backend, as a Target. Internal to harness/run.
#pragma once

#include <memory>

#include "harness/backend/backend.h"
#include "harness/base/status.h"
#include "harness/cache/mutant.h"
#include "harness/run/target.h"

namespace pagerace {

// `mutant` is the model's; the backend is made as `backend` and `io` say,
// in a private directory under `dir`.
Result<std::unique_ptr<Target>> CreateModelTarget(Mutant mutant, BackendKind backend, IoMode io,
                                                  const std::string& dir);

}  // namespace pagerace
