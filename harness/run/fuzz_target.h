// What the fuzz targets call. FuzzTarget decodes the input into a program and
// runs it against the page-cache model; a finding prints the violation and
// the replay line and aborts, which the engine records as a crash. The
// mutant comes from PAGERACE_MUTANT (unset: the correct model), never from
// the input. The executor and its threads are made on the first input, so
// AFL++'s fork server never forks a live thread pool.
// Thread-safety: one input at a time, as the engines call it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "harness/cache/mutant.h"

namespace pagerace {

class Executor;

class FuzzTarget {
 public:
  // Reads PAGERACE_MUTANT and PAGERACE_DIR; a bad mutant name exits 2.
  static FuzzTarget* FromEnvironment();
  int Run(std::span<const uint8_t> data);
  ~FuzzTarget();

 private:
  explicit FuzzTarget(Mutant mutant);
  Mutant mutant_;
  std::unique_ptr<Executor> executor_;
};

}  // namespace pagerace
