// Tests the controlled scheduler with the sched primitives: one logical
// thread at a time, the same seed gives the same interleaving and other
// seeds give others, mutual exclusion holds, an ABBA lock order is reported
// as a deadlock naming the locks, a spin without progress hits the
// step bound (livelock), and a stop request ends a run at its next decision.
#include "harness/sched/controller.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "harness/base/interrupt.h"
#include "harness/sched/sched.h"

namespace pagerace::sched {
namespace {

std::string Interleaving(const Controller::Options& options);

Controller::Options Seeded(uint64_t seed, uint64_t steps_max = 1'000'000,
                           Controller::Policy policy = Controller::Policy::kRandom) {
  Controller::Options o;
  o.seed = seed;
  o.steps_max = steps_max;
  o.policy = policy;
  return o;
}

std::string Interleaving(uint64_t seed) { return Interleaving(Seeded(seed)); }

// Threads a, b and c each pass `points` scheduling points, the i-th being
// point_at(i); the trace is the order they ran in.
std::string Interleave(const Controller::Options& options, int points, Point (*point_at)(int)) {
  std::string trace;
  Controller c(options);
  std::vector<std::function<void()>> bodies;
  for (char name : {'a', 'b', 'c'})
    bodies.push_back([&trace, name, points, point_at] {
      for (int i = 0; i < points; ++i) {
        trace += name;
        At(point_at(i));
      }
    });
  EXPECT_EQ(c.Run(std::move(bodies)), Controller::Outcome::kDone);
  return trace;
}

std::string Interleaving(const Controller::Options& options) {
  return Interleave(options, 5, [](int) { return Point::kCreateAfterAdd; });
}

TEST(ControllerTest, SameSeedSameInterleaving) {
  EXPECT_EQ(Interleaving(7), Interleaving(7));
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 20; ++seed) seen.insert(Interleaving(seed));
  EXPECT_GT(seen.size(), 10u);
  EXPECT_EQ(Interleaving(3).size(), 15u);
}

TEST(ControllerTest, DirectedRunsOnUntilAPreemption) {
  Controller::Options o = Seeded(0, 1'000'000, Controller::Policy::kDirected);
  EXPECT_EQ(Interleaving(o), "aaaaabbbbbccccc");  // no preemption: each runs to its end
  o.overrides = {{2, 1}};
  EXPECT_EQ(Interleaving(o), "aabbbbbaaaccccc");
  o.overrides = {{2, 1}, {4, 2}, {4, 0}};  // the first runnable one of a step wins
  EXPECT_EQ(Interleaving(o), "aabbcccccaaabbb");
}

TEST(ControllerTest, PctDepthOneRunsThreadsWholeInPriorityOrder) {
  std::set<std::string> orders;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    Controller::Options o = Seeded(seed, 1'000'000, Controller::Policy::kPct);
    o.pct_depth = 1;
    const std::string t = Interleaving(o);
    EXPECT_EQ(t, Interleaving(o));
    ASSERT_EQ(t.size(), 15u);
    for (size_t i = 0; i < 15; i += 5) EXPECT_EQ(t.substr(i, 5), std::string(5, t[i])) << t;
    orders.insert(t);
  }
  EXPECT_EQ(orders.size(), 6u);  // every priority order of three threads
}

TEST(ControllerTest, PctChangePointsPreempt) {
  // With depth 3 some seed lowers a running thread mid-way.
  bool preempted = false;
  for (uint64_t seed = 0; seed < 50 && !preempted; ++seed) {
    Controller::Options o = Seeded(seed, 1'000'000, Controller::Policy::kPct);
    o.pct_depth = 3;
    o.pct_steps = 15;
    const std::string t = Interleaving(o);
    preempted = t.substr(0, 5) != std::string(5, t[0]);
  }
  EXPECT_TRUE(preempted);
}

TEST(ControllerTest, RecordsEveryDecisionAndReusesFibers) {
  std::vector<Controller::Step> steps;
  Controller::Options o = Seeded(5);
  o.steps = &steps;
  Controller c(o);
  for (int run = 0; run < 3; ++run) {
    steps.clear();
    int done = 0;
    EXPECT_EQ(c.Run({[&] { At(Point::kBackendIo); ++done; }, [&] { ++done; }}), Controller::Outcome::kDone);
    EXPECT_EQ(done, 2);
    ASSERT_EQ(steps.size(), 3u);  // t0 twice (it yields once), t1 once
    EXPECT_EQ(steps[0].runnable, 3u);
    EXPECT_EQ(steps[0].last, -1);
    int ran0 = 0;
    for (const Controller::Step& s : steps) ran0 += s.chosen == 0;
    EXPECT_EQ(ran0, 2);
  }
}

// Three threads passing fine points (Point::kState) and a window, as the
// model's ops do; the decisions are recorded in `steps` when given.
std::string FineInterleaving(Controller::Options o, std::vector<Controller::Step>* steps = nullptr) {
  o.steps = steps;
  return Interleave(o, 40, [](int i) { return i % 8 == 0 ? Point::kCreateAfterAdd : Point::kState; });
}

TEST(ControllerTest, FinePointsAreStepsOnlyWithStatePoints) {
  std::vector<Controller::Step> every, windows;
  Controller::Options o = Seeded(4);
  FineInterleaving(o, &every);
  o.state_points = false;
  FineInterleaving(o, &windows);
  EXPECT_GE(every.size(), 3u * 40);    // a step at each point
  EXPECT_LE(windows.size(), 3u * 6);   // the windows (5 a thread) and the starts
  // Directed: a preemption at a step that is a fine point only with them.
  o = Seeded(0, 1'000'000, Controller::Policy::kDirected);
  o.overrides = {{3, 1}};
  EXPECT_EQ(FineInterleaving(o).substr(0, 4), "aaab");
  o.state_points = false;
  EXPECT_EQ(FineInterleaving(o).substr(0, 4), "aaaa");
}

