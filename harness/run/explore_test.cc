// Tests exploration and schedule search on the regression programs: bounded
// exploration finds each mutant's race and the schedule it writes replays it
// exactly, while on the correct model every schedule within the bound checks
// clean; a search turns a program into one whose controlled schedule shows
// the race; explored schedules are distinct. Each runs on the program's
// backend (the regressions of block-lifetime bugs say blockmap), and an
// override of it is written into what is found, so that it replays with no
// flags. A stop request ends exploration and search, and says so.
#include "harness/run/explore.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <string>

#include "harness/base/interrupt.h"
#include "harness/run/artifact.h"
#include "harness/run/soak.h"

namespace pagerace {
namespace {

Program Regression(const char* name) {
  Result<Program> p = LoadProgram(std::string(PAGERACE_SOURCE_DIR) + "/corpus/regressions/" + name + ".txt");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

// `program` shows `report`'s first violation again on its own backend, and a
// program on memory on the file backend too (the same verdicts, through real
// files).
void ExpectReplays(const Program& program, Mutant mutant, const CheckReport& report) {
  ReplayOptions ro;
  ro.mutant = mutant;
  ro.runs = 1;
  for (std::optional<BackendKind> backend : {std::optional<BackendKind>(), std::optional(BackendKind::kFile)}) {
    if (backend && program.backend != BackendKind::kMemory) continue;
    ro.backend = backend;
    Result<ReplayResult> again = Replay(program, ro);
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(again->violating.has_value());
    EXPECT_EQ(again->violating->violations.front().ToString(), report.violations.front().ToString());
  }
}

TEST(ExploreTest, FindsEachMutantWithinThreePreemptionsAndTheScheduleReplays) {
  for (const MutantInfo& m : MutantTable()) {
    SCOPED_TRACE(m.name);
    const Program p = Regression(m.name);
    ExploreOptions eo;
    eo.preemptions = 3;
    eo.mutant = m.id;
    Result<ExploreResult> r = Explore(p, eo);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->first_report.has_value());
    EXPECT_EQ(r->violating, 1u);  // stops at the first
    EXPECT_LE(r->first_preemptions, 3u);
    ASSERT_TRUE(r->first.has_value());
    EXPECT_EQ(r->first->schedule.strategy, Strategy::kDirected);
    // The written schedule shows the same violation, on its backend (the regression's).
    ExpectReplays(*r->first, m.id, *r->first_report);
  }
}

TEST(ExploreTest, CorrectModelIsCleanOverEveryScheduleWithinTheBound) {
  for (const MutantInfo& m : MutantTable()) {
    SCOPED_TRACE(m.name);
    ExploreOptions eo;
    eo.preemptions = 2;  // ctest's explore/<mutant>/correct goes to three
    eo.all = true;
    const Program p = Regression(m.name);
    Result<ExploreResult> r = Explore(p, eo);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->complete);
    if (p.threads.size() > 1) {
      EXPECT_GT(r->schedules, 10u);
    }
    EXPECT_EQ(r->violating, 0u);
  }
}

TEST(ExploreTest, AnOverrideOfTheBackendIsWrittenIntoTheSchedule) {
  const Program p = Regression("no-invalidate-lock-read");
  ASSERT_EQ(p.backend, BackendKind::kMemory);
  ExploreOptions eo;
  eo.preemptions = 2;
  eo.mutant = Mutant::kNoInvalidateLockRead;
  eo.backend = BackendKind::kBlockmap;
  eo.io = IoMode::kUring;
  Result<ExploreResult> r = Explore(p, eo);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->first.has_value());
  EXPECT_EQ(r->first->backend, BackendKind::kBlockmap);
  EXPECT_EQ(r->first->io, IoMode::kUring);
  ExpectReplays(*r->first, eo.mutant, *r->first_report);

  Program unscheduled = p;
  unscheduled.schedule = {};
  SearchOptions so;
  so.mutant = eo.mutant;
  so.backend = BackendKind::kFile;
  Result<SearchResult> found = FindSchedule(unscheduled, so);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->found.has_value());
  EXPECT_EQ(found->found->backend, BackendKind::kFile);
  EXPECT_EQ(found->found->io, IoMode::kPread);
}

TEST(ExploreTest, MorePreemptionsMeanMoreSchedules) {
  const Program p = Regression("no-invalidate-lock-read");
  uint64_t last = 0;
  for (uint32_t k = 0; k <= 2; ++k) {
    ExploreOptions eo;
    eo.preemptions = k;
    Result<ExploreResult> r = Explore(p, eo);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->complete);
    EXPECT_GT(r->schedules, last) << k;
    last = r->schedules;
  }
}

TEST(ExploreTest, AllCountsEveryViolatingSchedule) {
  ExploreOptions eo;
  eo.preemptions = 2;
  eo.all = true;
  eo.mutant = Mutant::kNoInvalidateLockRead;
  Result<ExploreResult> r = Explore(Regression("no-invalidate-lock-read"), eo);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->complete);
  EXPECT_GT(r->violating, 1u);
  EXPECT_LT(r->violating, r->schedules);
}

TEST(ExploreTest, AStopRequestEndsItIncompleteAndSaysSo) {
  ScopedStopForTesting stop(SIGINT);
  Result<ExploreResult> r = Explore(Regression("no-invalidate-lock-read"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->complete);
  EXPECT_EQ(r->schedules, 0u);
  EXPECT_EQ(r->interrupted, SIGINT);
}

TEST(SearchTest, AStopRequestEndsItAndSaysSo) {
  ScopedStopForTesting stop(SIGTERM);
  SearchOptions so;
  so.mutant = Mutant::kNoInvalidateLockRead;
  Result<SearchResult> r = FindSchedule(Regression("no-invalidate-lock-read"), so);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->found.has_value());
  EXPECT_EQ(r->tries, 0u);
  EXPECT_EQ(r->interrupted, SIGTERM);
}

TEST(SearchTest, FindsAControlledScheduleForEachMutantAndNoneOnTheCorrectModel) {
  for (const MutantInfo& m : MutantTable()) {
    SCOPED_TRACE(m.name);
    Program p = Regression(m.name);
    p.schedule = {};
    SearchOptions so;
    so.mutant = m.id;
    Result<SearchResult> r = FindSchedule(p, so);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->found.has_value());
    ExpectReplays(*r->found, m.id, *r->report);

    so.mutant = Mutant::kNone;
    so.tries_max = 300;
    Result<SearchResult> clean = FindSchedule(p, so);
    ASSERT_TRUE(clean.ok());
    EXPECT_FALSE(clean->found.has_value());
    EXPECT_EQ(clean->tries, 300u);
  }
}

}  // namespace
}  // namespace pagerace
