// The soak loop and replay: the one API the CLI and the fuzz targets use.
// Soak runs rounds of fresh programs drawn from the seed until the duration
// or op budget is spent, or a finding. Every swarm_programs programs it draws
// a new swarm (generate.h: which op kinds, how often, on which backend) from a
// generator of its own, also seeded from the seed, and prints it. Every
// program carries its backend and io, so a saved one replays on what it ran
// on with no flags. A finding under real threads
// is first searched for a controlled schedule that shows it (explore.h), so
// that the saved artifact replays exactly; the program is saved either way.
// Under the controlled scheduler each program runs once, scheduled by its
// strategy (random or PCT) from its seed, or, in explore mode, under every
// schedule with at most K preemptions (explore.h) until one shows a violation.
// Replay runs one program under the controlled scheduler (once: the run is a
// function of the program, backend and io included) and, if that shows
// nothing, searches schedules; under real threads it reruns until the
// violation shows.
// A stop request (SIGINT, SIGTERM: base/interrupt.h) ends either early, as
// a spent budget does: between runs, or at the running one's next decision
// (controlled) or soon after (free; a kernel round); a finding's search for
// a schedule stops too, and the finding is saved as it stands. The result
// names the signal.
// Not thread-safe: one call at a time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "harness/base/status.h"
#include "harness/cache/mutant.h"
#include "harness/oracle/checker.h"
#include "harness/program/generate.h"
#include "harness/program/program.h"
#include "harness/run/executor.h"
#include "harness/run/target.h"

