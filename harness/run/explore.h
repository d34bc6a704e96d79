// Exploration and schedule search: the controlled scheduler driven over many
// interleavings of one program.
//
// Explore enumerates every interleaving of a program with at most K
// preemptions (iterative context bounding, Musuvathi and Qadeer, PLDI 2007):
// stateless depth-first search over the scheduler's decisions, re-running the
// program from the start for each schedule. A decision that switches away
// from a thread that could have run on costs one preemption; choosing among
// threads when the last one blocked or finished costs none. Schedules are
// taken in order of their preemptions, so the first violation found has the
// fewest. Each is written as a directed schedule (sched/controller.h), so a
// finding is a program that replays exactly. Memory is bounded by the
// program's length, not by the schedules run: the search keeps only the path
// of schedules from the first to the current one.
//
// FindSchedule turns a program that showed a violation under real threads
// into one that shows it under the controlled scheduler: it tries PCT and
// random schedules with seeds drawn from the program's own.
// Both stop early at a stop request (SIGINT, SIGTERM: base/interrupt.h),
// between schedules or at the running one's next decision, and say so.
// Not thread-safe: one call at a time.
#pragma once

#include <cstdint>
#include <optional>

#include "harness/base/status.h"
#include "harness/cache/mutant.h"
#include "harness/oracle/checker.h"
#include "harness/program/program.h"
#include "harness/run/executor.h"

namespace pagerace {

struct ExploreOptions {
  uint32_t preemptions = 2;      // K
  bool all = false;              // count every violating schedule instead of stopping at the first
  uint64_t schedules_max = 1'000'000;
  double duration_s = 600;
  Mutant mutant = Mutant::kNone;
  // Set, the program runs on these instead of its own backend and io, and
  // the schedule written (`first`) says so.
  std::optional<BackendKind> backend = std::nullopt;
  std::optional<IoMode> io = std::nullopt;
  std::string dir;
};

struct ExploreResult {
  uint64_t schedules = 0;        // schedules run
  uint64_t ops = 0;              // ops done over all of them
  double ops_s = 0;              // seconds their ops ran (RunOutcome::ops_s)
  uint64_t violating = 0;        // of which showed a violation
  bool complete = false;         // every schedule within the bound was run
  std::optional<Program> first;  // the first violating schedule, as a directed program
  std::optional<CheckReport> first_report;
  uint32_t first_preemptions = 0;
  int interrupted = 0;           // the signal of a stop request it saw by its return, or 0
};

// REQUIRES: Validate(program).ok(). An error Status is an environment failure.
Result<ExploreResult> Explore(const Program& program, const ExploreOptions& options);

// The same on an executor of the caller's (controlled; options.mutant,
// backend, io and dir are its own, not options'), for many programs in a row.
Result<ExploreResult> Explore(Executor& exec, const Program& program, const ExploreOptions& options);

struct SearchOptions {
  uint64_t tries_max = 20000;
  double duration_s = 30;
  Mutant mutant = Mutant::kNone;
  // Set, the program runs on these instead of its own backend and io, and
  // the program found says so.
  std::optional<BackendKind> backend = std::nullopt;
  std::optional<IoMode> io = std::nullopt;
  std::string dir;
  bool try_own = true;           // try the program's own schedule first
};

struct SearchResult {
  uint64_t tries = 0;            // schedules run
  std::optional<Program> found;  // the program with a schedule that shows a violation
  std::optional<CheckReport> report;
  int interrupted = 0;           // the signal of a stop request it saw by its return, or 0
};

// Tries the program's own schedule first, then PCT (depth 1-3) and random
// schedules with derived seeds, until one shows a violation.
Result<SearchResult> FindSchedule(const Program& program, const SearchOptions& options);

}  // namespace pagerace
