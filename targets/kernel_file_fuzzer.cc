// Decodes the input into a multi-threaded program and runs it against the
// host kernel's page cache on real files under PAGERACE_DIR (default /tmp);
// a finding aborts with a replay line. Threads are made and joined per input.
#include <cstddef>
#include <cstdint>

#include "harness/run/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pagerace::FuzzTarget* target = pagerace::FuzzTarget::FromEnvironment(pagerace::TargetKind::kKernel);
  return target->Run({data, size});
}
