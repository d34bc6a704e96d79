// Tests the structure-aware mutator: every output of MutateInput, from any
// bytes, decodes to a valid program whose encoding is the output itself and
// fits the size limit; it is a function of input, partner and seed; every
// operator applies and changes programs, each keeps them valid, and each is
// reached from MutateProgram's draw; the operators that make races do what
// they say (retarget overlaps, move changes the thread, add-preemption turns
// the schedule directed, splice takes the partner's threads); Fold makes a
// program valid whatever its fields.
#include "harness/program/mutate.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "harness/base/rng.h"
#include "harness/program/codec.h"
#include "harness/program/generate.h"
#include "harness/program/program.h"
#include "harness/program/program_testing.h"

namespace pagerace {
namespace {

std::vector<uint8_t> RandomBytes(Rng& rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (uint8_t& x : b) x = static_cast<uint8_t>(rng.Next());
  return b;
}

Program RandomProgram(Rng& rng) {
  Program p = Generate(rng, GenerateOptions{.threads = 4, .ops_per_thread = 8, .draw_shape = true});
  if (rng.Chance(1, 2)) {
    p.schedule.strategy = Strategy::kDirected;
    p.schedule.preemptions = {{3, 0}, {9, static_cast<uint8_t>(p.logical_threads() - 1)}};
  }
  return p;
}

bool Overlap(const Op& a, const Op& b) {
  auto end = [](const Op& op) { return op.sector + (SetsSize(op.kind) ? 1 : op.count); };
  return a.file == b.file && a.sector < end(b) && b.sector < end(a);
}

TEST(MutateTest, EveryOutputDecodesToItselfAndFits) {
  Rng rng(1);
  for (int i = 0; i < 4000; ++i) {
    const std::vector<uint8_t> in = RandomBytes(rng, rng.Below(kBinaryFileMax + 64));
    const std::vector<uint8_t> partner = RandomBytes(rng, rng.Below(300));
    const size_t max = rng.Chance(1, 4) ? rng.Below(64) : 1200;
    const std::vector<uint8_t> out = MutateInput(in, partner, rng.Next(), max);
    ASSERT_LE(out.size(), max);
    const Program p = Decode(out);
    ASSERT_TRUE(Validate(p).ok()) << Validate(p).message();
    // Room for a header and a directed schedule's count byte: nothing is cut.
    if (max > kHeaderBytes) {
      ASSERT_EQ(Encode(p), out) << "input " << i;
    }
  }
}

TEST(MutateTest, IsAFunctionOfInputPartnerAndSeed) {
  Rng rng(2);
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    const std::vector<uint8_t> in = Encode(RandomProgram(rng)), partner = Encode(RandomProgram(rng));
    const uint64_t seed = rng.Next();
    EXPECT_EQ(MutateInput(in, partner, seed, 1200), MutateInput(in, partner, seed, 1200));
    differ += MutateInput(in, partner, seed, 1200) != MutateInput(in, partner, seed + 1, 1200);
  }
  EXPECT_GT(differ, 150);
}

TEST(MutateTest, EveryOperatorAppliesChangesAndKeepsValid) {
  for (uint32_t m = 0; m < kMutations; ++m) {
    const Mutation mutation = static_cast<Mutation>(m);
    Rng rng(100 + m);
    int applied = 0, changed = 0;
    for (int i = 0; i < 300; ++i) {
      Program p = RandomProgram(rng);
      const Program partner = RandomProgram(rng), before = p;
      if (!ApplyMutation(rng, mutation, p, partner)) {
        EXPECT_EQ(p, before) << MutationName(mutation) << " did not apply yet changed the program";
        continue;
      }
      ++applied;
      changed += !(p == before);
      const Status valid = Validate(p);
      ASSERT_TRUE(valid.ok()) << MutationName(mutation) << ": " << valid.message();
    }
    EXPECT_GT(applied, 100) << MutationName(mutation);
    EXPECT_GT(changed, applied / 2) << MutationName(mutation);
  }
}

TEST(MutateTest, MutateProgramReachesEveryOperator) {
  Rng rng(3);
  std::set<Mutation> seen;
  for (int i = 0; i < 3000 && seen.size() < kMutations; ++i) {
    std::vector<Mutation> applied;
    const Program p = MutateProgram(rng, RandomProgram(rng), RandomProgram(rng), 1200, &applied);
    ASSERT_FALSE(applied.empty());
    ASSERT_LE(applied.size(), 4u);
    ASSERT_TRUE(Validate(p).ok());
    seen.insert(applied.begin(), applied.end());
  }
  for (uint32_t m = 0; m < kMutations; ++m)
    EXPECT_TRUE(seen.count(static_cast<Mutation>(m))) << MutationName(static_cast<Mutation>(m)) << " never drawn";
}

TEST(MutateTest, RetargetAimsAnOpAtAnotherOpsRange) {
  Rng rng(4);
  int checked = 0;
  for (int i = 0; i < 300; ++i) {
    // Two ops far apart in different files: after the move they overlap.
    Program p;
    p.files = 2;
    p.file_pages = 16;
    p.threads = {{{OpKind::kRead, 0, 0, 8}}, {{OpKind::kPunch, 1, 100, 4}}};
    if (!ApplyMutation(rng, Mutation::kRetarget, p, Program{})) continue;
    EXPECT_TRUE(Overlap(p.threads[0][0], p.threads[1][0])) << OpOperands(p.threads[0][0]) << " vs "
                                                            << OpOperands(p.threads[1][0]);
    ++checked;
  }
  EXPECT_GT(checked, 200);
}

TEST(MutateTest, MoveOpRunsTheOpOnAnotherThread) {
  Rng rng(5);
  for (int i = 0; i < 200; ++i) {
    Program p;
    p.threads = {{{OpKind::kRead, 0, 0, 8}, {OpKind::kWrite, 0, 8, 8}}};
    ASSERT_TRUE(ApplyMutation(rng, Mutation::kMoveOp, p, Program{}));
    ASSERT_EQ(p.threads.size(), 2u);
    EXPECT_EQ(p.threads[0].size(), 1u);
    EXPECT_EQ(p.threads[1].size(), 1u);
  }
}

TEST(MutateTest, AddPreemptionMakesTheScheduleDirected) {
  Rng rng(6);
  Program p;
  p.threads = {{{OpKind::kRead, 0, 0, 8}}, {{OpKind::kPunch, 0, 0, 8}}};
  p.schedule.strategy = Strategy::kPct;
  ASSERT_TRUE(ApplyMutation(rng, Mutation::kAddPreemption, p, Program{}));
  EXPECT_EQ(p.schedule.strategy, Strategy::kDirected);
  ASSERT_EQ(p.schedule.preemptions.size(), 1u);
  EXPECT_LT(p.schedule.preemptions[0].thread, 2u);
  EXPECT_TRUE(Validate(p).ok());
  EXPECT_EQ(Decode(Encode(p)), p);
}

TEST(MutateTest, SpliceTakesThreadsFromThePartner) {
  Rng rng(7);
  Program a, b;
  a.threads = {{{OpKind::kRead, 0, 0, 8}}, {{OpKind::kRead, 0, 8, 8}}};
  b.threads = {{{OpKind::kPunch, 0, 0, 8}}, {{OpKind::kPunch, 0, 8, 8}}, {{OpKind::kEvict, 0, 0, 8}}};
  int from_b = 0;
  for (int i = 0; i < 100; ++i) {
    Program p = a;
    ASSERT_TRUE(ApplyMutation(rng, Mutation::kSplice, p, b));
    EXPECT_EQ(p.threads.size(), 3u);  // the longer's count
    for (const auto& ops : p.threads)
      for (const Op& op : ops) from_b += op.kind != OpKind::kRead;
  }
  EXPECT_GT(from_b, 100);
}

TEST(MutateTest, FoldMakesAnyFieldsValid) {
  Rng rng(8);
  for (int i = 0; i < 2000; ++i) {
    Program p;
    p.files = static_cast<uint8_t>(rng.Below(9));
    p.file_pages = static_cast<uint16_t>(rng.Below(200));
    p.flusher = static_cast<uint8_t>(rng.Below(2));
    p.schedule.strategy = static_cast<Strategy>(rng.Below(kStrategies));
    p.schedule.pct_depth = static_cast<uint8_t>(rng.Below(12));
    p.threads.assign(rng.Below(12), {});
    for (auto& ops : p.threads)
      for (uint64_t n = rng.Below(60); n > 0; --n)
        ops.push_back({static_cast<OpKind>(rng.Below(kOpKinds)), static_cast<uint8_t>(rng.Below(8)),
                       static_cast<uint16_t>(rng.Below(1000)), static_cast<uint16_t>(rng.Below(300))});
    for (uint64_t n = rng.Below(40); n > 0; --n)
      p.schedule.preemptions.push_back({static_cast<uint16_t>(rng.Next()), static_cast<uint8_t>(rng.Below(20))});
    Fold(p);
    ASSERT_TRUE(Validate(p).ok()) << Validate(p).message();
  }
}

TEST(MutateTest, EncodedSizeIsTheEncodingsSize) {
  Rng rng(9);
  for (int i = 0; i < 200; ++i) {
    const Program p = RandomProgram(rng);
    EXPECT_EQ(EncodedSize(p), Encode(p).size());
  }
  EXPECT_EQ(EncodedSize(LargestProgram()), Encode(LargestProgram()).size());
}

}  // namespace
}  // namespace pagerace
