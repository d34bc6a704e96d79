// Tests the executor end to end on the correct model: a fixed program's
// history is complete and checks clean; many generated multi-threaded
// programs check clean on the backends their swarms draw (the oracle's
// zero-false-positive promise, in small); each program runs on its own
// backend and io, on a target made once and kept, with a private directory
// only once real files are needed, unless an override says otherwise; and a
// history the cache could not have produced is flagged, so the pipeline from
// run to checker is live. A stop request ends a controlled run, and gives up
// on a hung free one (whose private directory still goes at exit).
#include "harness/run/executor.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "harness/base/interrupt.h"
#include "harness/base/rng.h"
#include "harness/program/generate.h"
#include "harness/program/text.h"
#include "harness/run/artifact.h"
#include "harness/run/explore.h"
#include "harness/run/trace_render.h"

namespace pagerace {
namespace {

// `backend` overrides the programs' own; unset, each runs on its own.
std::unique_ptr<Executor> MakeExecutor(Mutant mutant = Mutant::kNone, Schedule schedule = Schedule::kFree,
                                       std::optional<BackendKind> backend = BackendKind::kFile) {
  ExecutorOptions o;
  o.mutant = mutant;
  o.schedule = schedule;
  o.backend = backend;
  auto exec = Executor::Create(o);
  EXPECT_TRUE(exec.ok()) << exec.status().ToString();
  return std::move(*exec);
}

TEST(ExecutorTest, FixedProgramRecordsEveryOpAndChecksClean) {
  Result<Program> p = ParseText(
      "pagerace 1\nfiles 2\nfile-pages 4\nra-pages 2\n"
      "thread 0\nwrite f0 s0+16\nread f0 s0+16\npunch f0 s3+6\nread f0 s0+16\n"
      "thread 1\nwrite f1 s8+8\nreadahead f1 s0+32\nevict f1 s0+32\nread f1 s0+32\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto exec = MakeExecutor();
  Result<RunOutcome> out = exec->Run(*p);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->ops, 8u);
  EXPECT_TRUE(out->report.ok()) << out->report.violations.front().ToString();
  // 8 ops, then the end-of-run reads: the backend pass reads the pages that
  // were written or punched, one range per file: f0 pages 0-1, f1 page 1
  // (pages 0, 2 and 3 of f1 were only read: they hold what they began with).
  size_t ops = 0, backend_reads = 0;
  for (const OpRecord& r : out->history) {
    if (r.thread != kFinalThread) ++ops;
    if (r.thread == kFinalThread && r.index == static_cast<uint16_t>(FinalPass::kBackend)) {
      ++backend_reads;
      EXPECT_EQ(r.sector, r.file == 0 ? 0u : 8u) << "file " << int{r.file};
      EXPECT_EQ(r.count, r.file == 0 ? 16u : 8u) << "file " << int{r.file};
    }
  }
  EXPECT_EQ(ops, 8u);
  EXPECT_EQ(backend_reads, 2u);
  // The last read of thread 0 saw the punch: zeros in sectors 3..8.
  for (const OpRecord& r : out->history) {
    if (r.thread == 0 && r.index == 3) {
      for (uint32_t s = 3; s < 9; ++s) EXPECT_EQ(r.observed[s].kind, SectorTag::kZero) << s;
      EXPECT_EQ(r.observed[0].kind, SectorTag::kWhole);
    }
  }
}

// 300 generated 4-thread programs on the correct model, each on the backend
// its swarm drew: no finding.
void ExpectGeneratedProgramsClean(Schedule schedule, uint64_t seed) {
  auto exec = MakeExecutor(Mutant::kNone, schedule, std::nullopt);
  Rng rng(seed);
  uint32_t backends = 0;  // bit per backend run on
  for (int round = 0; round < 300; ++round) {
    Program p = Generate(rng, {.threads = 4, .ops_per_thread = 10});
    backends |= 1u << static_cast<uint32_t>(p.backend);
    Result<RunOutcome> out = exec->Run(p);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE(out->report.ok()) << "round " << round << ": " << out->report.violations.front().ToString()
                                  << "\n" << PrintText(p);
  }
  EXPECT_EQ(backends, (1u << kBackendKinds) - 1);
}

// The entries of `dir` (not . and ..).
int Entries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  closedir(d);
  return n;
}

TEST(ExecutorTest, EachProgramRunsOnItsOwnBackendAndTargetsAreKept) {
  char tmpl[] = "/tmp/pagerace-executor-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    ExecutorOptions o;
    o.schedule = Schedule::kControlled;
    o.dir = dir;
    Result<std::unique_ptr<Executor>> exec = Executor::Create(o);
    ASSERT_TRUE(exec.ok()) << exec.status().ToString();
    using Facts = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ((*exec)->Facts(), (Facts{{"backend", "per program"}, {"io", "per program"}}));
    Result<Program> p = ParseText("pagerace 1\nfiles 2\nthread 0\nwrite f0 s0+8\npunch f0 s0+8\nwrite f1 s0+8\n"
                                  "thread 1\nread f0 s0+8\n");
    ASSERT_TRUE(p.ok());
    // Memory needs no files: nothing is made in `dir` yet.
    ASSERT_TRUE((*exec)->Run(*p).ok());
    EXPECT_EQ((*exec)->RunFacts(), (Facts{{"backend", "memory"}}));
    EXPECT_EQ(Entries(dir), 0);
    p->backend = BackendKind::kBlockmap;
    for (int i = 0; i < 2; ++i) {
      Result<RunOutcome> out = (*exec)->Run(*p);
      ASSERT_TRUE(out.ok());
      EXPECT_TRUE(out->report.ok());
      EXPECT_EQ((*exec)->RunFacts(), (Facts{{"backend", "blockmap"}, {"io", "pread"}}));
      EXPECT_EQ(Entries(dir), 1) << "one private directory, made once and kept";
    }
    p->backend = BackendKind::kFile;
    p->io = IoMode::kUring;
    ASSERT_TRUE((*exec)->Run(*p).ok());
    EXPECT_EQ((*exec)->RunFacts(), (Facts{{"backend", "file"}, {"io", "uring"}}));
    EXPECT_EQ(Entries(dir), 2);
    // Back to memory: the memory target made first serves again.
    p->backend = BackendKind::kMemory;
    ASSERT_TRUE((*exec)->Run(*p).ok());
    EXPECT_EQ((*exec)->RunFacts(), (Facts{{"backend", "memory"}}));
    EXPECT_EQ(Entries(dir), 2);
  }
  EXPECT_EQ(Entries(dir), 0) << "the targets remove their directories";
  rmdir(dir.c_str());
}

