// Tests fibers: resume/yield hand control back and forth in a fixed order,
// a fiber is done after its body returns, fibers nest (a fiber resumes
// another), locals survive switches, and many fibers interleave exactly as
// the resumer chooses.
#include "harness/sched/fiber.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace pagerace::sched {
namespace {

TEST(FiberTest, PingPongInOrder) {
  std::string log;
  Fiber f([&] {
    for (int i = 0; i < 3; ++i) {
      log += 'f';
      Fiber::Yield();
    }
    log += 'x';
  });
  EXPECT_EQ(Fiber::Current(), nullptr);
  while (!f.done()) {
    log += 'm';
    f.Resume();
  }
  EXPECT_EQ(log, "mfmfmfmx");
  EXPECT_EQ(Fiber::Current(), nullptr);
}

TEST(FiberTest, LocalsSurviveSwitchesAndCurrentIsRight) {
  std::vector<long> sums;
  Fiber* self = nullptr;
  Fiber f([&] {
    long sum = 0;
    for (long i = 1; i <= 100; ++i) {
      sum += i;
      EXPECT_EQ(Fiber::Current(), self);
      Fiber::Yield();
    }
    sums.push_back(sum);
  });
  self = &f;
  while (!f.done()) f.Resume();
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_EQ(sums[0], 5050);
}

TEST(FiberTest, NestedResume) {
  std::string log;
  Fiber inner([&] {
    log += "i1";
    Fiber::Yield();
    log += "i2";
  });
  Fiber outer([&] {
    log += "o1";
    inner.Resume();  // runs inner until it yields, back here
    log += "o2";
    Fiber::Yield();  // back to the thread
    inner.Resume();
    log += "o3";
  });
  outer.Resume();
  log += "|";
  outer.Resume();
  EXPECT_EQ(log, "o1i1o2|i2o3");
  EXPECT_TRUE(inner.done());
  EXPECT_TRUE(outer.done());
}

TEST(FiberTest, ManyFibersInterleaveAsChosen) {
  constexpr int kFibers = 8, kSteps = 1000;
  std::vector<int> trace;
  std::vector<std::unique_ptr<Fiber>> fibers;
  for (int id = 0; id < kFibers; ++id)
    fibers.push_back(std::make_unique<Fiber>([&trace, id] {
      for (int s = 0; s < kSteps; ++s) {
        trace.push_back(id);
        Fiber::Yield();
      }
    }));
  // A fixed pseudo-random order: same choices, same trace.
  uint32_t x = 12345;
  std::vector<int> chosen;
  for (;;) {
    std::vector<int> live;
    for (int id = 0; id < kFibers; ++id)
      if (!fibers[id]->done()) live.push_back(id);
    if (live.empty()) break;
    x = x * 1103515245 + 12345;
    const int id = live[(x >> 16) % live.size()];
    fibers[id]->Resume();
    if (!fibers[id]->done()) chosen.push_back(id);
  }
  EXPECT_EQ(trace, chosen);
  EXPECT_EQ(trace.size(), size_t{kFibers} * kSteps);
}

TEST(FiberTest, RearmRunsTheNextBodyOnTheSameFiber) {
  std::string log;
  Fiber f([&] { log += 'a'; });
  f.Resume();
  ASSERT_TRUE(f.done());
  for (char c : std::string("bcd")) {
    f.Rearm([&log, c] {
      log += c;
      Fiber::Yield();
      log += static_cast<char>(c - 'a' + 'A');
    });
    EXPECT_FALSE(f.done());
    f.Resume();
    EXPECT_FALSE(f.done());
    f.Resume();
    EXPECT_TRUE(f.done());
  }
  EXPECT_EQ(log, "abBcCdD");
}

TEST(FiberTest, DestroyedParkedOrInTheMiddleOfABody) {
  std::string log;
  {
    auto parked = std::make_unique<Fiber>([&] { log += 'p'; });
    parked->Resume();
    auto middle = std::make_unique<Fiber>([&] {
      log += 'm';
      Fiber::Yield();
      log += 'X';  // never: destroyed before it is resumed again
    });
    middle->Resume();
    middle.reset();
    parked.reset();
  }
  EXPECT_EQ(log, "pm");
  EXPECT_EQ(Fiber::Current(), nullptr);
}

}  // namespace
}  // namespace pagerace::sched
