// Tests program generation and its swarm: DrawSwarm is a function of the
// seed, always keeps an observer (read or load) on, and over many draws turns
// every kind both on and off, and puts programs on every backend (blockmap
// often, file and io_uring seldom, io_uring never on memory); FormatSwarm's
// line is pinned and names the kinds that are off, FormatBackend's the
// backend and (off memory) the io; Generate
// is a function of the seed, gives valid programs on the swarm's backend,
// sets the flusher sometimes, and never uses a kind its swarm weights 0.
#include "harness/program/generate.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "harness/base/rng.h"
#include "harness/program/program.h"

namespace pagerace {
namespace {

uint32_t& WeightOf(Swarm& swarm, OpKind kind) { return swarm.weight[static_cast<size_t>(kind)]; }

Swarm DefaultSwarm() {
  Swarm swarm;
  for (const OpInfo& info : OpTable()) WeightOf(swarm, info.kind) = info.default_weight;
  return swarm;
}

// Bit per op kind the program uses.
uint32_t KindsUsed(const Program& p) {
  uint32_t kinds = 0;
  for (const auto& ops : p.threads)
    for (const Op& op : ops) kinds |= 1u << static_cast<uint32_t>(op.kind);
  return kinds;
}

TEST(GenerateTest, DrawSwarmIsAFunctionOfTheSeed) {
  int differ = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng a(seed), b(seed), other(seed + 1000);
    const Swarm swarm = DrawSwarm(a);
    const Swarm again = DrawSwarm(b);
    EXPECT_EQ(swarm, again);
    EXPECT_EQ(FormatSwarm(swarm), FormatSwarm(again));
    differ += !(DrawSwarm(other) == swarm);
  }
  EXPECT_GT(differ, 40);
}

TEST(GenerateTest, DrawSwarmKeepsAnObserverAndVariesEveryKind) {
  Rng rng(17);
  uint32_t on = 0, off = 0;  // bit per kind seen on, seen off
  for (int i = 0; i < 2000; ++i) {
    Swarm swarm = DrawSwarm(rng);
    ASSERT_TRUE(WeightOf(swarm, OpKind::kRead) > 0 || WeightOf(swarm, OpKind::kLoad) > 0) << FormatSwarm(swarm);
    for (const OpInfo& info : OpTable()) {
      const uint32_t w = WeightOf(swarm, info.kind);
      if (w == 0) {
        off |= 1u << static_cast<uint32_t>(info.kind);
      } else {
        on |= 1u << static_cast<uint32_t>(info.kind);
        ASSERT_GE(w, info.default_weight) << info.name;
        ASSERT_LE(w, 2 * info.default_weight) << info.name;
      }
    }
  }
  EXPECT_EQ(on, (1u << kOpKinds) - 1);
  EXPECT_EQ(off, (1u << kOpKinds) - 1);
}

TEST(GenerateTest, DrawSwarmPutsProgramsOnEveryBackend) {
  Rng rng(23);
  uint32_t count[kBackendKinds] = {}, uring = 0, windows = 0;
  constexpr int kDraws = 4000;
  for (int i = 0; i < kDraws; ++i) {
    const Swarm swarm = DrawSwarm(rng);
    ++count[static_cast<size_t>(swarm.backend)];
    windows += swarm.points == Points::kWindows;
    if (swarm.io == IoMode::kUring) {
      ++uring;
      ASSERT_NE(swarm.backend, BackendKind::kMemory) << "memory has no I/O to move";
    }
  }
  const uint32_t memory = count[static_cast<size_t>(BackendKind::kMemory)];
  const uint32_t file = count[static_cast<size_t>(BackendKind::kFile)];
  const uint32_t blockmap = count[static_cast<size_t>(BackendKind::kBlockmap)];
  EXPECT_GT(blockmap, kDraws / 4) << "the block-lifetime bugs show only on blockmap";
  EXPECT_GT(windows, kDraws / 3) << "both scheduling granularities are drawn";
  EXPECT_LT(windows, kDraws * 2 / 3) << "both scheduling granularities are drawn";
  EXPECT_GT(memory, blockmap) << "memory keeps the larger share: no system calls";
  EXPECT_GT(file, 0u);
  EXPECT_LT(file, kDraws / 10);
  EXPECT_GT(uring, 0u);
  EXPECT_LT(uring, (file + blockmap) / 4);
}

TEST(GenerateTest, FormatSwarmNamesTheKindsThatAreOffAndTheBackend) {
  Swarm swarm = DefaultSwarm();
  EXPECT_EQ(FormatSwarm(swarm),
            "read 6, write 4, punch 2, readahead 2, evict 1, load 4, store 3, fsync 1, madvise 1, readahead2 1, "
            "write-mapped 1, zero 1, fdatasync 1, truncate 1, dio-read 1, dio-write 1, collapse 1, insert 1");
  EXPECT_EQ(FormatBackend(swarm), "backend memory");
  WeightOf(swarm, OpKind::kPunch) = 0;
  WeightOf(swarm, OpKind::kFsync) = 0;
  WeightOf(swarm, OpKind::kRead) = 7;
  swarm.backend = BackendKind::kBlockmap;
  swarm.io = IoMode::kUring;
  EXPECT_EQ(FormatSwarm(swarm),
            "read 7, write 4, readahead 2, evict 1, load 4, store 3, madvise 1, readahead2 1, write-mapped 1, zero 1, "
            "fdatasync 1, truncate 1, dio-read 1, dio-write 1, collapse 1, insert 1 (off: punch, fsync)");
  EXPECT_EQ(FormatBackend(swarm), "backend blockmap, io uring");
  swarm.backend = BackendKind::kFile;
  swarm.io = IoMode::kPread;
  EXPECT_EQ(FormatBackend(swarm), "backend file, io pread");
}

TEST(GenerateTest, GenerateIsAFunctionOfTheSeedAndValid) {
  uint32_t flushers = 0;  // bit per flusher value seen
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng a(seed), b(seed);
    const Program p = Generate(a, {.threads = 4, .ops_per_thread = 12});
    ASSERT_EQ(p, Generate(b, {.threads = 4, .ops_per_thread = 12}));
    const Status valid = Validate(p);
    ASSERT_TRUE(valid.ok()) << valid.message();
    ASSERT_EQ(p.threads.size(), 4u);
    flushers |= 1u << p.flusher;
  }
  EXPECT_EQ(flushers, 3u);
}