TEST(ExecutorTest, AnOverrideRunsEveryProgramOnIt) {
  ExecutorOptions o;
  o.schedule = Schedule::kControlled;
  o.backend = BackendKind::kBlockmap;
  Result<std::unique_ptr<Executor>> exec = Executor::Create(o);
  ASSERT_TRUE(exec.ok());
  using Facts = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ((*exec)->Facts(), (Facts{{"backend", "blockmap"}, {"io", "per program"}}));
  Program p;
  p.threads = {{Op{OpKind::kWrite, 0, 0, 8}, Op{OpKind::kRead, 0, 0, 8}}};
  for (BackendKind own : {BackendKind::kMemory, BackendKind::kFile}) {
    p.backend = own;
    ASSERT_TRUE((*exec)->Run(p).ok());
    EXPECT_EQ((*exec)->RunFacts(), (Facts{{"backend", "blockmap"}, {"io", "pread"}}));
  }
  const Program overridden = WithOverrides(p, BackendKind::kBlockmap, std::nullopt);
  EXPECT_EQ(overridden.backend, BackendKind::kBlockmap);
  EXPECT_EQ(overridden.io, p.io);
  EXPECT_EQ(WithOverrides(p, std::nullopt, std::nullopt), p);
}

TEST(ExecutorTest, GeneratedProgramsCheckCleanOnTheCorrectModel) {
  ExpectGeneratedProgramsClean(Schedule::kFree, 2024);
}

