// Decodes the input into a multi-threaded program and runs it against the
// page-cache model (mutant from PAGERACE_MUTANT); a finding aborts with a
// replay line.
#include <cstddef>
#include <cstdint>

#include "harness/run/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pagerace::FuzzTarget* target = pagerace::FuzzTarget::FromEnvironment();
  return target->Run({data, size});
}