// A fine point that keeps the running thread is decided without asking the
// blocked ones (no steps recorded); the decisions are the same either way.
TEST(ControllerTest, FinePointsDecideTheSameWithAndWithoutRecording) {
  for (Controller::Policy policy : {Controller::Policy::kRandom, Controller::Policy::kDirected}) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      Controller::Options o = Seeded(seed, 1'000'000, policy);
      if (policy == Controller::Policy::kDirected)
        o.overrides = {{static_cast<uint32_t>(seed * 3), static_cast<uint8_t>(seed % 3)},
                       {static_cast<uint32_t>(seed * 5 + 7), static_cast<uint8_t>((seed + 1) % 3)}};
      std::vector<Controller::Step> steps;
      EXPECT_EQ(FineInterleaving(o), FineInterleaving(o, &steps)) << seed;
    }
  }
}

TEST(ControllerTest, TraceRecordsLockEventsPerThread) {
  Trace trace;
  Controller::Options o = Seeded(0, 1'000'000, Controller::Policy::kDirected);
  o.overrides = {{2, 1}};  // t1 comes in while t0 holds the mutex
  o.trace = &trace;
  Controller c(o);
  Mutex m("m", 2);
  EXPECT_EQ(c.Run({[&] { m.Lock(); At(Point::kBackendIo); m.Unlock(); }, [&] { m.Lock(); m.Unlock(); }}),
            Controller::Outcome::kDone);
  std::string got;
  for (const Event& e : trace.events) got += std::to_string(e.thread) + ":" + e.text + ";";
  EXPECT_EQ(got, "0:takes f2.m;0:backend-io;1:waits for f2.m;0:drops f2.m;1:takes f2.m;1:drops f2.m;");
}

TEST(ControllerTest, RwSemExcludesWritersAndAdmitsReaders) {
  RwSem sem("sem");
  int writers_in = 0, readers_in = 0, max_readers = 0;
  bool overlap = false;
  std::vector<std::function<void()>> bodies;
  for (int t = 0; t < 4; ++t) {
    bodies.push_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if ((t + i) % 3 == 0) {
          sem.Lock();
          ++writers_in;
          overlap |= writers_in > 1 || readers_in > 0;
          At(Point::kLockAcquire);
          --writers_in;
          sem.Unlock();
        } else {
          sem.LockShared();
          ++readers_in;
          max_readers = std::max(max_readers, readers_in);
          overlap |= writers_in > 0;
          At(Point::kLockAcquire);
          --readers_in;
          sem.UnlockShared();
        }
      }
    });
  }
  Controller c(Seeded(11));
  EXPECT_EQ(c.Run(std::move(bodies)), Controller::Outcome::kDone);
  EXPECT_FALSE(overlap);
  EXPECT_GT(max_readers, 1);
}

TEST(ControllerTest, AbbaIsADeadlockNamingTheLocks) {
  // Some seed interleaves the two so that each holds one lock.
  bool found = false;
  for (uint64_t seed = 0; seed < 50 && !found; ++seed) {
    Mutex a("lock A"), b("lock B");
    Controller c(Seeded(seed));
    Controller::Outcome out = c.Run({[&] { a.Lock(); b.Lock(); b.Unlock(); a.Unlock(); },
                                     [&] { b.Lock(); a.Lock(); a.Unlock(); b.Unlock(); }});
    if (out == Controller::Outcome::kDeadlock) {
      found = true;
      EXPECT_NE(c.stuck().find("t0 waits for lock B"), std::string::npos) << c.stuck();
      EXPECT_NE(c.stuck().find("t1 waits for lock A"), std::string::npos) << c.stuck();
    } else {
      EXPECT_EQ(out, Controller::Outcome::kDone);
    }
  }
  EXPECT_TRUE(found);
}

TEST(ControllerTest, SpinningWithoutProgressIsALivelock) {
  bool stop = false;
  Controller c(Seeded(1, 1000));
  Controller::Outcome out = c.Run({[&] {
    while (!stop) At(Point::kPunchAfterTruncate);  // nobody ever sets stop
  }});
  EXPECT_EQ(out, Controller::Outcome::kLivelock);
  EXPECT_EQ(c.steps(), 1001u);
}

TEST(ControllerTest, StopRequestEndsTheRunAtTheNextDecision) {
  int after_stop = 0;  // scheduling points passed once the stop was requested
  std::optional<ScopedStopForTesting> stop;
  Controller c(Seeded(1));
  Controller::Outcome out = c.Run({[&] {
                                     for (int i = 0; i < 100; ++i) {
                                       if (i == 10) stop.emplace(SIGINT);
                                       if (stop) ++after_stop;
                                       At(Point::kPunchAfterTruncate);
                                     }
                                   },
                                   [&] {
                                     for (int i = 0; i < 100; ++i) At(Point::kPunchAfterTruncate);
                                   }});
  EXPECT_EQ(out, Controller::Outcome::kStopped);
  EXPECT_EQ(after_stop, 1);
  stop.reset();
  // The next run is not stopped.
  EXPECT_EQ(c.Run({[] { At(Point::kPunchAfterTruncate); }}), Controller::Outcome::kDone);
}

}  // namespace
}  // namespace pagerace::sched
