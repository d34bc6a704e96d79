#include "harness/run/fuzz_target.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "harness/base/check.h"
#include "harness/program/codec.h"
#include "harness/program/text.h"
#include "harness/run/executor.h"
#include "harness/run/soak.h"

namespace pagerace {

FuzzTarget::~FuzzTarget() = default;

namespace {

// The value of environment variable `var` (`fallback` if unset), parsed by
// `parse`; a value it rejects exits 2 with a message naming `choices`.
template <typename Parse>
auto FromEnv(const char* var, const char* fallback, Parse parse, const char* choices) {
  const char* env = std::getenv(var);
  const char* value = env == nullptr ? fallback : env;
  auto parsed = parse(value);
  if (!parsed) {
    std::fprintf(stderr, "pagerace: unknown %s '%s' (%s)\n", var, value, choices);
    std::exit(2);
  }
  return *parsed;
}

// The same for an override: unset is none.
template <typename Parse>
auto OverrideFromEnv(const char* var, Parse parse, const char* choices) -> decltype(parse("")) {
  if (std::getenv(var) == nullptr) return std::nullopt;
  return FromEnv(var, "", parse, choices);
}

// The kernel fuzz target's opt-in to size ops (RunsSizeOps).
bool KernelTruncateOptIn() {
  const char* v = std::getenv("PAGERACE_KERNEL_TRUNCATE");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace

FuzzTarget* FuzzTarget::FromEnvironment(TargetKind kind) {
  const bool kernel = kind == TargetKind::kKernel;
  const Mutant mutant = FromEnv("PAGERACE_MUTANT", "", MutantFromName, "see: pagerace mutants");
  const Schedule schedule =
      FromEnv("PAGERACE_SCHEDULE", ScheduleName(kernel ? Schedule::kFree : Schedule::kControlled), ScheduleFromName,
              "controlled or free");
  if (kernel && (mutant != Mutant::kNone || schedule != Schedule::kFree)) {
    std::fprintf(stderr, "pagerace: the kernel target takes no PAGERACE_MUTANT and only PAGERACE_SCHEDULE=free\n");
    std::exit(2);
  }
  const std::optional<BackendKind> backend =
      OverrideFromEnv("PAGERACE_BACKEND", BackendFromName, "memory, file or blockmap");
  const std::optional<IoMode> io = OverrideFromEnv("PAGERACE_IO", IoModeFromName, "pread or uring");
  // Lives until exit; the engines may call Run until then. At exit (libFuzzer
  // ends -runs and -max_total_time with exit()) the executor is destroyed,
  // which removes its private directory.
  const char* dir = std::getenv("PAGERACE_DIR");
  const ExecutorOptions o{.target = kind,
                          .backend = backend,
                          .io = io,
                          .dir = dir != nullptr ? dir : kernel ? "/tmp" : "",
                          .mutant = mutant,
                          .schedule = schedule,
                          .join_threads = kernel};
  static FuzzTarget* target = new FuzzTarget(o);
  static const int registered = std::atexit([] { target->executor_.reset(); });
  (void)registered;
  return target;
}

int FuzzTarget::Run(std::span<const uint8_t> data) {
  const Program input = DecodeFuzzInput(data);
  if (input.op_count() == 0) return 0;
  // An input the target may not run is passed over (RunsSizeOps).
  if (!RunsSizeOps(options_.target, KernelTruncateOptIn()) && HasSizeOps(input)) return 0;
  const Program program = WithOverrides(input, options_.backend, options_.io);
  if (executor_ == nullptr) {
    Result<std::unique_ptr<Executor>> exec = Executor::Create(options_);
    PR_CHECK_MSG(exec.ok(), "environment: " + exec.status().ToString());
    executor_ = std::move(*exec);
  }
  Result<RunOutcome> outcome = executor_->Run(program);
  PR_CHECK_MSG(outcome.ok(), "environment: " + outcome.status().ToString());
  if (outcome->report.ok()) return 0;
  // Removes the backend's files before we abort; a free run that hung left
  // threads inside the executor, so that one stays.
  if (executor_->wedged()) {
    static_cast<void>(executor_.release());
  } else {
    executor_.reset();
  }
  // The crash file holds the input as it came: an override it does not
  // carry must be on the command line.
  const bool kernel = options_.target == TargetKind::kKernel;
  ReplayFlags flags;
  flags.raw = true;
  flags.target = options_.target;
  flags.mutant = options_.mutant;
  flags.schedule = options_.schedule;
  if (kernel) {
    flags.io = options_.io;
    flags.dir = options_.dir;
  } else {
    if (program.backend != input.backend) flags.backend = program.backend;
    if (program.io != input.io) flags.io = program.io;
  }
  const Violation& v = outcome->report.violations.front();
  std::fprintf(stderr, "pagerace: %s\n(%zu violations in this run)\nREPRO: %s\nthe program:\n%s",
               v.ToString().c_str(), outcome->report.total, ReplayCommand(flags, "<crash file>").c_str(),
               PrintText(program).c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace pagerace
