// What the fuzz targets call. FuzzTarget decodes the input into a program
// (DecodeFuzzInput: a seed's file magic is stripped first) and
// runs it against the page-cache model; a finding prints the violation and
// the replay line and aborts, which the engine records as a crash. The
// mutant comes from PAGERACE_MUTANT (unset: the correct model), never from
// the input. Programs run under the controlled scheduler (fibers; the
// program's seed fixes the interleaving, so every crash replays exactly)
// unless PAGERACE_SCHEDULE=free. The backend and io are the input's own
// (codec.h: memory and pread for inputs from before they were encoded), so
// the engine mutates them as it mutates the rest; PAGERACE_BACKEND (memory,
// file, blockmap) and PAGERACE_IO (pread, uring) override them for every
// input, and the REPRO line then carries the override. The executor is made
// on the first input, so AFL++'s fork server never forks a live thread pool.
//
// The kernel target (kernel_file_fuzzer) runs each input on the host kernel
// instead: real files in a private directory under PAGERACE_DIR (default
// /tmp, whatever TMPDIR says), real threads made and joined per input, a
// watchdog that reports a run still going after 10 s as a DEADLOCK. It takes
// no mutant and no controlled schedule (either set exits 2), ignores the
// input's backend and io, and moves its data by PAGERACE_IO.
// Thread-safety: one input at a time, as the engines call it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "harness/cache/mutant.h"
#include "harness/run/executor.h"
#include "harness/run/target.h"

namespace pagerace {

class FuzzTarget {
 public:
  // Reads PAGERACE_MUTANT, PAGERACE_SCHEDULE, PAGERACE_BACKEND, PAGERACE_IO
  // and PAGERACE_DIR; a bad name exits 2.
  static FuzzTarget* FromEnvironment(TargetKind target = TargetKind::kModel);
  int Run(std::span<const uint8_t> data);
  ~FuzzTarget();

 private:
  explicit FuzzTarget(const ExecutorOptions& options) : options_(options) {}
  ExecutorOptions options_;
  std::unique_ptr<Executor> executor_;
};

}  // namespace pagerace