// Drawn shapes: every thread count from 2 to the most, half the programs
// with 2 threads; some programs capped at 4 ops a thread and some longer;
// never more than asked; still a function of the seed.
TEST(GenerateTest, DrawnShapesSpanTheSizesAndFavourSmallPrograms) {
  const GenerateOptions options{.threads = 6, .ops_per_thread = 12, .draw_shape = true};
  uint32_t counts[kThreadsMax + 1] = {};
  uint32_t small = 0, long_threads = 0;
  constexpr uint32_t kPrograms = 2000;
  for (uint64_t seed = 0; seed < kPrograms; ++seed) {
    Rng a(seed), b(seed);
    const Program p = Generate(a, options);
    ASSERT_EQ(p, Generate(b, options));
    ASSERT_TRUE(Validate(p).ok());
    ASSERT_GE(p.threads.size(), 2u);
    ASSERT_LE(p.threads.size(), 6u);
    ++counts[p.threads.size()];
    size_t most = 0;
    for (const auto& ops : p.threads) most = std::max(most, ops.size());
    ASSERT_LE(most, 12u);
    small += most <= 4;
    long_threads += most > 4;
  }
  for (uint32_t t = 2; t <= 6; ++t) EXPECT_GT(counts[t], 0u) << t << " threads";
  EXPECT_GT(counts[2], kPrograms * 2 / 5);  // half, and a share of the rest
  EXPECT_GT(small, kPrograms / 3);
  EXPECT_GT(long_threads, kPrograms / 4);
}

TEST(GenerateTest, AKindWeightedZeroNeverAppears) {
  for (const OpInfo& dropped : OpTable()) {
    SCOPED_TRACE(dropped.name);
    Swarm swarm = DefaultSwarm();
    WeightOf(swarm, dropped.kind) = 0;
    Rng rng(static_cast<uint64_t>(dropped.kind));
    uint32_t used = 0;
    for (int i = 0; i < 200; ++i) used |= KindsUsed(Generate(rng, {.threads = 8, .ops_per_thread = 16}, swarm));
    EXPECT_EQ(used, ((1u << kOpKinds) - 1) & ~(1u << static_cast<uint32_t>(dropped.kind)));
  }
}

TEST(GenerateTest, ASwarmOfOneKindGivesOnlyThatKind) {
  Swarm swarm;
  WeightOf(swarm, OpKind::kWriteMapped) = 1;
  Rng rng(5);
  for (int i = 0; i < 50; ++i) {
    const Program p = Generate(rng, {}, swarm);
    ASSERT_EQ(KindsUsed(p), 1u << static_cast<uint32_t>(OpKind::kWriteMapped));
  }
}

TEST(GenerateTest, ProgramsRunOnTheSwarmsBackend) {
  Swarm swarm = DefaultSwarm();
  swarm.backend = BackendKind::kFile;
  swarm.io = IoMode::kUring;
  swarm.points = Points::kWindows;
  Rng rng(8);
  for (int i = 0; i < 20; ++i) {
    const Program p = Generate(rng, {}, swarm);
    ASSERT_EQ(p.backend, BackendKind::kFile);
    ASSERT_EQ(p.io, IoMode::kUring);
    ASSERT_EQ(p.points, Points::kWindows);
  }
}

}  // namespace
}  // namespace pagerace
