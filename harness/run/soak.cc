#include "harness/run/soak.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <iterator>

#include "harness/base/check.h"
#include "harness/base/interrupt.h"
#include "harness/base/rng.h"
#include "harness/program/generate.h"
#include "harness/program/text.h"
#include "harness/run/artifact.h"
#include "harness/run/executor.h"
#include "harness/run/explore.h"

namespace pagerace {
namespace {

using Clock = std::chrono::steady_clock;

// Seeds the soak's swarm generator apart from its program generator.
constexpr uint64_t kSwarmSalt = 0x5357'4152'4d00'0000;  // "SWARM"

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

const char* MutantName(Mutant m) {
  const MutantInfo* info = InfoOf(m);
  return info == nullptr ? "none" : info->name;
}

// "backend file, io pread" or "target kernel, kernel 6.1.0, fs ext4, ...".
std::string FormatFacts(const std::vector<std::pair<std::string, std::string>>& facts) {
  std::string s;
  for (const auto& [key, value] : facts) {
    std::string k = key;
    std::replace(k.begin(), k.end(), '_', ' ');
    s += (s.empty() ? "" : ", ") + k + " " + value;
  }
  return s;
}

// The soak's scheduling flags, as given on the command line.
std::string SoakScheduleFlags(const SoakOptions& o) {
  if (o.explore) return "--schedule explore --preemptions " + std::to_string(o.preemptions);
  std::string flags = std::string("--schedule ") + ScheduleName(o.schedule);
  if (o.schedule == Schedule::kControlled && o.strategy != Strategy::kRandom) {
    flags += std::string(" --strategy ") + StrategyName(o.strategy);
    if (o.strategy == Strategy::kPct) flags += " --pct-depth " + std::to_string(o.pct_depth);
  }
  return flags;
}

// The soak's overrides of the programs' backend and io, as given on the
// command line.
std::string SoakBackendFlags(const SoakOptions& o) {
  std::string flags;
  if (o.backend) flags += std::string(" --backend ") + BackendName(*o.backend);
  if (o.io) flags += std::string(" --io ") + IoModeName(*o.io);
  return flags;
}

// A free-mode finding is searched for a controlled schedule first, so that
// the artifact replays exactly; without one the program is saved for replay
// under real threads.
// An explore-mode finding is the first violating schedule, as a directed
// program when it fits the program formats.
Result<Finding> SaveFinding(const SoakOptions& options, const SoakResult& so_far, const Executor& exec,
                            const Program& program, const CheckReport& report,
                            const ExploreResult* explored = nullptr) {
  Finding f;
  f.violation = report.violations.front();
  f.violations = report.total;
  f.program = program;
  Schedule replay_schedule = options.schedule;
  std::string how;
  if (explored != nullptr) {
    f.preemptions = explored->first_preemptions;
    const std::string which = "schedule " + std::to_string(explored->schedules) + " of the program, with " +
                              std::to_string(explored->first_preemptions) + " preemptions";
    if (explored->first) {
      f.program = *explored->first;
      f.deterministic = true;
      how = "explore: " + which + ": replays exactly";
    } else {
      how = "explore: " + which + ", has too many decisions for a program file: replay searches schedules";
    }
  } else if (OnHostKernel(options.target)) {
    how = "the host kernel under real threads: replay reruns the program until it shows, maybe after many runs";
  } else if (options.schedule == Schedule::kFree) {
    SearchOptions so;  // the program has the soak's backend and io already
    so.mutant = options.mutant;
    so.duration_s = options.search_s;
    so.dir = options.dir;
    Result<SearchResult> search = FindSchedule(program, so);
    if (!search.ok()) return search.status();
    f.search_tries = search->tries;
    if (search->found) {
      f.program = *search->found;
      f.deterministic = true;
      replay_schedule = Schedule::kControlled;
      how = "controlled schedule found after " + std::to_string(search->tries) +
            " tries; it shows: " + search->report->violations.front().ToString();
    } else {
      how = std::string(search->interrupted ? "the search was interrupted: " : "") + "no controlled schedule in " +
            std::to_string(search->tries) +
            " tries: replays under real threads (--schedule free), maybe after many runs";
    }
  } else {
    f.deterministic = true;
    how = "controlled: replays exactly";
  }
  char stem[96];
  std::snprintf(stem, sizeof stem, "%s-seed%" PRIu64 "-round%" PRIu64,
                ViolationKindName(f.violation.kind), so_far.seed, so_far.rounds);
  std::vector<std::string> comments = {
      "pagerace finding: " + f.violation.ToString(),
      std::string("mutant: ") + MutantName(options.mutant),
      "found by: pagerace soak --seed " + std::to_string(so_far.seed) + " " +
          (options.draw_shape ? std::string()
                              : "--threads " + std::to_string(options.threads) + " --ops-per-thread " +
                                    std::to_string(options.ops_per_thread) + " ") +
          SoakScheduleFlags(options) + SoakBackendFlags(options) + " (round " + std::to_string(so_far.rounds) + ")",
      "on: " + FormatFacts(exec.RunFacts()),
      how,
  };
  Result<std::string> path = WriteArtifact(options.artifacts_dir, stem, comments, f.program);
  if (!path.ok()) {
    f.artifact_error = path.status().message();
  } else {
    f.artifact = *path;
    ReplayFlags flags;
    flags.program = options.program;
    flags.target = options.target;
    flags.mutant = options.mutant;
    flags.schedule = replay_schedule;
    // A model program carries its backend and io; the kernel target ignores
    // them; a fuse program carries its mount options, store and io.
    if (options.target == TargetKind::kKernel) flags.io = options.io;
    if (OnHostKernel(options.target)) flags.dir = options.dir;
    f.replay = ReplayCommand(flags, f.artifact);
  }
  return f;
}

// Where a swarm's programs run: where it was drawn to, unless the options
// override that. The kernel target ignores the fields, so they keep their
// defaults there: its artifacts claim nothing it did not run on. No size
// ops where the target may not run them (RunsSizeOps).
void Place(const SoakOptions& options, Swarm& swarm, Rng& swarm_rng) {
  if (!RunsSizeOps(options.target, options.mix.has_value()))
    for (const OpInfo& info : OpTable())
      if (SetsSize(info.kind) || Shifts(info.kind)) swarm.weight[static_cast<size_t>(info.kind)] = 0;
  if (options.target == TargetKind::kKernel) {
    swarm.backend = BackendKind::kMemory;
    swarm.io = IoMode::kPread;
    return;
  }
  if (options.backend) swarm.backend = *options.backend;
  if (options.io) swarm.io = *options.io;
  // Drawn only here: the model's swarms stay what they were.
  if (options.target == TargetKind::kFuse)
    swarm.fuse = options.fuse_mount.value_or(static_cast<uint8_t>(swarm_rng.Below(kFuseMounts)));
}

// One round: the program once, or under every schedule within the bound
// (explore). Adds its ops and schedules to `so_far`.
struct Round {
  CheckReport report;                     // of the violating run, if any
  std::optional<ExploreResult> explored;  // explore: what found it
  bool stopped = false;                   // a stop request cut it short
};

Result<Round> RunRound(Executor& exec, const Program& program, const SoakOptions& options, double remaining_s,
                       SoakResult& so_far) {
  Round round;
  if (options.explore) {
    ExploreOptions eo;
    eo.preemptions = options.preemptions;
    eo.schedules_max = options.schedules_per_program;
    eo.duration_s = std::max(remaining_s, 0.001);
    Result<ExploreResult> explored = Explore(exec, program, eo);
    if (!explored.ok()) return explored.status();
    so_far.ops += explored->ops;
    so_far.ops_duration_s += explored->ops_s;
    so_far.schedules += explored->schedules;
    round.stopped = !explored->complete && explored->interrupted != 0 && !explored->first_report;
    if (explored->first_report) round.report = *explored->first_report;
    round.explored = std::move(*explored);
    return round;
  }
  Result<RunOutcome> outcome = exec.Run(program);
  if (!outcome.ok()) return outcome.status();
  round.stopped = outcome->stopped;
  if (round.stopped) return round;
  so_far.ops += outcome->ops;
  so_far.ops_duration_s += outcome->ops_s;
  ++so_far.schedules;
  round.report = std::move(outcome->report);
  return round;
}

// A free run that hung (or was given up on at a stop request) left threads
// stuck inside the executor: it must outlive them (the process), so it is
// leaked rather than destroyed. Its private directory goes at exit
// (MakePrivateDir).
void LeakIfWedged(std::unique_ptr<Executor>& exec) {
  if (exec->wedged()) static_cast<void>(exec.release());
}

}  // namespace

std::string SoakScheduleName(const SoakOptions& options) {
  if (options.explore) return "explore";
  std::string name = ScheduleName(options.schedule);
  if (options.schedule == Schedule::kControlled && options.strategy != Strategy::kRandom) {
    name += std::string("/") + StrategyName(options.strategy);
  }
  return name;
}

std::string ReplayCommand(const ReplayFlags& flags, const std::string& path) {
  std::string cmd = flags.program + " replay ";
  const std::string file = (flags.raw ? "--raw " : "") + path;
  if (OnHostKernel(flags.target)) {
    // Replay of the kernel and fuse targets runs real threads unless told otherwise.
    cmd += std::string("--target ") + TargetName(flags.target) + " ";
    if (flags.io) cmd += std::string("--io ") + IoModeName(*flags.io) + " ";
    if (!flags.dir.empty()) cmd += "--dir " + flags.dir + " ";
    return cmd + file;
  }
  if (flags.mutant != Mutant::kNone) cmd += std::string("--mutant ") + MutantName(flags.mutant) + " ";
  if (flags.schedule != Schedule::kControlled) cmd += std::string("--schedule ") + ScheduleName(flags.schedule) + " ";
  if (flags.backend) cmd += std::string("--backend ") + BackendName(*flags.backend) + " ";
  if (flags.io) cmd += std::string("--io ") + IoModeName(*flags.io) + " ";
  return cmd + file;
}

Result<SoakResult> Soak(const SoakOptions& options, std::FILE* out) {
  SoakResult result;
  result.seed = options.seed;
  ExecutorOptions eo{.target = options.target,
                     .backend = options.backend,
                     .io = options.io,
                     .dir = options.dir,
                     .mutant = options.mutant,
                     .schedule = options.schedule};
  eo.jitter.pause_per_1024 = options.jitter;
  Result<std::unique_ptr<Executor>> exec = Executor::Create(eo);
  if (!exec.ok()) return exec.status();
  result.facts = (*exec)->Facts();
  std::fprintf(out, "pagerace soak: seed %" PRIu64 ", %s%u threads, %.0f s, mutant %s, schedule %s, %s\n",
               options.seed, options.draw_shape && options.threads > 2 ? "2-" : "", options.threads, options.duration_s, MutantName(options.mutant),
               SoakScheduleName(options).c_str(), FormatFacts(result.facts).c_str());

  GenerateOptions go;
  go.threads = options.threads;
  go.ops_per_thread = options.ops_per_thread;
  go.draw_shape = options.draw_shape;
  Rng rng(options.seed);
  // Swarms come from a stream of their own: how often one is drawn does not
  // shift the stream the programs are drawn from.
  Rng swarm_rng(options.seed ^ kSwarmSalt);
  Swarm swarm;
  const Clock::time_point t0 = Clock::now();
  double next_status = 1;
  Program program;
  for (;;) {
    const double elapsed = Since(t0);
    if (elapsed >= options.duration_s || (options.ops_max && result.ops >= options.ops_max) || StopRequested())
      break;
    if (elapsed >= next_status) {
      std::fprintf(out, "[%5.0fs] ops %" PRIu64 " (%.0f/s) rounds %" PRIu64 " violations %" PRIu64 "\n",
                   elapsed, result.ops, result.ops / elapsed, result.rounds, result.violations);
      std::fflush(out);
      next_status = elapsed + 1;
    }
    if (options.mix && result.rounds == 0) std::fprintf(out, "mix: %s\n", FormatSwarm(*options.mix).c_str());
    if (options.swarm_programs == 0 || result.rounds % options.swarm_programs == 0) {
      // A mix fixes the op weights only: the backend is still drawn.
      swarm = DrawSwarm(swarm_rng);
      if (options.mix) std::copy(std::begin(options.mix->weight), std::end(options.mix->weight), swarm.weight);
      Place(options, swarm, swarm_rng);
      const bool kernel = options.target == TargetKind::kKernel;
      if (options.swarm_programs != 0 && !(options.mix && kernel)) {
        const uint64_t first = result.rounds;
        const std::string where = kernel ? "" : "; " + FormatBackend(swarm);
        std::fprintf(out, "swarm %" PRIu64 " (programs %" PRIu64 "-%" PRIu64 "): %s%s\n",
                     first / options.swarm_programs, first, first + options.swarm_programs - 1,
                     FormatSwarm(swarm).c_str(), where.c_str());
        std::fflush(out);
      }
    }
    program = Generate(rng, go, swarm);
    if (options.schedule == Schedule::kControlled) {
      program.schedule.strategy = options.strategy;
      program.schedule.pct_depth = options.pct_depth;
    }
    SetCrashContext([&] {
      return "pagerace soak: seed " + std::to_string(options.seed) + " round " + std::to_string(result.rounds) +
             "; the program:\n" + PrintText(program);
    });
    Result<Round> round = RunRound(**exec, program, options, options.duration_s - elapsed, result);
    if (!round.ok()) return round.status();
    if (round->stopped) break;  // not a round
    if (!round->report.ok()) {
      result.violations += round->report.total;
      result.duration_s = Since(t0);
      Result<Finding> finding = SaveFinding(options, result, **exec, program, round->report,
                                            round->explored ? &*round->explored : nullptr);
      if (!finding.ok()) return finding.status();
      result.finding = std::move(*finding);
      ++result.rounds;
      SetCrashContext(nullptr);
      result.degraded = (*exec)->BackendDegraded();
      result.interrupted = StopSignal();
      LeakIfWedged(*exec);
      return result;
    }
    ++result.rounds;
  }
  SetCrashContext(nullptr);
  result.duration_s = Since(t0);
  result.degraded = (*exec)->BackendDegraded();
  result.interrupted = StopSignal();
  LeakIfWedged(*exec);
  return result;
}

Result<ReplayResult> Replay(const Program& given, const ReplayOptions& options) {
  PR_RETURN_IF_ERROR(Validate(given));
  const Program program = WithOverrides(given, options.backend, options.io);
  Result<std::unique_ptr<Executor>> exec =
      Executor::Create(options.mutant, options.schedule, options.backend, options.io, options.dir, options.target);
  if (!exec.ok()) return exec.status();
  ReplayResult result;
  SetCrashContext([&] { return "pagerace replay; the program:\n" + PrintText(program); });
  const Clock::time_point t0 = Clock::now();
  if (options.schedule == Schedule::kControlled) {
    // A controlled run is a function of the program: once says it all.
    ControlledHooks hooks;
    hooks.trace = options.trace;
    (*exec)->set_hooks(hooks);
    Result<RunOutcome> outcome = (*exec)->Run(program);
    if (!outcome.ok()) return outcome.status();
    result.runs = outcome->stopped ? 0 : 1;
    if (!outcome->report.ok()) {
      result.violating = std::move(outcome->report);
    } else if (options.runs > 1 && !outcome->stopped) {
      // Not with this schedule: search others (a free-mode program).
      SearchOptions so;
      so.tries_max = options.runs - 1;
      so.duration_s = options.duration_s;
      so.mutant = options.mutant;
      so.dir = options.dir;
      so.try_own = false;  // just ran
      Result<SearchResult> search = FindSchedule(program, so);
      if (!search.ok()) return search.status();
      result.runs += static_cast<uint32_t>(search->tries);
      if (search->found) {
        result.found = std::move(search->found);
        result.violating = std::move(search->report);
      }
    }
    SetCrashContext(nullptr);
    result.interrupted = StopSignal();
    return result;
  }
  while (result.runs < options.runs && Since(t0) < options.duration_s && !StopRequested()) {
    Result<RunOutcome> outcome = (*exec)->Run(program);
    if (!outcome.ok()) return outcome.status();
    if (outcome->stopped) break;  // not a run
    ++result.runs;
    if (!outcome->report.ok()) {
      result.violating = std::move(outcome->report);
      break;
    }
  }
  SetCrashContext(nullptr);
  result.interrupted = StopSignal();
  LeakIfWedged(*exec);
  return result;
}

std::string SoakJson(const SoakOptions& options, const SoakResult& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"seed\": %" PRIu64 ", \"duration_s\": %.3f, \"ops_duration_s\": %.3f, \"ops\": %" PRIu64
                ", \"ops_per_sec\": %.1f, \"rounds\": %" PRIu64 ", \"violations\": %" PRIu64
                ", \"schedules\": %" PRIu64 ", \"threads\": %u, \"mutant\": \"%s\", \"schedule\": \"%s\""
                ", \"target\": \"%s\"",
                r.seed, r.duration_s, r.ops_duration_s, r.ops, r.ops_per_sec(), r.rounds, r.violations,
                r.schedules, options.threads, MutantName(options.mutant),
                SoakScheduleName(options).c_str(), TargetName(options.target));
  std::string json = buf;
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        q += ' ';
        continue;
      }
      q += c;
    }
    return q + "\"";
  };
  for (const auto& [key, value] : r.facts) {
    if (key != "target") json += ", " + quote(key) + ": " + quote(value);
  }
  if (r.finding) {
    json += ", \"finding\": {\"kind\": \"" + std::string(ViolationKindName(r.finding->violation.kind)) +
            "\", \"violation\": " + quote(r.finding->violation.ToString()) +
            ", \"artifact\": " + quote(r.finding->artifact) + ", \"replay\": " + quote(r.finding->replay) +
            ", \"deterministic\": " + (r.finding->deterministic ? "true" : "false") + "}";
  } else {
    json += ", \"finding\": null";
  }
  json += ", \"degraded\": " + quote(r.degraded) +
          ", \"interrupted\": " + (r.interrupted != 0 ? quote(StopSignalName(r.interrupted)) : "null") + "}\n";
  return json;
}

}  // namespace pagerace
