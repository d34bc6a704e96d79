// Tests the sector tag format: a sector filled by FillSector classifies as
// kWhole and names its file, sector and generation; an all-zero sector is
// kZero; any damage (one word flipped, halves of two generations, a header
// without its body) is kMixed; TagWord gives exactly the words FillSector
// writes. Pure functions on stack buffers, no history involved.
#include "harness/oracle/tag.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace pagerace {
namespace {

using SectorWords = std::array<uint64_t, kSectorWords>;

SectorWords Filled(uint32_t file, uint32_t sector, uint64_t gen) {
  SectorWords w{};
  FillSector(file, sector, gen, w.data());
  return w;
}

TEST(TagTest, SectorIsWholeSectorOfBytes) {
  static_assert(kSectorWords * 8 == kSectorBytes);
  EXPECT_EQ(kSectorWords, 64u);
}

TEST(TagTest, FillClassifyRoundTrip) {
  const struct {
    uint32_t file, sector;
    uint64_t gen;
  } cases[] = {{0, 0, 1}, {0, 7, 2}, {1, 3, 99}, {3, 1023, 123456789}, {2, 0, UINT64_MAX}};
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "f" << c.file << " s" << c.sector << " gen " << c.gen);
    const SectorWords w = Filled(c.file, c.sector, c.gen);
    const SectorTag tag = ClassifySector(w.data());
    EXPECT_EQ(tag.kind, SectorTag::kWhole);
    EXPECT_EQ(tag.file, c.file);
    EXPECT_EQ(tag.sector, c.sector);
    EXPECT_EQ(tag.gen, c.gen);
  }
}

TEST(TagTest, UnfilledPatternNamesItsPlaceAndIsNoWrite) {
  uint64_t words[kSectorWords];
  for (uint32_t file : {0u, 3u})
    for (uint32_t sector : {0u, 9u, 511u}) {
      FillUninit(file, sector, words);
      const SectorTag tag = ClassifySector(words);
      EXPECT_EQ(tag.kind, SectorTag::kUninit);
      EXPECT_EQ(tag.file, file);
      EXPECT_EQ(tag.sector, sector);
      for (uint32_t k = 0; k < kSectorWords; ++k) {
        EXPECT_EQ(words[k], UninitWord(file, sector, k)) << k;  // what the checker compares words with
        if (k == 1) continue;  // the sector, as in a write's header
        EXPECT_NE(words[k], 0u);
        EXPECT_NE(words[k], TagWord(file, sector, 1, k)) << k;
      }
      words[40] ^= 1;
      EXPECT_EQ(ClassifySector(words).kind, SectorTag::kMixed);
    }
}

TEST(TagTest, AllZeroIsZero) {
  const SectorWords w{};
  const SectorTag tag = ClassifySector(w.data());
  EXPECT_EQ(tag.kind, SectorTag::kZero);
  EXPECT_EQ(tag.file, 0u);
  EXPECT_EQ(tag.sector, 0u);
  EXPECT_EQ(tag.gen, 0u);
}

TEST(TagTest, OneFlippedWordIsMixed) {
  // Flip one bit in every position in turn: header words and body words.
  for (uint32_t k = 0; k < kSectorWords; ++k) {
    SCOPED_TRACE(testing::Message() << "word " << k);
    SectorWords w = Filled(1, 5, 42);
    w[k] ^= uint64_t{1} << (k % 64);
    const SectorTag tag = ClassifySector(w.data());
    EXPECT_EQ(tag.kind, SectorTag::kMixed);
  }
}

TEST(TagTest, OneNonZeroWordInZerosIsMixed) {
  SectorWords w{};
  w[17] = 1;
  EXPECT_EQ(ClassifySector(w.data()).kind, SectorTag::kMixed);
}

TEST(TagTest, HalvesOfTwoGenerationsAreMixed) {
  const SectorWords a = Filled(0, 9, 3);
  const SectorWords b = Filled(0, 9, 4);
  SectorWords w = a;
  for (uint32_t k = kSectorWords / 2; k < kSectorWords; ++k) w[k] = b[k];
  EXPECT_EQ(ClassifySector(w.data()).kind, SectorTag::kMixed);
  // And the other way round: the header of B with the tail of A.
  w = b;
  for (uint32_t k = kSectorWords / 2; k < kSectorWords; ++k) w[k] = a[k];
  EXPECT_EQ(ClassifySector(w.data()).kind, SectorTag::kMixed);
}

TEST(TagTest, HeaderWithZeroBodyIsMixed) {
  SectorWords w = Filled(0, 2, 8);
  for (uint32_t k = 3; k < kSectorWords; ++k) w[k] = 0;
  EXPECT_EQ(ClassifySector(w.data()).kind, SectorTag::kMixed);
}

TEST(TagTest, TagWordMatchesFillSector) {
  for (uint64_t gen : {uint64_t{1}, uint64_t{2}, uint64_t{77}}) {
    const SectorWords w = Filled(2, 11, gen);
    for (uint32_t k = 0; k < kSectorWords; ++k) EXPECT_EQ(TagWord(2, 11, gen, k), w[k]) << "word " << k;
  }
  // The header: magic and file, sector, generation.
  EXPECT_EQ(TagWord(3, 4, 5, 0), (kTagMagic32 << 32) | 3);
  EXPECT_EQ(TagWord(3, 4, 5, 1), 4u);
  EXPECT_EQ(TagWord(3, 4, 5, 2), 5u);
}

TEST(TagTest, BodiesDifferAcrossFileSectorAndGen) {
  // Body words attribute a word to one write: they differ when any of
  // file, sector or generation differs.
  const SectorWords base = Filled(0, 1, 1);
  const SectorWords others[] = {Filled(1, 1, 1), Filled(0, 2, 1), Filled(0, 1, 2)};
  for (const SectorWords& o : others)
    for (uint32_t k = 3; k < kSectorWords; ++k) EXPECT_NE(base[k], o[k]) << "word " << k;
}

}  // namespace
}  // namespace pagerace
