// The pagerace command. Parses and validates flags once (CLI11), then
// delegates to harness/run. Exit codes: 0 no finding, 1 finding, 2 bad usage
// or bad input, 3 environment error. Only this file knows CLI11; its
// exceptions stay here.
#include <CLI/CLI.hpp>

#include <cinttypes>
#include <functional>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "harness/cache/mutant.h"
#include "harness/program/codec.h"
#include "harness/program/text.h"
#include "harness/run/artifact.h"
#include "harness/run/soak.h"

namespace pagerace {
namespace {

constexpr int kExitOk = 0, kExitFinding = 1, kExitUsage = 2, kExitEnvironment = 3;

// Defaults live here, once.
struct CliOptions {
  SoakOptions soak;
  ReplayOptions replay;
  std::string mutant;
  std::string schedule = ScheduleName(Schedule::kFree);
  std::string json;
  bool seed_given = false;
  std::vector<std::string> files;
  bool long_list = false;
  std::string input, output;
};

int Fail(const Status& st) {
  std::fprintf(stderr, "pagerace: %s\n", st.ToString().c_str());
  return st.code() == StatusCode::kIoError ? kExitEnvironment : kExitUsage;
}

// Validates the --mutant name; exit code on failure.
std::optional<Mutant> ParseMutant(const std::string& name) {
  std::optional<Mutant> m = MutantFromName(name);
  if (!m) std::fprintf(stderr, "pagerace: unknown mutant '%s' (see: pagerace mutants)\n", name.c_str());
  return m;
}

int RunSoak(CliOptions& o) {
  std::optional<Mutant> mutant = ParseMutant(o.mutant);
  if (!mutant) return kExitUsage;
  o.soak.mutant = *mutant;
  o.soak.schedule = *ScheduleFromName(o.schedule);  // checked by CLI11
  if (!o.seed_given) o.soak.seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
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
  if (!r->finding) return kExitOk;
  const Finding& f = *r->finding;
  std::printf("FINDING: %s\n", f.violation.ToString().c_str());
  if (f.artifact.empty()) {
    std::printf("(the artifact could not be written; the program:)\n%s", PrintText(f.program).c_str());
  } else {
    std::printf("artifact: %s\nREPRO: %s\n", f.artifact.c_str(), f.replay.c_str());
  }
  return kExitFinding;
}

int RunReplay(const CliOptions& o) {
  std::optional<Mutant> mutant = ParseMutant(o.mutant);
  if (!mutant) return kExitUsage;
  ReplayOptions ro = o.replay;
  ro.mutant = *mutant;
  ro.schedule = *ScheduleFromName(o.schedule);  // checked by CLI11
  ro.dir = o.soak.dir;
  int code = kExitOk;
  for (const std::string& path : o.files) {
    Result<Program> program = LoadProgram(path);
    if (!program.ok()) return Fail(program.status());
    Result<ReplayResult> r = Replay(*program, ro);
    if (!r.ok()) return Fail(r.status());
    if (r->violating) {
      const CheckReport& rep = *r->violating;
      std::printf("%s: reproduced on run %u: %s (%zu violations)\n", path.c_str(), r->runs,
                  rep.violations.front().ToString().c_str(), rep.total);
      code = kExitFinding;
    } else {
      std::printf("%s: no violation in %u runs\n", path.c_str(), r->runs);
    }
  }
  return code;
}

int RunMutants(const CliOptions& o) {
  for (const MutantInfo& m : MutantTable()) {
    if (!o.long_list) {
      std::printf("%s\n", m.name);
      continue;
    }
    std::printf("%s\n  commit:  %s\n  race:    %s\n  symptom: %s\n", m.name, m.commit, m.race, m.symptom);
  }
  return kExitOk;
}

int RunDecode(const CliOptions& o) {
  Result<Program> program = LoadProgram(o.input);
  if (!program.ok()) return Fail(program.status());
  std::fputs(PrintText(*program).c_str(), stdout);
  return kExitOk;
}

int RunEncode(const CliOptions& o) {
  Result<std::string> text = ReadFile(o.input);
  if (!text.ok()) return Fail(text.status());
  Result<Program> program = ParseText(*text);
  if (!program.ok()) {
    std::fprintf(stderr, "%s:%s\n", o.input.c_str(), program.status().message().c_str());
    return kExitUsage;
  }
  std::vector<uint8_t> bytes = Encode(*program);
  Status st = WriteFileAtomic(o.output, std::string(bytes.begin(), bytes.end()));
  return st.ok() ? kExitOk : Fail(st);
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

  auto mutant_check = CLI::Validator(
      [](std::string& s) { return MutantFromName(s) ? std::string() : "unknown mutant '" + s + "' (see: pagerace mutants)"; },
      "MUTANT");

  auto schedule_check = CLI::Validator(
      [](std::string& s) { return ScheduleFromName(s) ? std::string() : "unknown schedule '" + s + "' (free or controlled)"; },
      "SCHEDULE");

  CLI::App* soak = app.add_subcommand("soak", "Stress soak: rounds of random multi-threaded programs");
  soak->add_option("--threads", o.soak.threads, "Threads per program")->check(CLI::Range(1, 8))->capture_default_str();
  soak->add_option("--duration", o.soak.duration_s, "Seconds to run")->check(CLI::PositiveNumber)->capture_default_str();
  soak->add_option("--ops", o.soak.ops_max, "Stop after this many ops (0: no limit)")->capture_default_str();
  soak->add_option("--seed", o.soak.seed, "Seed (default: random, printed)")
      ->each([&](const std::string&) { o.seed_given = true; });
  soak->add_option("--dir", o.soak.dir, "Parent of the private temp directory (default: $TMPDIR)");
  soak->add_option("--mutant", o.mutant, "Model mutant to run (see: pagerace mutants)")->check(mutant_check);
  soak->add_option("--artifacts", o.soak.artifacts_dir, "Where findings are written")->capture_default_str();
  soak->add_option("--json", o.json, "Write a JSON summary here");
  soak->add_option("--schedule", o.schedule, "free (real threads) or controlled (fibers; the seed fixes the run)")
      ->check(schedule_check)->capture_default_str();
  soak->callback([&] { action = [&] { return RunSoak(o); }; });

  CLI::App* replay = app.add_subcommand("replay", "Rerun programs (text or binary) until their violation shows");
  replay->add_option("files", o.files, "Artifacts or fuzzer crash files")->required()->check(CLI::ExistingFile);
  replay->add_option("--mutant", o.mutant, "Model mutant to run")->check(mutant_check);
  replay->add_option("--runs", o.replay.runs, "Runs per file before giving up")
      ->check(CLI::Range(1u, 100'000'000u))->capture_default_str();
  replay->add_option("--duration", o.replay.duration_s, "Seconds per file before giving up")
      ->check(CLI::PositiveNumber)->capture_default_str();
  replay->add_option("--schedule", o.schedule, "free or controlled: how the program was found")
      ->check(schedule_check)->capture_default_str();
  replay->add_option("--dir", o.soak.dir, "Parent of the private temp directory (default: $TMPDIR)");
  replay->callback([&] { action = [&] { return RunReplay(o); }; });

  CLI::App* mutants = app.add_subcommand("mutants", "List the model mutants, one per line");
  mutants->add_flag("--long", o.long_list, "Add each one's kernel commit, race and expected symptom");
  mutants->callback([&] { action = [&] { return RunMutants(o); }; });

  CLI::App* decode = app.add_subcommand("decode", "Print a program file (binary or text) as text");
  decode->add_option("file", o.input, "Program file")->required()->check(CLI::ExistingFile);
  decode->callback([&] { action = [&] { return RunDecode(o); }; });

  CLI::App* encode = app.add_subcommand("encode", "Encode a text program to the binary fuzzer format");
  encode->add_option("file", o.input, "Text program")->required()->check(CLI::ExistingFile);
  encode->add_option("-o,--output", o.output, "Binary output file")->required();
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