TEST(ExecutorTest, PrefilledFilesStartWithGenerationOne) {
  Result<Program> p = ParseText(
      "pagerace 1\nfile-pages 2\nprefill 1\nthread 0\nread f0 s0+16\npunch f0 s2+3\nread f0 s0+16\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto exec = MakeExecutor();
  Result<RunOutcome> out = exec->Run(*p);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->report.ok()) << out->report.violations.front().ToString();
  ASSERT_EQ(out->history.front().thread, kSetupThread);
  for (const OpRecord& r : out->history) {
    if (r.thread != 0 || r.kind != OpKind::kRead) continue;
    for (uint32_t s = 0; s < 16; ++s) {
      const bool punched = r.index == 2 && s >= 2 && s < 5;
      EXPECT_EQ(r.observed[s].kind, punched ? SectorTag::kZero : SectorTag::kWhole) << r.index << " " << s;
      if (!punched) {
        EXPECT_EQ(r.observed[s].gen, kPrefillGen);
      }
    }
  }
  // Reading zeros where the prefill is expected is caught.
  for (OpRecord& r : out->history)
    if (r.thread == 0 && r.index == 0) r.observed[7] = SectorTag{};
  EXPECT_FALSE(CheckHistory(out->history).ok());
}

TEST(ExecutorTest, PoolGrowsAndShrinksBetweenRuns) {
  // Workers made while earlier runs have happened must join the next run
  // exactly once (a hang or a double run here is an executor bug).
  auto exec = MakeExecutor();
  for (uint32_t threads : {1u, 8u, 3u, 8u, 2u}) {
    Program p;
    p.threads.assign(threads, {Op{OpKind::kRead, 0, 0, 8}, Op{OpKind::kWrite, 0, 8, 8}});
    Result<RunOutcome> out = exec->Run(p);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->ops, 2u * threads);
    EXPECT_TRUE(out->report.ok());
  }
}

// What a run did, as text: every record's stamps and what each read saw.
std::string Fingerprint(const RunOutcome& out) {
  std::string s;
  for (const OpRecord& r : out.history) {
    s += r.Describe() + " " + std::to_string(r.invoke) + "-" + std::to_string(r.response) + ":";
    for (const SectorTag& t : r.observed) s += " " + std::to_string(t.kind) + "/" + std::to_string(t.gen);
    s += "\n";
  }
  for (const Violation& v : out.report.violations) s += v.ToString() + "\n";
  return s;
}

TEST(ExecutorTest, ControlledRunsAreAFunctionOfTheProgram) {
  auto exec = MakeExecutor(Mutant::kNoInvalidateLockRead, Schedule::kControlled);
  Rng rng(77);
  std::set<std::string> distinct;
  for (int round = 0; round < 20; ++round) {
    Program p = Generate(rng, {.threads = 4, .ops_per_thread = 10});
    Result<RunOutcome> first = exec->Run(p);
    Result<RunOutcome> second = exec->Run(p);
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ(Fingerprint(*first), Fingerprint(*second)) << PrintText(p);
    // Another seed, another interleaving (the stamps differ).
    p.seed ^= 1;
    Result<RunOutcome> other = exec->Run(p);
    ASSERT_TRUE(other.ok());
    distinct.insert(Fingerprint(*first));
    distinct.insert(Fingerprint(*other));
  }
  EXPECT_GT(distinct.size(), 30u);
}

TEST(ExecutorTest, GeneratedProgramsCheckCleanUnderControlledSchedules) {
  ExpectGeneratedProgramsClean(Schedule::kControlled, 4242);
}