namespace pagerace {

struct SoakOptions {
  TargetKind target = TargetKind::kModel;
  uint32_t threads = 4;
  double duration_s = 60;
  uint64_t ops_max = 0;          // 0: no op budget
  uint64_t seed = 0;
  std::string dir;               // parent of the private temp dir; "" = $TMPDIR
  Mutant mutant = Mutant::kNone;
  std::string artifacts_dir = "pagerace-artifacts";
  std::string program = "pagerace";  // the command as run (argv[0]), for the REPRO line
  Schedule schedule = Schedule::kFree;
  // Set, every program runs on this backend (io) instead of the swarm's, and
  // says so in its fields. The kernel target takes no backend and moves its
  // data by io (pread unless set).
  std::optional<BackendKind> backend = std::nullopt;
  std::optional<IoMode> io = std::nullopt;
  // The fuse target: every program mounts with these options (program.h)
  // instead of a set each swarm draws.
  std::optional<uint8_t> fuse_mount = std::nullopt;
  uint32_t ops_per_thread = 12;
  bool draw_shape = false;       // threads and ops_per_thread are the most (GenerateOptions)
  double search_s = 20;          // free-mode finding: seconds to search for a controlled schedule
  uint32_t swarm_programs = 1000;  // programs per swarm (op kind mix); 0: a fresh, unprinted swarm per program
  std::optional<Swarm> mix;        // a fixed op kind mix instead of drawn swarms
  uint32_t jitter = 96;            // free: chance in 1024 of a pause at a scheduling point
  // Controlled: how each program is scheduled (random or PCT, from its seed).
  Strategy strategy = Strategy::kRandom;
  uint8_t pct_depth = 3;           // [1, kPctDepthMax]
  // Controlled: run every interleaving of each program with at most
  // `preemptions` preemptions (explore.h), at most schedules_per_program of
  // them, instead of one schedule per program.
  bool explore = false;
  uint32_t preemptions = 1;
  uint64_t schedules_per_program = 10'000;
};

// "free", "controlled", "controlled/pct" or "explore" (the JSON's "schedule").
std::string SoakScheduleName(const SoakOptions& options);

struct Finding {
  Violation violation;
  size_t violations = 0;    // in the same run
  Program program;
  std::string artifact;     // path, or "" if it could not be written
  std::string artifact_error;  // then why: "the artifact could not be written to DIR: REASON"
  std::string replay;       // the command that replays it
  bool deterministic = false;  // the artifact carries a controlled schedule that shows it
  uint64_t search_tries = 0;   // free-mode finding: controlled schedules tried
  uint32_t preemptions = 0;    // explore: the violating schedule's preemptions
};

struct SoakResult {
  uint64_t seed = 0;
  double duration_s = 0;
  uint64_t ops = 0;
  // Of duration_s, the seconds the programs' ops ran (RunOutcome::ops_s); the
  // rest went to drawing programs, the per-round reset and the end-of-run check.
  double ops_duration_s = 0;
  uint64_t rounds = 0;           // programs run
  uint64_t schedules = 0;        // runs: one a program, or (explore) every schedule explored
  uint64_t violations = 0;
  std::string degraded;          // what the backend had to do without
  std::vector<std::pair<std::string, std::string>> facts;  // what it ran on (Target::Facts)
  std::optional<Finding> finding;
  int interrupted = 0;           // the signal of a stop request it saw by its return, or 0
  double ops_per_sec() const { return duration_s > 0 ? ops / duration_s : 0; }
};

// Prints the header and a status line at least once a second to `out`.
// An error Status is an environment failure.
Result<SoakResult> Soak(const SoakOptions& options, std::FILE* out);

struct ReplayOptions {
  TargetKind target = TargetKind::kModel;  // kernel: real threads, rerun until it shows
  Mutant mutant = Mutant::kNone;
  uint32_t runs = 100000;   // stop after this many runs without the violation,
  double duration_s = 60;   // or after this long
  std::string dir;
  Schedule schedule = Schedule::kControlled;  // controlled: the program's schedule fixes the run
  // Set, the program runs on these instead of its own backend and io (and a
  // schedule found says so). The kernel target: io only.
  std::optional<BackendKind> backend = std::nullopt;
  std::optional<IoMode> io = std::nullopt;
  // The fuse target: every program mounts with these options (program.h)
  // instead of a set each swarm draws.
  std::optional<uint8_t> fuse_mount = std::nullopt;
  sched::Trace* trace = nullptr;        // controlled: records the run's events
};

struct ReplayResult {
  uint32_t runs = 0;                     // runs done (controlled: 1, plus schedules searched)
  std::optional<CheckReport> violating;  // the first violating run's report
  // Controlled: the program as given showed nothing, but this schedule of it does.
  std::optional<Program> found;
  int interrupted = 0;                   // the signal of a stop request it saw by its return, or 0
};

Result<ReplayResult> Replay(const Program& program, const ReplayOptions& options);

// The soak's --json document.
std::string SoakJson(const SoakOptions& options, const SoakResult& result);

// What `pagerace replay FILE` needs besides FILE to rerun what ran: the
// mutant, a schedule other than the controlled one, the backend and io where
// they are not FILE's own (a fuzzer's crash file holds the input as it came,
// before an override), and for the kernel target, which ignores the file's
// backend and io, the target, its io and its directory.
struct ReplayFlags {
  std::string program = "pagerace";  // the command, as it was run (argv[0])
  bool raw = false;                  // FILE is a raw fuzzer input: --raw
  TargetKind target = TargetKind::kModel;
  Mutant mutant = Mutant::kNone;
  Schedule schedule = Schedule::kControlled;
  std::optional<BackendKind> backend = std::nullopt;
  std::optional<IoMode> io = std::nullopt;
  // The fuse target: every program mounts with these options (program.h)
  // instead of a set each swarm draws.
  std::optional<uint8_t> fuse_mount = std::nullopt;
  std::string dir;  // kernel: where its files were made
};

// "PROGRAM replay [--mutant M] [--schedule free] [--backend B] [--io I]
// [--raw] FILE", or for the kernel target "PROGRAM replay --target kernel
// [--io I] [--dir DIR] [--raw] FILE", PROGRAM as flags.program says.
std::string ReplayCommand(const ReplayFlags& flags, const std::string& path);

}  // namespace pagerace
