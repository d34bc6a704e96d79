// Tests that a stop request ends a soak and a replay as a spent budget does,
// and that the result and the soak's JSON name the signal (null when none
// came); and that the soak times its ops apart from the rest of its rounds.
#include "harness/run/soak.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "harness/base/interrupt.h"
#include "harness/run/artifact.h"

namespace pagerace {
namespace {

Result<SoakResult> QuietSoak(const SoakOptions& options) {
  std::FILE* out = std::fopen("/dev/null", "w");
  Result<SoakResult> r = Soak(options, out);
  std::fclose(out);
  return r;
}

TEST(SoakTest, AStopRequestEndsItAndTheJsonNamesTheSignal) {
  SoakOptions so;
  so.backend = BackendKind::kMemory;
  so.duration_s = 600;
  {
    ScopedStopForTesting stop(SIGINT);
    Result<SoakResult> r = QuietSoak(so);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->rounds, 0u);
    EXPECT_EQ(r->interrupted, SIGINT);
    EXPECT_FALSE(r->finding.has_value());
    const std::string json = SoakJson(so, *r);
    EXPECT_NE(json.find(", \"interrupted\": \"SIGINT\"}"), std::string::npos) << json;
  }
  so.ops_max = 100;
  Result<SoakResult> r = QuietSoak(so);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->rounds, 0u);
  EXPECT_EQ(r->interrupted, 0);
  const std::string json = SoakJson(so, *r);
  EXPECT_NE(json.find(", \"interrupted\": null}"), std::string::npos) << json;
}

TEST(SoakTest, TimesTheOpsApartFromTheResetAndCheck) {
  for (Schedule schedule : {Schedule::kFree, Schedule::kControlled}) {
    SCOPED_TRACE(ScheduleName(schedule));
    SoakOptions so;
    so.backend = BackendKind::kMemory;
    so.schedule = schedule;
    so.seed = 1;
    so.ops_max = 2000;
    so.duration_s = 600;
    Result<SoakResult> r = QuietSoak(so);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_GE(r->ops, so.ops_max);
    // Every round resets and checks besides its ops: a share of the time.
    EXPECT_GT(r->ops_duration_s, 0);
    EXPECT_LT(r->ops_duration_s, r->duration_s);
    char field[64];
    std::snprintf(field, sizeof field, "\"ops_duration_s\": %.3f, ", r->ops_duration_s);
    const std::string json = SoakJson(so, *r);
    EXPECT_NE(json.find(field), std::string::npos) << json;
  }
}

TEST(SoakTest, AStopRequestEndsAReplayUnderEitherSchedule) {
  Result<Program> p = LoadProgram(std::string(PAGERACE_SOURCE_DIR) + "/corpus/pagecache_fuzzer/all_ops.txt");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  for (Schedule schedule : {Schedule::kFree, Schedule::kControlled}) {
    SCOPED_TRACE(ScheduleName(schedule));
    ScopedStopForTesting stop(SIGTERM);
    ReplayOptions ro;
    ro.schedule = schedule;
    ro.runs = 100'000'000;
    ro.duration_s = 600;
    Result<ReplayResult> r = Replay(*p, ro);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->runs, 0u);
    EXPECT_FALSE(r->violating.has_value());
    EXPECT_EQ(r->interrupted, SIGTERM);
  }
}

}  // namespace
}  // namespace pagerace