TEST(ExecutorTest, ControlledSeedSearchFindsEachMutantOnItsRegression) {
  // The regression programs without their schedules, searched as replay and
  // the soak search them (FindSchedule: PCT of depth 1-3 and random, seed by
  // seed): some schedule shows the race, that schedule shows it again, and
  // the correct model runs it clean. A race four switches deep, as on
  // double-truncate-band-aid's two files, takes thousands of schedules.
  for (const MutantInfo& m : MutantTable()) {
    Result<Program> p = LoadProgram(std::string(PAGERACE_SOURCE_DIR) + "/corpus/regressions/" + m.name + ".txt");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    p->schedule = {};
    p->seed = 0;
    // On the regression's own backend (blockmap where the mutant shows only there).
    SearchOptions so;
    so.tries_max = 50000;
    so.duration_s = 600;
    so.mutant = m.id;
    Result<SearchResult> search = FindSchedule(*p, so);
    ASSERT_TRUE(search.ok()) << search.status().ToString();
    ASSERT_TRUE(search->found.has_value()) << m.name << ": nothing in " << search->tries << " schedules";
    // The finding is one of the symptoms the mutant's table entry names.
    const std::string kind = ViolationKindName(search->report->violations.front().kind);
    EXPECT_NE(std::string(m.symptom).find(kind), std::string::npos) << m.name << ": " << kind;
    auto exec = MakeExecutor(m.id, Schedule::kControlled, std::nullopt);
    auto correct = MakeExecutor(Mutant::kNone, Schedule::kControlled, std::nullopt);
    Result<RunOutcome> once = exec->Run(*search->found);
    Result<RunOutcome> again = exec->Run(*search->found);
    ASSERT_TRUE(once.ok() && again.ok());
    ASSERT_FALSE(once->report.ok()) << m.name;
    EXPECT_EQ(once->report.violations.front().ToString(), search->report->violations.front().ToString()) << m.name;
    EXPECT_EQ(Fingerprint(*once), Fingerprint(*again)) << m.name;
    Result<RunOutcome> fixed = correct->Run(*search->found);  // same schedule, correct model
    ASSERT_TRUE(fixed.ok());
    EXPECT_TRUE(fixed->report.ok()) << m.name;
  }
}

TEST(ExecutorTest, AnAssertionNamesItsPageAndIsDatedByTheRunsClock) {
  // read-folio-unlocked's regression trips ->read_folio's VM_BUG_ON in the
  // middle of the run: the ASSERT names the page and the time it happened,
  // before the end-of-run reads, and takes its place in time order.
  Result<Program> p = LoadProgram(std::string(PAGERACE_SOURCE_DIR) + "/corpus/regressions/read-folio-unlocked.txt");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto exec = MakeExecutor(Mutant::kReadFolioUnlocked, Schedule::kControlled, std::nullopt);
  Result<RunOutcome> out = exec->Run(*p);
  ASSERT_TRUE(out.ok());
  ASSERT_FALSE(out->report.ok());
  const Violation* assertion = nullptr;
  for (const Violation& v : out->report.violations)
    if (v.kind == ViolationKind::kAssert) assertion = &v;
  ASSERT_NE(assertion, nullptr);
  EXPECT_NE(assertion->reader.find(" p0"), std::string::npos) << assertion->reader;
  uint64_t last = 0;
  for (const OpRecord& r : out->history) last = std::max(last, r.response == kStampNever ? 0 : r.response);
  EXPECT_LT(assertion->stamp, last);
  EXPECT_TRUE(std::is_sorted(out->report.violations.begin(), out->report.violations.end(),
                             [](const Violation& a, const Violation& b) { return a.stamp < b.stamp; }));
}

