// Tests the controlled scheduler with the sched primitives: one logical
// thread at a time, the same seed gives the same interleaving and other
// seeds give others, mutual exclusion holds, an ABBA lock order is reported
// as a deadlock naming the locks, and a spin without progress hits the
// step bound (livelock).
#include "harness/sched/controller.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "harness/sched/sched.h"

namespace pagerace::sched {
namespace {

std::string Interleaving(uint64_t seed) {
  std::string trace;
  Controller c({.seed = seed});
  std::vector<std::function<void()>> bodies;
  for (char name : {'a', 'b', 'c'})
    bodies.push_back([&trace, name] {
      for (int i = 0; i < 5; ++i) {
        trace += name;
        At(Point::kCreateAfterAdd);
      }
    });
  EXPECT_EQ(c.Run(std::move(bodies)), Controller::Outcome::kDone);
  return trace;
}

TEST(ControllerTest, SameSeedSameInterleaving) {
  EXPECT_EQ(Interleaving(7), Interleaving(7));
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 20; ++seed) seen.insert(Interleaving(seed));
  EXPECT_GT(seen.size(), 10u);
  EXPECT_EQ(Interleaving(3).size(), 15u);
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
  Controller c({.seed = 11});
  EXPECT_EQ(c.Run(std::move(bodies)), Controller::Outcome::kDone);
  EXPECT_FALSE(overlap);
  EXPECT_GT(max_readers, 1);
}

TEST(ControllerTest, AbbaIsADeadlockNamingTheLocks) {
  // Some seed interleaves the two so that each holds one lock.
  bool found = false;
  for (uint64_t seed = 0; seed < 50 && !found; ++seed) {
    Mutex a("lock A"), b("lock B");
    Controller c({.seed = seed});
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
  Controller c({.seed = 1, .steps_max = 1000});
  Controller::Outcome out = c.Run({[&] {
    while (!stop) At(Point::kPunchAfterTruncate);  // nobody ever sets stop
  }});
  EXPECT_EQ(out, Controller::Outcome::kLivelock);
  EXPECT_EQ(c.steps(), 1001u);
}

}  // namespace
}  // namespace pagerace::sched
