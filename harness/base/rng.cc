#include "harness/base/rng.h"

namespace pagerace {

}  // namespace pagerace