TEST(ExecutorTest, UnfilledMemoryReadsTheSameAloneAndAfterAThousandPrograms) {
  // A run is a function of its program, even where a bug exposes memory that
  // no write filled: the folios a program gets were used by the programs
  // before it, and must not show what those left. The same program, run by
  // a fresh executor and by one that ran 1,000 other programs first (on the
  // same mutant, so their folios hold everything a bug could leave), gives
  // one trace and one verdict: UNINIT, naming the folio.
  Result<Program> p = LoadProgram(std::string(PAGERACE_SOURCE_DIR) + "/corpus/regressions/map-pages-not-uptodate.txt");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto traced = [&](Executor& exec) {
    sched::Trace trace;
    exec.set_hooks({.trace = &trace});
    Result<RunOutcome> out = exec.Run(*p);
    exec.set_hooks({});
    EXPECT_TRUE(out.ok());
    EXPECT_FALSE(out->report.ok());
    if (!out.ok() || out->report.ok()) return std::string();
    EXPECT_EQ(out->report.violations.front().kind, ViolationKind::kUninit);
    return RenderSwimlane(*p, trace, out->report);
  };
  auto alone = MakeExecutor(Mutant::kMapPagesNotUptodate, Schedule::kControlled, std::nullopt);
  const std::string first = traced(*alone);
  auto busy = MakeExecutor(Mutant::kMapPagesNotUptodate, Schedule::kControlled, std::nullopt);
  Rng rng(99);
  for (int i = 0; i < 1000; ++i) {
    Program other = Generate(rng, {});
    other.seed = rng.Next();
    ASSERT_TRUE(busy->Run(other).ok());
  }
  const std::string after = traced(*busy);
  EXPECT_NE(first.find("UNINIT f0 s8"), std::string::npos) << first;
  EXPECT_EQ(first, after);
}

TEST(ExecutorTest, AStopRequestEndsAControlledRunAndTheNextRunsWhole) {
  Result<Program> p = ParseText("pagerace 1\nthread 0\nwrite f0 s0+8\nthread 1\nread f0 s0+8\n");
  ASSERT_TRUE(p.ok());
  auto exec = MakeExecutor(Mutant::kNone, Schedule::kControlled);
  {
    ScopedStopForTesting stop(SIGTERM);
    Result<RunOutcome> out = exec->Run(*p);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(out->stopped);
    EXPECT_TRUE(out->report.ok());
    EXPECT_EQ(out->ops, 0u);
  }
  Result<RunOutcome> out = exec->Run(*p);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE(out->stopped);
  EXPECT_TRUE(out->report.ok());
  EXPECT_EQ(out->ops, 2u);
}

// The mutant's write through a mapping of its own file waits for itself:
// real threads hang. A stop request gives up on them long before the
// watchdog would (it is set to a minute here); the executor is wedged and
// leaked, and its private directory is removed at exit all the same.
TEST(ExecutorTest, AStopRequestGivesUpOnAHungFreeRunAndItsDirectoryGoesAtExit) {
  Result<Program> p = LoadProgram(std::string(PAGERACE_SOURCE_DIR) + "/corpus/regressions/fault-takes-i-rwsem.txt");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  char parent[] = "/tmp/pagerace-test.XXXXXX";
  ASSERT_NE(mkdtemp(parent), nullptr);
  EXPECT_EXIT(
      {
        ExecutorOptions o;
        o.mutant = Mutant::kFaultTakesIRwsem;
        o.backend = BackendKind::kFile;
        o.dir = parent;
        o.hang_s = 60;
        Result<std::unique_ptr<Executor>> exec = Executor::Create(o);
        if (!exec.ok()) _exit(2);
        RequestStopForTesting(SIGINT);
        Result<RunOutcome> out = (*exec)->Run(*p);
        if (!out.ok() || !out->stopped || !out->report.ok()) _exit(3);
        if (!(*exec)->wedged()) _exit(4);
        static_cast<void>(exec->release());
        std::exit(0);
      },
      testing::ExitedWithCode(0), "");
  EXPECT_EQ(rmdir(parent), 0) << "left in " << parent;
}

TEST(ExecutorTest, TamperedHistoryIsFlagged) {
  Result<Program> p = ParseText("pagerace 1\nthread 0\nwrite f0 s0+8\nread f0 s0+8\n");
  ASSERT_TRUE(p.ok());
  auto exec = MakeExecutor();
  Result<RunOutcome> out = exec->Run(*p);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->report.ok());
  // Pretend the read saw zeros after the write completed.
  for (OpRecord& r : out->history)
    if (r.thread == 0 && r.index == 1) r.observed[2] = SectorTag{};
  CheckReport report = CheckHistory(out->history);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.violations.front().kind, ViolationKind::kStale);
  EXPECT_EQ(report.violations.front().sector, 2u);
}

}  // namespace
}  // namespace pagerace
