// The pagerace command. Parses and validates flags once (CLI11), then
// delegates to harness/run. Exit codes: 0 no finding, 1 finding, 2 bad usage
// or bad input, 3 environment error (--help lists them), and, instead of 0
// or 1, 130 or 143 when SIGINT or SIGTERM stopped soak, replay or explore:
// these install the stop handlers (base/interrupt.h), stop at their next run
// or decision, and still report what was done (the stats line, the --json
// file with "interrupted", a finding made before and its artifact) and
// remove their private directories; a second signal ends the process at
// once. Only this file knows CLI11; its exceptions stay here.
#include <CLI/CLI.hpp>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cinttypes>
#include <cmath>
#include <functional>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "harness/base/interrupt.h"
#include "harness/cache/mutant.h"
#include "harness/program/codec.h"
#include "harness/program/generate.h"
#include "harness/program/text.h"
#include "harness/run/artifact.h"
#include "harness/run/explore.h"
#include "harness/run/soak.h"
#include "harness/run/trace_render.h"

namespace pagerace {
namespace {

constexpr int kExitOk = 0, kExitFinding = 1, kExitUsage = 2, kExitEnvironment = 3;
// The shell's codes for a process that a signal ended (128 + its number).
constexpr int kExitSigint = 128 + SIGINT, kExitSigterm = 128 + SIGTERM;

// The kernel target's rounds cost more than the model's (the files are
// reset by a punch, written back and read again with O_DIRECT), so its
// programs are longer by default.
constexpr uint32_t kKernelOpsPerThread = 32;

// Soak's --schedule explore: every schedule of each program within a
// preemption bound; on small programs unless --threads or --ops-per-thread
// say otherwise.
constexpr const char* kExploreSchedule = "explore";
constexpr uint32_t kExploreThreads = 2;
constexpr uint32_t kExploreOpsPerThread = 3;

// Defaults live here, once.
struct CliOptions {
  SoakOptions soak;
  ReplayOptions replay;
  std::string mutant;
  std::string schedule = ScheduleName(Schedule::kFree);
  std::string replay_schedule = ScheduleName(Schedule::kControlled);
  // Unset: each program's own (soak: drawn with each swarm).
  std::optional<BackendKind> backend;
  std::optional<IoMode> io;
  std::string target = TargetName(TargetKind::kModel);
  std::string mix;
  std::string json;
  bool trace = false;
  std::string html;
  ExploreOptions explore;
  bool seed_given = false;
  bool schedule_given = false;
  bool ops_per_thread_given = false;
  bool threads_given = false;
  bool strategy_given = false;
  bool pct_depth_given = false;
  bool explore_given = false;
  bool swarm_programs_given = false;
  std::vector<std::string> files;
  bool raw = false;  // the files are raw fuzzer inputs
  bool long_list = false;
  std::string input, output;
};

// A finding whose artifact could not be written: why, and the program, so
// that the finding is not lost.
void PrintUnsaved(const std::string& why, const Program& program) {
  std::printf("%s; the program:\n%s", why.c_str(), PrintText(program).c_str());
}

FileKind InputKind(const CliOptions& o) { return o.raw ? FileKind::kFuzzerInput : FileKind::kProgram; }

int Fail(const Status& st) {
  std::fprintf(stderr, "pagerace: %s\n", st.ToString().c_str());
  // The environment failed, or lacks what was asked for (FUSE, a mode).
  const bool environment = st.code() == StatusCode::kIoError || st.code() == StatusCode::kNotSupported;
  return environment ? kExitEnvironment : kExitUsage;
}

// Validates the --mutant name; exit code on failure.
std::optional<Mutant> ParseMutant(const std::string& name) {
  std::optional<Mutant> m = MutantFromName(name);
  if (!m) std::fprintf(stderr, "pagerace: unknown mutant '%s' (see: pagerace mutants)\n", name.c_str());
  return m;
}

// A program file says what it runs on; a flag that says otherwise wins, and
// says so, so that a run that differs from the file's is never silent.
void NoteOverrides(const CliOptions& o, const Program& program) {
  if (o.backend && *o.backend != program.backend)
    std::fprintf(stderr, "pagerace: note: --backend %s overrides the program's backend %s\n", BackendName(*o.backend),
                 BackendName(program.backend));
  if (o.io && *o.io != program.io)
    std::fprintf(stderr, "pagerace: note: --io %s overrides the program's io %s\n", IoModeName(*o.io),
                 IoModeName(program.io));
}

// A command that a stop request ended early (`stop_signal`, 0: none) says
// so, with how far it got, and exits with the signal's code instead of
// `code` (0 or 1).
int Interrupted(int stop_signal, uint64_t done, const char* what, int code) {
  if (stop_signal == 0) return code;
  std::fflush(stdout);
  std::fprintf(stderr, "pagerace: interrupted (%s): stopped after %" PRIu64 " %s\n", StopSignalName(stop_signal),
               done, what);
  return stop_signal == SIGINT ? kExitSigint : kExitSigterm;
}

// The kernel and fuse targets run the host kernel under real threads: the
// model's flags make no sense with them (the fuse target's store is a
// backend: it takes --backend). False (after a message) if one was given.
bool CheckKernelFlags(const CliOptions& o, TargetKind target, Schedule schedule) {
  if (!OnHostKernel(target)) return true;
  const bool kernel = target == TargetKind::kKernel;
  const char* bad = !o.mutant.empty()                 ? "--mutant (mutants are of the model)"
                    : o.backend && kernel             ? "--backend (the kernel target uses real files in --dir)"
                    : schedule != Schedule::kFree     ? "--schedule controlled (the kernel cannot be scheduled)"
                                                      : nullptr;
  if (bad == nullptr) return true;
  std::fprintf(stderr, "pagerace: --target %s does not take %s\n", TargetName(target), bad);
  return false;
}

int RunSoak(CliOptions& o) {
  std::optional<Mutant> mutant = ParseMutant(o.mutant);
  if (!mutant) return kExitUsage;
  o.soak.target = *TargetFromName(o.target);        // checked by CLI11
  o.soak.mutant = *mutant;
  o.soak.explore = o.schedule == kExploreSchedule;
  o.soak.schedule = o.soak.explore ? Schedule::kControlled : *ScheduleFromName(o.schedule);  // checked by CLI11
  if (!CheckKernelFlags(o, o.soak.target, o.soak.schedule)) return kExitUsage;
  const char* misplaced = nullptr;
  if (o.soak.schedule != Schedule::kControlled || o.soak.explore) {
    if (o.strategy_given || o.pct_depth_given) misplaced = "--strategy and --pct-depth need --schedule controlled";
  } else if (o.soak.strategy != Strategy::kPct && o.pct_depth_given) {
    misplaced = "--pct-depth needs --strategy pct";
  }
  if (!o.soak.explore && o.explore_given) misplaced = "--preemptions and --max-schedules need --schedule explore";
  if (o.soak.fuse_mount && o.soak.target != TargetKind::kFuse) misplaced = "--fuse-mount needs --target fuse";
  if (misplaced != nullptr) {
    std::fprintf(stderr, "pagerace: %s\n", misplaced);
    return kExitUsage;
  }
  if (o.soak.explore) {
    // Exploration is exhaustive per program: small programs, each with a
    // swarm (and backend) of its own (few programs are run), unless the flags
    // say otherwise.
    if (!o.threads_given) o.soak.threads = kExploreThreads;
    if (!o.ops_per_thread_given) o.soak.ops_per_thread = kExploreOpsPerThread;
    if (!o.swarm_programs_given) o.soak.swarm_programs = 0;
  }
  if (OnHostKernel(o.soak.target) && !o.ops_per_thread_given) o.soak.ops_per_thread = kKernelOpsPerThread;
  // The model's soaks draw each program's size unless the flags fix it.
  o.soak.draw_shape = o.soak.target == TargetKind::kModel && !o.soak.explore && !o.threads_given && !o.ops_per_thread_given;
  if (!o.mix.empty()) {
    Result<Swarm> mix = ParseSwarm(o.mix);
    if (!mix.ok()) {
      std::fprintf(stderr, "pagerace: --mix: %s\n", mix.status().message().c_str());
      return kExitUsage;
    }
    o.soak.mix = *mix;
  }
  o.soak.backend = o.backend;
  o.soak.io = o.io;
  if (!o.seed_given) o.soak.seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  InstallStopHandlers();
  Result<SoakResult> r = Soak(o.soak, stdout);
  if (!r.ok()) return Fail(r.status());
  std::printf("pagerace soak: %" PRIu64 " ops in %.1f s (%.0f ops/s), %" PRIu64 " rounds, %" PRIu64
              " violations\n",
              r->ops, r->duration_s, r->ops_per_sec(), r->rounds, r->violations);
  if (!r->degraded.empty()) std::printf("degraded: %s\n", r->degraded.c_str());
  if (!o.json.empty()) {
    Status st = WriteFileAtomic(o.json, SoakJson(o.soak, *r));
    if (!st.ok()) return Fail(st);
  }
  if (!r->finding) return Interrupted(r->interrupted, r->rounds, "rounds", kExitOk);
  const Finding& f = *r->finding;
  std::printf("FINDING: %s\n", f.violation.ToString().c_str());
  if (OnHostKernel(o.soak.target)) {
    std::printf("on the host kernel: replay reruns the program under real threads until it shows\n");
  } else if (o.soak.explore) {
    std::printf("explored: %" PRIu64 " schedules over %" PRIu64 " programs; the violating one has %u preemptions\n",
                r->schedules, r->rounds, f.preemptions);
  } else if (o.soak.schedule == Schedule::kFree) {
    if (f.deterministic) {
      std::printf("deterministic: a controlled schedule shows it (found in %" PRIu64 " tries)\n", f.search_tries);
    } else {
      std::printf("not deterministic: no controlled schedule in %" PRIu64 " tries; replay under real threads\n",
                  f.search_tries);
    }
  }
  if (f.artifact.empty()) {
    PrintUnsaved(f.artifact_error, f.program);
  } else {
    std::printf("artifact: %s\nREPRO: %s\n", f.artifact.c_str(), f.replay.c_str());
  }
  return Interrupted(r->interrupted, r->rounds, "rounds", kExitFinding);
}

// The replay flags of a program file that carries its schedule, backend and
// io: the mutant's alone, after the command as it was run.
ReplayFlags MutantFlags(const CliOptions& o, Mutant mutant) {
  ReplayFlags flags;
  flags.program = o.soak.program;
  flags.mutant = mutant;
  return flags;
}

std::string Stem(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  const size_t dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

int RunReplay(const CliOptions& o) {
  std::optional<Mutant> mutant = ParseMutant(o.mutant);
  if (!mutant) return kExitUsage;
  ReplayOptions ro = o.replay;
  ro.target = *TargetFromName(o.target);  // checked by CLI11
  ro.mutant = *mutant;
  ro.schedule = *ScheduleFromName(o.replay_schedule);  // checked by CLI11
  if (OnHostKernel(ro.target) && !o.schedule_given) ro.schedule = Schedule::kFree;
  if (!CheckKernelFlags(o, ro.target, ro.schedule)) return kExitUsage;
  ro.backend = o.backend;
  ro.io = o.io;
  ro.dir = o.soak.dir;
  if ((o.trace || !o.html.empty()) && ro.schedule != Schedule::kControlled) {
    std::fprintf(stderr, "pagerace: --trace and --html need the controlled schedule\n");
    return kExitUsage;
  }
  int code = kExitOk;
  int stopped = 0;     // the signal of a stop request, once a replay saw one
  uint64_t runs = 0;   // over every file
  InstallStopHandlers();
  for (const std::string& path : o.files) {
    if (stopped != 0) break;
    Result<Program> program = LoadProgram(path, InputKind(o));
    if (!program.ok()) return Fail(program.status());
    if (ro.target == TargetKind::kModel) NoteOverrides(o, *program);
    sched::Trace trace;
    ro.trace = o.trace || !o.html.empty() ? &trace : nullptr;
    Result<ReplayResult> r = Replay(*program, ro);
    if (!r.ok()) return Fail(r.status());
    stopped = r->interrupted;
    runs += r->runs;
    if (r->found) {
      // The program as given showed nothing; a searched schedule does.
      const CheckReport& rep = *r->violating;
      Result<std::string> saved = WriteArtifact(
          o.soak.artifacts_dir, Stem(path) + "-controlled",
          {"pagerace finding: " + rep.violations.front().ToString(), "mutant: " + o.mutant,
           "a controlled schedule for " + path + ", found by replay in " + std::to_string(r->runs) + " runs"},
          *r->found);
      std::printf("%s: reproduced with a searched controlled schedule (%u runs): %s (%zu violations)\n",
                  path.c_str(), r->runs, rep.violations.front().ToString().c_str(), rep.total);
      if (saved.ok()) {
        std::printf("deterministic artifact: %s\nREPRO: %s\n", saved->c_str(),
                    ReplayCommand(MutantFlags(o, *mutant), *saved).c_str());
      } else {
        PrintUnsaved(saved.status().message(), *r->found);
      }
      code = kExitFinding;
      continue;
    }
    const CheckReport empty;
    const CheckReport& rep = r->violating ? *r->violating : empty;
    if (ro.trace != nullptr) {
      if (o.trace) std::fputs(RenderSwimlane(*program, trace, rep).c_str(), stdout);
      if (!o.html.empty()) {
        Status st = WriteFileAtomic(o.html, RenderHtml(*program, trace, rep));
        if (!st.ok()) return Fail(st);
      }
    }
    if (r->violating) {
      std::printf("%s: reproduced on run %u: %s (%zu violations)\n", path.c_str(), r->runs,
                  rep.violations.front().ToString().c_str(), rep.total);
      code = kExitFinding;
    } else {
      std::printf("%s: no violation in %u runs\n", path.c_str(), r->runs);
    }
  }
  return Interrupted(stopped, runs, "runs", code);
}

int RunExplore(CliOptions& o) {
  std::optional<Mutant> mutant = ParseMutant(o.mutant);
  if (!mutant) return kExitUsage;
  ExploreOptions& eo = o.explore;
  eo.mutant = *mutant;
  eo.backend = o.backend;
  eo.io = o.io;
  eo.dir = o.soak.dir;
  Result<Program> program = LoadProgram(o.input, InputKind(o));
  if (!program.ok()) return Fail(program.status());
  NoteOverrides(o, *program);
  InstallStopHandlers();
  Result<ExploreResult> r = Explore(*program, eo);
  if (!r.ok()) return Fail(r.status());
  std::printf("pagerace explore: %" PRIu64 " schedules with at most %u preemptions (%s), %" PRIu64
              " violating\n",
              r->schedules, eo.preemptions, r->complete ? "all of them" : "stopped before all",
              r->violating);
  if (!r->first_report) return Interrupted(r->interrupted, r->schedules, "schedules", kExitOk);
  std::printf("FINDING (%u preemptions): %s\n", r->first_preemptions,
              r->first_report->violations.front().ToString().c_str());
  if (!r->first) {
    std::printf("(the schedule has too many decisions for a program file)\n");
    return Interrupted(r->interrupted, r->schedules, "schedules", kExitFinding);
  }
  Result<std::string> saved = WriteArtifact(
      o.soak.artifacts_dir, Stem(o.input) + "-explored",
      {"pagerace finding: " + r->first_report->violations.front().ToString(), "mutant: " + o.mutant,
       "found by: pagerace explore --preemptions " + std::to_string(eo.preemptions) + " " + o.input +
           " (schedule " + std::to_string(r->schedules) + ")"},
      *r->first);
  if (!saved.ok()) {
    PrintUnsaved(saved.status().message(), *r->first);
    return Interrupted(r->interrupted, r->schedules, "schedules", kExitFinding);
  }
  std::printf("artifact: %s\nREPRO: %s\n", saved->c_str(), ReplayCommand(MutantFlags(o, *mutant), *saved).c_str());
  return Interrupted(r->interrupted, r->schedules, "schedules", kExitFinding);
}

// "  label:   text", the text wrapped at spaces to `kListWidth` columns under
// its first word.
std::string Field(const char* label, std::string_view text) {
  constexpr size_t kListWidth = 80, kIndent = 11;
  std::string out = std::string("  ") + label + ":";
  out.resize(kIndent, ' ');
  size_t column = kIndent;
  bool first = true;
  for (size_t i = 0; i < text.size();) {
    const size_t end = std::min(text.find(' ', i), text.size());
    const std::string_view word = text.substr(i, end - i);
    i = end + 1;
    if (word.empty()) continue;
    if (!first && column + 1 + word.size() > kListWidth) {
      out += "\n" + std::string(kIndent, ' ');
      column = kIndent;
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  return out + "\n";
}

int RunMutants(const CliOptions& o) {
  for (const MutantInfo& m : MutantTable()) {
    if (!o.long_list) {
      std::printf("%s\n", m.name);
      continue;
    }
    const std::string entry = std::string(m.name) + "\n" + Field("commit", m.commit) + Field("race", m.race) +
                              Field("symptom", m.symptom);
    std::fputs(entry.c_str(), stdout);
  }
  return kExitOk;
}

int RunDecode(const CliOptions& o) {
  Result<Program> program = LoadProgram(o.input, InputKind(o));
  if (!program.ok()) return Fail(program.status());
  std::fputs(PrintText(*program).c_str(), stdout);
  return kExitOk;
}

int RunEncode(const CliOptions& o) {
  Result<Program> program = LoadProgram(o.input);
  if (!program.ok()) return Fail(program.status());
  std::vector<uint8_t> bytes = EncodeFile(*program);
  Status st = WriteFileAtomic(o.output, std::string(bytes.begin(), bytes.end()));
  return st.ok() ? kExitOk : Fail(st);
}

// Numeric flags are checked on their text, before CLI11 converts it, so that
// each mistake gets plain words ("--threads: must be 1 to 8, got 9",
// "--duration: not a number: abc"); the text is then rewritten as the value
// read, so that CLI11 converts exactly that (never "010" as octal). Given to
// transform(), not check(), which would throw the rewrite away.

// A whole number of type T in [lo, hi], decimal or 0x hex: a negative one,
// or one past what T holds, is out of range like any other.
template <typename T>
CLI::Validator WholeNumber(T lo, T hi = std::numeric_limits<T>::max()) {
  constexpr T kMax = std::numeric_limits<T>::max();
  const std::string range = hi != kMax ? std::to_string(lo) + " to " + std::to_string(hi)
                            : lo != 0   ? ">= " + std::to_string(lo)
                                        : "";  // all that T holds: the type name says it
  auto check = [lo, hi, range](std::string& s) -> std::string {
    std::string_view digits = s;
    const bool minus = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      digits.remove_prefix(2);
      base = 16;
    }
    T value{};
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    const bool whole = !digits.empty() && end == digits.data() + digits.size() &&
                       (ec == std::errc() || ec == std::errc::result_out_of_range);
    if (!whole) return "not a whole number: " + s;
    const bool fits = ec == std::errc();
    const bool negative = minus && !(fits && value == 0);  // "-0" is 0
    const bool below = negative || (fits && value < lo);
    const bool above = !negative && (!fits || value > hi);
    if (below && hi == kMax) return "must be >= " + std::to_string(lo) + ", got " + s;
    if (above && hi == kMax) return "must be at most " + std::to_string(hi) + ", got " + s;
    if (below || above) return "must be " + range + ", got " + s;
    s = std::to_string(value);
    return std::string();
  };
  return CLI::Validator(check, range);
}

// A finite number of seconds, > 0 (or >= 0 with zero_ok).
CLI::Validator Seconds(bool zero_ok) {
  const std::string range = zero_ok ? ">= 0" : "> 0";
  auto check = [zero_ok, range](std::string& s) -> std::string {
    std::string_view text = s;
    if (!text.empty() && text[0] == '+') text.remove_prefix(1);
    // Decimal only (no hex, inf or nan): strtod, since libc++ 14 (the fuzz
    // builds') has no floating-point from_chars.
    const bool decimal = !text.empty() && text.find_first_not_of("0123456789.eE+-") == std::string_view::npos;
    const std::string digits(text);
    char* end = nullptr;
    errno = 0;
    const double value = decimal ? std::strtod(digits.c_str(), &end) : 0;
    if (!decimal || end != digits.c_str() + digits.size()) return "not a number: " + s;
    if (errno == ERANGE || std::isinf(value)) return "out of range: " + s;
    if (zero_ok ? value < 0 : value <= 0) return "must be " + range + ", got " + s;
    char out[32];
    std::snprintf(out, sizeof out, "%.17g", value);
    s = out;
    return std::string();
  };
  return CLI::Validator(check, range);
}

// What --help ends with: the exit codes and the environment.
std::string HelpFooter() {
  return "Exit codes:\n"
         "  0    no finding\n"
         "  1    a finding\n"
         "  2    bad usage or input (a flag, a program file)\n"
         "  3    environment error (a directory or file that cannot be made, read or written)\n"
         "  130  interrupted by SIGINT (Ctrl-C)\n"
         "  143  interrupted by SIGTERM\n"
         "Environment:\n"
         "  TMPDIR             where the private temp directory goes without --dir\n"
         "The fuzz targets (targets/), not this command, read:\n"
         "  PAGERACE_MUTANT    the mutant to run (unset: the correct model)\n"
         "  PAGERACE_SCHEDULE  controlled (the default) or free (real threads; the kernel target's only one)\n"
         "  PAGERACE_BACKEND   memory, file or blockmap: every input runs there instead of on its own\n"
         "  PAGERACE_IO        pread or uring: every input's I/O instead of its own\n"
         "  PAGERACE_DIR       parent of the private temp directory (default: $TMPDIR; the kernel target: /tmp)\n";
}

}  // namespace
}  // namespace pagerace

int main(int argc, char** argv) {
  using namespace pagerace;
  CliOptions o;
  std::function<int()> action;  // set by the chosen subcommand, run after parsing
  CLI::App app{"pagerace: fuzzing and stress-testing for page-cache invalidation races"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pagerace 0.1.0");
  app.footer(HelpFooter());  // before the subcommands, which inherit it
  o.soak.program = argc > 0 && argv[0][0] != '\0' ? argv[0] : "pagerace";

  auto mutant_check = CLI::Validator(
      [](std::string& s) { return MutantFromName(s) ? std::string() : "unknown mutant '" + s + "' (see: pagerace mutants)"; },
      "MUTANT");

  auto schedule_check = CLI::Validator(
      [](std::string& s) { return ScheduleFromName(s) ? std::string() : "unknown schedule '" + s + "' (free or controlled)"; },
      "SCHEDULE");
  auto backend_check = CLI::Validator(
      [](std::string& s) {
        return BackendFromName(s) ? std::string() : "unknown backend '" + s + "' (memory, file or blockmap)";
      },
      "BACKEND");
  auto set_backend = [&](const std::string& s) { o.backend = *BackendFromName(s); };  // checked first
  auto set_io = [&](const std::string& s) { o.io = *IoModeFromName(s); };              // checked first
  const std::string backend_help =
      "memory, file (real files) or blockmap (files sharing one store through block maps): every program runs on "
      "it instead of its own";
  const std::string io_help = "file and blockmap I/O: pread (pread/pwrite) or uring (io_uring), instead of the "
                              "program's own";
  auto target_check = CLI::Validator(
      [](std::string& s) { return TargetFromName(s) ? std::string() : "unknown target '" + s + "' (model, kernel or fuse)"; },
      "TARGET");
  const std::string target_help =
      "model (the page-cache model), kernel (the host kernel's page cache on real files in --dir) or fuse (the "
      "host kernel's page cache on a FUSE file system that pagerace serves, mounted in --dir)";
  auto io_check = CLI::Validator(
      [](std::string& s) { return IoModeFromName(s) ? std::string() : "unknown io '" + s + "' (pread or uring)"; },
      "IO");

  const std::string raw_help =
      "The files are raw fuzzer inputs (libFuzzer's crash-*, AFL++'s id:* files), decoded as the fuzz targets "
      "decode them";

  CLI::App* soak = app.add_subcommand("soak", "Stress soak: rounds of random multi-threaded programs");
  soak->add_option("--target", o.target, target_help)->check(target_check)->capture_default_str();
  soak->add_option("--threads", o.soak.threads,
                   "Threads per program (--schedule explore: " + std::to_string(kExploreThreads) +
                       "). Without it and --ops-per-thread, the model's soak draws each program's size: at most "
                       "this many threads and ops a thread, half of them with 2 threads, half with at most 4 ops")
      ->transform(WholeNumber<uint32_t>(1, kThreadsMax))->each([&](const std::string&) { o.threads_given = true; })
      ->capture_default_str();
  soak->add_option("--duration", o.soak.duration_s, "Seconds to run")->transform(Seconds(false))->capture_default_str();
  soak->add_option("--ops", o.soak.ops_max, "Stop after this many ops (0: no limit)")
      ->transform(WholeNumber<uint64_t>(0))->capture_default_str();
  soak->add_option("--seed", o.soak.seed, "Seed (default: random, printed)")
      ->transform(WholeNumber<uint64_t>(0))->each([&](const std::string&) { o.seed_given = true; });
  soak->add_option("--dir", o.soak.dir, "Parent of the private temp directory (default: $TMPDIR)");
  soak->add_option("--mutant", o.mutant, "Model mutant to run (see: pagerace mutants)")->check(mutant_check);
  soak->add_option("--artifacts", o.soak.artifacts_dir, "Where findings are written")->capture_default_str();
  soak->add_option("--json", o.json, "Write a JSON summary here");
  auto soak_schedule_check = CLI::Validator(
      [](std::string& s) {
        return ScheduleFromName(s) || s == kExploreSchedule
                   ? std::string()
                   : "unknown schedule '" + s + "' (free, controlled or explore)";
      },
      "SCHEDULE");
  soak->add_option("--schedule", o.schedule,
                   "free (real threads), controlled (fibers; the seed fixes the run) or explore (every schedule of "
                   "each program with at most --preemptions preemptions)")
      ->check(soak_schedule_check)->each([&](const std::string&) { o.schedule_given = true; })
      ->capture_default_str();
  auto strategy_check = CLI::Validator(
      [](std::string& s) {
        const std::optional<Strategy> st = StrategyFromName(s);
        return st && *st != Strategy::kDirected ? std::string() : "unknown strategy '" + s + "' (random or pct)";
      },
      "STRATEGY");
  soak->add_option_function<std::string>(
          "--strategy", [&](const std::string& s) { o.soak.strategy = *StrategyFromName(s); o.strategy_given = true; },
          "Controlled schedule: random (a random runnable thread at each step) or pct (PCT, Burckhardt et al.; "
          "default random)")
      ->check(strategy_check);
  soak->add_option_function<uint32_t>(
          "--pct-depth", [&](uint32_t d) { o.soak.pct_depth = static_cast<uint8_t>(d); o.pct_depth_given = true; },
          "PCT depth d (d - 1 priority change points; default 3)")
      ->transform(WholeNumber<uint32_t>(1, kPctDepthMax));
  soak->add_option("--preemptions", o.soak.preemptions, "Explore: K, preemptions per schedule")
      ->transform(WholeNumber<uint32_t>(0, 16))->each([&](const std::string&) { o.explore_given = true; })
      ->capture_default_str();
  soak->add_option("--max-schedules", o.soak.schedules_per_program,
                   "Explore: schedules per program at most (the rest of a larger program's are skipped)")
      ->transform(WholeNumber<uint64_t>(1))->each([&](const std::string&) { o.explore_given = true; })
      ->capture_default_str();
  soak->add_option_function<std::string>("--backend", set_backend,
                                         backend_help + " (default: drawn with each swarm)")
      ->check(backend_check);
  soak->add_option_function<std::string>("--io", set_io, io_help + " (default: drawn with each swarm; --target "
                                                                   "kernel: pread)")
      ->check(io_check);
  soak->add_option_function<std::string>(
          "--fuse-mount", [&](const std::string& s) { o.soak.fuse_mount = *FuseMountFromName(s); },
          "--target fuse: every program mounts with these options instead of a set drawn with each swarm: none, or "
          "writeback_cache, auto_inval_data and max_read=4096, in that order, joined by commas")
      ->check(CLI::Validator(
          [](std::string& s) {
            return FuseMountFromName(s) ? std::string()
                                        : "unknown mount options '" + s + "' (e.g. none, writeback_cache, "
                                          "writeback_cache,auto_inval_data,max_read=4096)";
          },
          "OPTIONS"));
  soak->add_option("--search-seconds", o.soak.search_s,
                   "Free-mode finding: seconds to search for a controlled schedule that shows it")
      ->transform(Seconds(true))->capture_default_str();
  soak->add_option("--swarm-programs", o.soak.swarm_programs,
                   "Programs per swarm (the op kinds in use and their weights, the backend and io), printed when "
                   "drawn; "
                   "0: a new swarm per program, not printed (--schedule explore: 0)")
      ->transform(WholeNumber<uint32_t>(0))->each([&](const std::string&) { o.swarm_programs_given = true; })
      ->capture_default_str();
  soak->add_option("--mix", o.mix,
                   "A fixed op mix instead of swarms, e.g. read=6,write=4,punch=1 (kinds not named are off)");
  soak->add_option("--ops-per-thread", o.soak.ops_per_thread,
                   "Most ops per thread in a program (--target kernel: " + std::to_string(kKernelOpsPerThread) +
                       "; --schedule explore: " + std::to_string(kExploreOpsPerThread) + ")")
      ->transform(WholeNumber<uint32_t>(1, kOpsMax))->each([&](const std::string&) { o.ops_per_thread_given = true; })
      ->capture_default_str();
  soak->add_option("--jitter", o.soak.jitter,
                   "Free schedule: chance in 1024 of a pause at each scheduling point (the model's race windows; "
                   "the kernel target: op starts); 0: none")
      ->transform(WholeNumber<uint32_t>(0, 1024))->capture_default_str();
  soak->callback([&] { action = [&] { return RunSoak(o); }; });

  CLI::App* replay = app.add_subcommand(
      "replay", "Run programs (text or binary) under their controlled schedule, or until their violation shows");
  replay->add_option("files", o.files, "Program files: text (artifacts) or binary (pagerace encode)")
      ->required()->check(CLI::ExistingFile);
  replay->add_option("--target", o.target, target_help)->check(target_check)->capture_default_str();
  replay->add_option("--mutant", o.mutant, "Model mutant to run")->check(mutant_check);
  replay->add_option("--runs", o.replay.runs,
                     "Runs per file before giving up (controlled: schedules searched when the file's shows nothing)")
      ->transform(WholeNumber<uint32_t>(1, 100'000'000))->capture_default_str();
  replay->add_option("--duration", o.replay.duration_s, "Seconds per file before giving up")
      ->transform(Seconds(false))->capture_default_str();
  replay->add_option("--schedule", o.replay_schedule,
                     "controlled (the file's schedule, exactly) or free (real threads; the kernel target's)")
      ->check(schedule_check)->each([&](const std::string&) { o.schedule_given = true; })->capture_default_str();
  replay->add_option_function<std::string>("--backend", set_backend, backend_help + " (default: the file's)")
      ->check(backend_check);
  replay->add_option_function<std::string>("--io", set_io, io_help + " (default: the file's; --target kernel: pread)")
      ->check(io_check);
  replay->add_flag("--raw", o.raw, raw_help);
  replay->add_flag("--trace", o.trace, "Print the run as a swimlane: one column per thread");
  replay->add_option("--html", o.html, "Write the run as a self-contained HTML timeline here");
  replay->add_option("--artifacts", o.soak.artifacts_dir, "Where a searched schedule is written")->capture_default_str();
  replay->add_option("--dir", o.soak.dir, "Parent of the private temp directory (default: $TMPDIR)");
  replay->callback([&] { action = [&] { return RunReplay(o); }; });

  CLI::App* explore = app.add_subcommand(
      "explore", "Run every interleaving of a small program with at most K preemptions; stop at a violation");
  explore->add_option("file", o.input, "Program file (text or binary)")->required()->check(CLI::ExistingFile);
  explore->add_flag("--raw", o.raw, raw_help);
  explore->add_option("--preemptions", o.explore.preemptions, "K: preemptions per schedule")
      ->transform(WholeNumber<uint32_t>(0, 16))->capture_default_str();
  explore->add_option("--mutant", o.mutant, "Model mutant to run")->check(mutant_check);
  explore->add_flag("--all", o.explore.all, "Count every violating schedule instead of stopping at the first");
  explore->add_option("--max-schedules", o.explore.schedules_max, "Stop after this many schedules")
      ->transform(WholeNumber<uint64_t>(1))->capture_default_str();
  explore->add_option("--duration", o.explore.duration_s, "Stop after this many seconds")
      ->transform(Seconds(false))->capture_default_str();
  explore->add_option_function<std::string>("--backend", set_backend, backend_help + " (default: the file's)")
      ->check(backend_check);
  explore->add_option_function<std::string>("--io", set_io, io_help + " (default: the file's)")->check(io_check);
  explore->add_option("--artifacts", o.soak.artifacts_dir, "Where the first violating schedule is written")
      ->capture_default_str();
  explore->add_option("--dir", o.soak.dir, "Parent of the private temp directory (default: $TMPDIR)");
  explore->callback([&] { action = [&] { return RunExplore(o); }; });

  CLI::App* mutants = app.add_subcommand("mutants", "List the model mutants, one per line");
  mutants->add_flag("--long", o.long_list, "Add each one's kernel commit, race and expected symptom");
  mutants->callback([&] { action = [&] { return RunMutants(o); }; });

  CLI::App* decode = app.add_subcommand("decode", "Print a program file (binary or text) as text");
  decode->add_option("file", o.input, "Program file (text or binary)")->required()->check(CLI::ExistingFile);
  decode->add_flag("--raw", o.raw, raw_help);
  decode->callback([&] { action = [&] { return RunDecode(o); }; });

  CLI::App* encode = app.add_subcommand(
      "encode", "Write a program file as a binary program file: the magic, then the fuzzer format");
  encode->add_option("file", o.input, "Program file (text, or binary to rewrite)")->required()
      ->check(CLI::ExistingFile);
  encode->add_option("-o,--output", o.output, "Binary program file to write")->required();
  encode->callback([&] { action = [&] { return RunEncode(o); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return action();
}
