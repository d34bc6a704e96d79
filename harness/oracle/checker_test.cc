// Tests the per-sector linearizability checker on hand-built histories.
// Every case is a History (vector<OpRecord>) with explicit invoke/response
// stamps; reads carry real observations: the expected sector contents are
// built with FillSector (whole, torn, damaged or zero) and turned into tags
// with ObserveSectors, exactly as the executor does. Histories that break a
// rule of checker.h must be flagged with the exact kind, file and sector;
// legal ones (concurrent reads seeing old or new data, tearing between
// writes that are all allowed, failed writes, generated linearizable
// histories) must pass, since a false positive is worse than a miss.
#include "harness/oracle/checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "harness/base/rng.h"
#include "harness/oracle/history.h"
#include "harness/oracle/tag.h"

namespace pagerace {
namespace {

// ---------------------------------------------------------------------------
// Sector contents.

using Words = std::vector<uint64_t>;  // one sector: kSectorWords words

Words Tagged(uint32_t file, uint32_t sector, uint64_t gen) {
  Words w(kSectorWords);
  FillSector(file, sector, gen, w.data());
  return w;
}

Words Zeros() { return Words(kSectorWords, 0); }

// Words [0, from) of a, then [from, kSectorWords) of b.
Words Splice(const Words& a, const Words& b, uint32_t from) {
  Words w = a;
  for (uint32_t k = from; k < kSectorWords; ++k) w[k] = b[k];
  return w;
}

// Words [0, word) of a, then in word `word` bytes [0, byte) of a and the rest
// of b, then b: a tear in the middle of a word, as a byte-wise copy makes.
Words ByteSplice(const Words& a, const Words& b, uint32_t word, uint32_t byte) {
  Words w = Splice(a, b, word);
  const uint64_t low = byte == 0 ? 0 : ~uint64_t{0} >> (64 - 8 * byte);
  w[word] = (a[word] & low) | (b[word] & ~low);
  return w;
}

// Even words of a, odd words of b.
Words Interleave(const Words& a, const Words& b) {
  Words w = a;
  for (uint32_t k = 1; k < kSectorWords; k += 2) w[k] = b[k];
  return w;
}

// ---------------------------------------------------------------------------
// Operation records. Threads and op indexes are only used in descriptions.

OpRecord Mutation(OpKind kind, uint8_t file, uint32_t sector, uint32_t count, uint64_t gen,
                  uint64_t invoke, uint64_t response, uint16_t thread = 0, uint16_t index = 0) {
  OpRecord op;
  op.thread = thread;
  op.index = index;
  op.kind = kind;
  op.file = file;
  op.sector = sector;
  op.count = count;
  op.invoke = invoke;
  op.response = response;
  op.gen = gen;
  return op;
}

OpRecord Write(uint8_t file, uint32_t sector, uint32_t count, uint64_t gen, uint64_t invoke,
               uint64_t response) {
  return Mutation(OpKind::kWrite, file, sector, count, gen, invoke, response);
}

OpRecord Punch(uint8_t file, uint32_t sector, uint32_t count, uint64_t gen, uint64_t invoke,
               uint64_t response) {
  return Mutation(OpKind::kPunch, file, sector, count, gen, invoke, response);
}

// A read of sectors [sector, sector + seen.size()) that observed `seen`.
OpRecord Read(uint8_t file, uint32_t sector, const std::vector<Words>& seen, uint64_t invoke,
              uint64_t response, uint16_t thread = 1, uint16_t index = 0) {
  OpRecord op = Mutation(OpKind::kRead, file, sector, static_cast<uint32_t>(seen.size()), 0, invoke,
                         response, thread, index);
  Words buffer;
  for (const Words& s : seen) buffer.insert(buffer.end(), s.begin(), s.end());
  ObserveSectors(buffer.data(), static_cast<uint32_t>(seen.size()), op);
  return op;
}

OpRecord FinalRead(FinalPass pass, uint8_t file, uint32_t sector, const std::vector<Words>& seen,
                   uint64_t invoke, uint64_t response) {
  return Read(file, sector, seen, invoke, response, kFinalThread, static_cast<uint16_t>(pass));
}

// ftruncate to `size` sectors of a file of `file_sectors` (rule 5).
OpRecord Truncate(uint8_t file, uint32_t size, uint64_t invoke, uint64_t response, uint32_t file_sectors = 128) {
  return Mutation(OpKind::kTruncate, file, size, file_sectors - size, 0, invoke, response);
}

// A read of `count` sectors that returned only `seen` (it stopped at the
// end of the file).
OpRecord ShortRead(uint8_t file, uint32_t sector, uint32_t count, const std::vector<Words>& seen, uint64_t invoke,
                   uint64_t response) {
  OpRecord op = Read(file, sector, seen, invoke, response);
  op.count = count;
  op.reached = static_cast<uint32_t>(seen.size());
  return op;
}

// A load of `count` sectors that saw `seen`, then (if fewer) got SIGBUS.
OpRecord Load(uint8_t file, uint32_t sector, uint32_t count, const std::vector<Words>& seen, uint64_t invoke,
              uint64_t response) {
  OpRecord op = ShortRead(file, sector, count, seen, invoke, response);
  op.kind = OpKind::kLoad;
  op.sigbus = seen.size() < count;
  return op;
}

// ---------------------------------------------------------------------------
// Expectations.

std::string Dump(const CheckReport& report) {
  std::string s = "total " + std::to_string(report.total) + "\n";
  for (const Violation& v : report.violations) s += "  " + v.ToString() + "\n";
  return s;
}

void ExpectOk(const History& history, const CheckOptions& options = {}) {
  const CheckReport report = CheckHistory(history, options);
  EXPECT_TRUE(report.ok()) << Dump(report);
  EXPECT_TRUE(report.violations.empty());
}

// Exactly one violation, of this kind, at this sector, seen by the read that
// responded at `stamp`.
void ExpectOne(const History& history, ViolationKind kind, uint32_t file, uint32_t sector, uint64_t stamp,
               const CheckOptions& options = {}) {
  const CheckReport report = CheckHistory(history, options);
  ASSERT_EQ(report.total, 1u) << Dump(report);
  ASSERT_EQ(report.violations.size(), 1u);
  const Violation& v = report.violations[0];
  EXPECT_EQ(ViolationKindName(v.kind), std::string(ViolationKindName(kind))) << v.ToString();
  EXPECT_EQ(v.file, file) << v.ToString();
  EXPECT_EQ(v.sector, sector) << v.ToString();
  EXPECT_EQ(v.stamp, stamp) << v.ToString();
  EXPECT_FALSE(v.ToString().empty());
}

// ===========================================================================
// Histories that must be flagged.

// The invalidate_lock race: the punch evicts the cache, a read re-creates the
// page from the old blocks before the punch frees them, and a read that
// starts after the punch returned still sees the old data.
TEST(CheckerFlags, InvalidateLockRaceIsStale) {
  History h = {
      Write(0, 3, 1, 1, 1, 2),
      Punch(0, 3, 1, 2, 3, 6),
      Read(0, 3, {Tagged(0, 3, 1)}, 7, 8),
  };
  ExpectOne(h, ViolationKind::kStale, 0, 3, 8);
}

TEST(CheckerFlags, InvalidateLockRaceOnePageEachSectorFlagged) {
  // A whole page written, punched, then re-read stale: one STALE per sector.
  std::vector<Words> stale;
  for (uint32_t s = 8; s < 16; ++s) stale.push_back(Tagged(0, s, 1));
  History h = {
      Write(0, 8, 8, 1, 1, 2),
      Punch(0, 8, 8, 2, 3, 6),
      Read(0, 8, stale, 7, 8),
  };
  const CheckReport report = CheckHistory(h);
  ASSERT_EQ(report.total, 8u) << Dump(report);
  ASSERT_EQ(report.violations.size(), 8u);
  for (uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(report.violations[i].kind, ViolationKind::kStale);
    EXPECT_EQ(report.violations[i].file, 0u);
    EXPECT_EQ(report.violations[i].sector, 8 + i);
  }
}

TEST(CheckerFlags, PartialPageStaleOnlyThatSector) {
  // Only sector 13 of the page came back stale; its neighbours read zeros.
  std::vector<Words> seen(8, Zeros());
  seen[5] = Tagged(0, 13, 1);
  History h = {
      Write(0, 8, 8, 1, 1, 2),
      Punch(0, 8, 8, 2, 3, 6),
      Read(0, 8, seen, 7, 8),
  };
  ExpectOne(h, ViolationKind::kStale, 0, 13, 8);
}

TEST(CheckerFlags, ZerosAfterCompletedWriteIsStale) {
  History h = {
      Write(1, 4, 2, 1, 1, 2),
      Read(1, 4, {Tagged(1, 4, 1), Zeros()}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kStale, 1, 5, 4);
}

// fsync observes its range of the durable file as it returns: a write that
// completed before it began and is not there was not made durable. A write
// concurrent with it may or may not be; an fsync that observed nothing (a
// target that cannot see its storage) is judged on nothing.
TEST(CheckerFlags, FsyncThatMissesACompletedWriteIsStale) {
  OpRecord fsync = Read(0, 8, {Tagged(0, 8, 1), Zeros()}, 3, 6);
  fsync.kind = OpKind::kFsync;
  History h = {Write(0, 8, 2, 1, 1, 2), fsync};
  ExpectOne(h, ViolationKind::kStale, 0, 9, 6);

  OpRecord concurrent = Read(0, 8, {Zeros(), Zeros()}, 3, 6);
  concurrent.kind = OpKind::kFdatasync;
  ExpectOk({Write(0, 8, 2, 1, 2, 4), concurrent});

  OpRecord blind = Mutation(OpKind::kFsync, 0, 8, 2, 0, 3, 4);
  ExpectOk({Write(0, 8, 2, 1, 1, 2), blind});

  // A store through the mapping may complete before its folio is dirty (the
  // PTE is made writable first), and the durable file lags the cache: an
  // fsync that misses a completed store, after a read that saw it, is legal.
  OpRecord after_store = Read(0, 8, {Tagged(0, 8, 1)}, 5, 6);
  after_store.kind = OpKind::kFsync;
  ExpectOk({Write(0, 8, 1, 1, 1, 2), Mutation(OpKind::kStore, 0, 8, 1, 2, 2, 3),
            Read(0, 8, {Tagged(0, 8, 2)}, 3, 4), after_store});

  // A punch that overlaps the fsync may have dropped a dirty folio whose
  // blocks it has not freed yet: the durable file is then as it was when the
  // punch began.
  OpRecord during_punch = Read(0, 8, {Tagged(0, 8, 1)}, 6, 8);
  during_punch.kind = OpKind::kFsync;
  ExpectOk({Write(0, 8, 1, 1, 1, 2), Punch(0, 8, 1, 3, 3, 9), Write(0, 8, 1, 2, 4, 5), during_punch});
  OpRecord after_punch = Read(0, 8, {Tagged(0, 8, 1)}, 10, 11);
  after_punch.kind = OpKind::kFsync;
  ExpectOne({Write(0, 8, 1, 1, 1, 2), Punch(0, 8, 1, 3, 3, 9), after_punch}, ViolationKind::kStale, 0, 8, 11);
}

TEST(CheckerFlags, OverwrittenGenAfterCompletedWriteIsStale) {
  History h = {
      Write(0, 0, 1, 1, 1, 2),
      Write(0, 0, 1, 2, 3, 4),
      Read(0, 0, {Tagged(0, 0, 1)}, 5, 6),
  };
  ExpectOne(h, ViolationKind::kStale, 0, 0, 6);
}

TEST(CheckerFlags, AnotherFilesSectorIsForeign) {
  History h = {
      Write(0, 3, 1, 1, 1, 2),
      Write(1, 3, 1, 2, 3, 4),
      Read(0, 3, {Tagged(1, 3, 2)}, 5, 6),
  };
  ExpectOne(h, ViolationKind::kForeign, 0, 3, 6);
}

TEST(CheckerFlags, AnotherSectorOfTheSameFileIsForeign) {
  History h = {
      Write(0, 3, 3, 1, 1, 2),
      Read(0, 3, {Tagged(0, 3, 1), Tagged(0, 3, 1), Tagged(0, 5, 1)}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kForeign, 0, 4, 4);
}

TEST(CheckerFlags, ForeignEvenWhenTheSectorWasNeverWritten) {
  // The block-mapped store reused a freed block: f2 s9 was never written,
  // yet a read of it shows f0's data.
  History h = {
      Write(0, 1, 1, 5, 1, 2),
      Read(2, 9, {Tagged(0, 1, 5)}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kForeign, 2, 9, 4);
}

TEST(CheckerFlags, FlippedWordIsGarbage) {
  Words damaged = Tagged(0, 6, 1);
  damaged[20] ^= 0x100;
  History h = {
      Write(0, 6, 1, 1, 1, 2),
      Read(0, 6, {damaged}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 6, 4);
}

TEST(CheckerFlags, WordOfAnotherSectorInsideTornSectorIsGarbage) {
  // Words of f0 s7 inside a read of s6: no write of s6 produced them.
  History h = {
      Write(0, 6, 2, 1, 1, 2),
      Read(0, 6, {Splice(Tagged(0, 6, 1), Tagged(0, 7, 1), 40)}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 6, 4);
}

Words Uninit(uint32_t file, uint32_t sector) {
  Words w(kSectorWords);
  FillUninit(file, sector, w.data());
  return w;
}

TEST(CheckerFlags, UnfilledMemoryIsUninitAndNamesItsFolio) {
  History h = {
      Write(0, 10, 1, 1, 1, 2),
      Read(0, 10, {Uninit(0, 10)}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kUninit, 0, 10, 4);
  EXPECT_NE(CheckHistory(h).violations[0].ToString().find("unfilled memory of a folio of f0 p1"), std::string::npos);
}

TEST(CheckerFlags, UnfilledWordsInsideATornSectorAreUninit) {
  // A write's copy that stopped half way over memory nobody had filled: even
  // with no write of the sector at all, the words are named, not GARBAGE.
  History h = {Read(1, 3, {Splice(Tagged(1, 3, 1), Uninit(1, 3), 30)}, 3, 4), Write(1, 3, 1, 1, 1, 2)};
  ExpectOne(h, ViolationKind::kUninit, 1, 3, 4);
  History alone = {Read(1, 3, {Splice(Zeros(), Uninit(1, 3), 30)}, 3, 4)};
  ExpectOne(alone, ViolationKind::kUninit, 1, 3, 4);
}

TEST(CheckerFlags, FreedFolioPoisonIsGarbageAndSaysSo) {
  // A copy through a dropped reference: the model poisons freed folios.
  Words poison(kSectorWords, kFreedPoison);
  History h = {
      Write(0, 5, 1, 1, 1, 2),
      Read(0, 5, {poison}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 5, 4);
  EXPECT_NE(CheckHistory(h).violations[0].ToString().find("a freed folio's poison"), std::string::npos);
  Words flipped = Tagged(0, 5, 1);
  flipped[20] ^= 0x100;
  History other = {Write(0, 5, 1, 1, 1, 2), Read(0, 5, {flipped}, 3, 4)};
  EXPECT_EQ(CheckHistory(other).violations[0].ToString().find("poison"), std::string::npos);
}

TEST(CheckerFlags, WholeSectorOfUnknownGenIsGarbage) {
  History h = {
      Write(0, 2, 1, 1, 1, 2),
      Read(0, 2, {Tagged(0, 2, 77)}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 2, 4);
}

TEST(CheckerFlags, GenOfWriteToOtherSectorsIsGarbage) {
  // gen 1 was written to s0..s1 only; a self-consistent s2 of gen 1 was never
  // written by anyone.
  History h = {
      Write(0, 0, 2, 1, 1, 2),
      Read(0, 2, {Tagged(0, 2, 1)}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 2, 4);
}

TEST(CheckerFlags, TornWithOverwrittenGenIsTorn) {
  // gen 1 was replaced by the completed gen 2 before the read began; the read
  // mixes gen 1 with the concurrent gen 3.
  History h = {
      Write(0, 4, 1, 1, 1, 2),
      Write(0, 4, 1, 2, 3, 4),
      Write(0, 4, 1, 3, 5, 10),
      Read(0, 4, {Interleave(Tagged(0, 4, 1), Tagged(0, 4, 3))}, 6, 7),
  };
  ExpectOne(h, ViolationKind::kTorn, 0, 4, 7);
}

TEST(CheckerFlags, TornWithZerosOfCompletedWriteIsTorn) {
  // Half zeros (the initial file) half gen 2 (concurrent), but gen 1 had
  // completed before the read: the zeros are stale.
  History h = {
      Write(0, 4, 1, 1, 1, 2),
      Write(0, 4, 1, 2, 3, 10),
      Read(0, 4, {Splice(Zeros(), Tagged(0, 4, 2), 32)}, 4, 5),
  };
  ExpectOne(h, ViolationKind::kTorn, 0, 4, 5);
}

TEST(CheckerFlags, FinalBackendMissingCompletedWriteIsLost) {
  History h = {
      Write(0, 9, 1, 1, 1, 2),
      Write(0, 9, 1, 2, 3, 4),
      FinalRead(FinalPass::kBackend, 0, 9, {Tagged(0, 9, 1)}, 10, 11),
  };
  ExpectOne(h, ViolationKind::kLost, 0, 9, 11);
}

TEST(CheckerFlags, FinalBackendZerosForCompletedWriteIsLost) {
  History h = {
      Write(3, 0, 1, 1, 1, 2),
      FinalRead(FinalPass::kBackend, 3, 0, {Zeros()}, 10, 11),
  };
  ExpectOne(h, ViolationKind::kLost, 3, 0, 11);
}

TEST(CheckerFlags, FinalCachedOldDataAfterPunchIsStale) {
  // After a completed punch, old data is stale (the page left in the cache),
  // not a lost write.
  History h = {
      Write(0, 9, 1, 1, 1, 2),
      Punch(0, 9, 1, 2, 3, 4),
      FinalRead(FinalPass::kCached, 0, 9, {Tagged(0, 9, 1)}, 10, 11),
  };
  ExpectOne(h, ViolationKind::kStale, 0, 9, 11);
}

TEST(CheckerFlags, NonOverlappingReadsGoingBackwardsIsStale) {
  // w1 and w2 are both allowed to each read alone, but r1 saw gen 2 and
  // ended before r2 began, so r2 may no longer see gen 1.
  History h = {
      Write(0, 1, 1, 1, 1, 2),
      Write(0, 1, 1, 2, 3, 10),
      Read(0, 1, {Tagged(0, 1, 2)}, 4, 5, 1, 0),
      Read(0, 1, {Tagged(0, 1, 1)}, 6, 7, 2, 0),
  };
  ExpectOne(h, ViolationKind::kStale, 0, 1, 7);
}

// Rule 2 holds once a direct write has returned: a read that begins after
// it may not see the data it replaced, and reads that overlap it only it
// may disorder.
TEST(CheckerFlags, StaleDataAfterADirectWriteReturnedIsStale) {
  History h = {
      Write(0, 1, 1, 1, 1, 2),
      Mutation(OpKind::kDioWrite, 0, 0, 8, 2, 3, 10),
      Read(0, 1, {Tagged(0, 1, 2)}, 4, 5, 1, 0),   // overlaps the direct write: the storage
      Read(0, 1, {Tagged(0, 1, 1)}, 6, 7, 2, 0),   // overlaps it too: the cache's old page
      Read(0, 1, {Tagged(0, 1, 1)}, 11, 12, 3, 0), // after it returned: stale
  };
  ExpectOne(h, ViolationKind::kStale, 0, 1, 12);
}

// Rule 6 excuses the order of a collided sector, never data no write made.
TEST(CheckerFlags, ACollidedSectorStillFlagsAnotherFilesData) {
  History h = {
      Write(0, 1, 1, 1, 1, 2),
      Mutation(OpKind::kDioWrite, 0, 0, 8, 2, 3, 10),
      Mutation(OpKind::kStore, 0, 4, 1, 3, 4, 6),
      Read(0, 1, {Tagged(1, 1, 1)}, 11, 12, 2, 0),
  };
  ExpectOne(h, ViolationKind::kForeign, 0, 1, 12);
}

TEST(CheckerFlags, ReadsGoingBackwardsFromPunchZerosIsStale) {
  // r1 saw the concurrent punch's zeros; the later r2 sees the data again.
  History h = {
      Write(0, 1, 1, 1, 1, 2),
      Punch(0, 1, 1, 2, 3, 10),
      Read(0, 1, {Zeros()}, 4, 5, 1, 0),
      Read(0, 1, {Tagged(0, 1, 1)}, 6, 7, 2, 0),
  };
  ExpectOne(h, ViolationKind::kStale, 0, 1, 7);
}

TEST(CheckerFlags, ReadSeeingFutureWriteIsGarbage) {
  History h = {
      Read(0, 2, {Tagged(0, 2, 1)}, 3, 4),
      Write(0, 2, 1, 1, 5, 6),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 2, 4);
}

TEST(CheckerFlags, FutureGenAfterAnEarlierWriteIsGarbage) {
  // gen 3 exists, but its write began only after the read had returned.
  History h = {
      Write(0, 2, 1, 1, 1, 2),
      Read(0, 2, {Tagged(0, 2, 3)}, 3, 4),
      Write(0, 2, 1, 3, 5, 6),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 2, 4);
}

// ===========================================================================
// Histories that must pass.

TEST(CheckerPasses, EmptyHistory) { ExpectOk({}); }

TEST(CheckerPasses, FreshFileReadsZeros) {
  ExpectOk({Read(0, 0, {Zeros(), Zeros()}, 1, 2)});
}

TEST(CheckerPasses, SequentialWriteThenRead) {
  ExpectOk({
      Write(0, 0, 2, 1, 1, 2),
      Read(0, 0, {Tagged(0, 0, 1), Tagged(0, 1, 1)}, 3, 4),
  });
}

TEST(CheckerPasses, ReadConcurrentWithWriteSeesOldOrNew) {
  for (uint64_t seen : {uint64_t{1}, uint64_t{2}}) {
    SCOPED_TRACE(testing::Message() << "sees gen " << seen);
    ExpectOk({
        Write(0, 5, 1, 1, 1, 2),
        Write(0, 5, 1, 2, 3, 8),
        Read(0, 5, {Tagged(0, 5, seen)}, 4, 5),
    });
  }
  // The read began before the write and ended inside it.
  for (uint64_t seen : {uint64_t{1}, uint64_t{2}}) {
    SCOPED_TRACE(testing::Message() << "overlapping start, sees gen " << seen);
    ExpectOk({
        Write(0, 5, 1, 1, 1, 2),
        Read(0, 5, {Tagged(0, 5, seen)}, 3, 5),
        Write(0, 5, 1, 2, 4, 8),
    });
  }
  // Initial zeros or the first write's data.
  ExpectOk({Write(0, 5, 1, 1, 1, 4), Read(0, 5, {Zeros()}, 2, 3)});
  ExpectOk({Write(0, 5, 1, 1, 1, 4), Read(0, 5, {Tagged(0, 5, 1)}, 2, 3)});
}

TEST(CheckerPasses, LongWriteMayLinearizeAfterShortOne) {
  // w1 [1,10] overlaps w2 [2,3]; w1 may take effect after w2.
  ExpectOk({
      Write(0, 0, 1, 1, 1, 10),
      Write(0, 0, 1, 2, 2, 3),
      Read(0, 0, {Tagged(0, 0, 1)}, 4, 11),
  });
  ExpectOk({
      Write(0, 0, 1, 1, 1, 10),
      Write(0, 0, 1, 2, 2, 3),
      Read(0, 0, {Tagged(0, 0, 2)}, 4, 5),
  });
}

TEST(CheckerPasses, ReadConcurrentWithPunchSeesOldDataOrZeros) {
  for (bool zeros : {false, true}) {
    SCOPED_TRACE(zeros ? "zeros" : "old data");
    ExpectOk({
        Write(0, 3, 1, 1, 1, 2),
        Punch(0, 3, 1, 2, 3, 6),
        Read(0, 3, {zeros ? Zeros() : Tagged(0, 3, 1)}, 4, 5),
    });
  }
}

// Rule 2 does not hold across a direct write: a direct read sees its data
// on the storage, then a read through the cache the page it has yet to
// invalidate.
TEST(CheckerPasses, ReadsDuringADirectWriteMayDisagree) {
  History h = {
      Write(0, 1, 1, 1, 1, 2),
      Mutation(OpKind::kDioWrite, 0, 0, 8, 2, 3, 10),
      Read(0, 1, {Tagged(0, 1, 2)}, 4, 5, 1, 0),
      Read(0, 1, {Tagged(0, 1, 1)}, 6, 7, 2, 0),
      Read(0, 1, {Tagged(0, 1, 2)}, 11, 12, 3, 0),
  };
  ExpectOk(h);
}

// Rule 6: a store to a page that overlaps a direct write of it collides; the
// page's old contents may come back over the write afterwards.
TEST(CheckerPasses, ACollidedDirectWriteMayBeUndone) {
  History h = {
      Write(0, 1, 1, 1, 1, 2),
      Mutation(OpKind::kDioWrite, 0, 0, 8, 2, 3, 10),
      Mutation(OpKind::kStore, 0, 4, 1, 3, 4, 6),
      Read(0, 1, {Tagged(0, 1, 2)}, 11, 12, 2, 0),
      Read(0, 1, {Tagged(0, 1, 1)}, 13, 14, 3, 0),
  };
  ExpectOk(h);
  // Without the store, the same reads are a finding.
  h.erase(h.begin() + 2);
  ExpectOne(h, ViolationKind::kStale, 0, 1, 14);
}

// Rule 6 on a target whose folios may be larger than a page (the kernel): a
// store to another page of the file may dirty a folio that covers the
// direct write's page, whose old contents then come back over the write.
TEST(CheckerPasses, ALargeFolioCollidesAcrossPages) {
  History h = {
      Write(0, 1, 1, 1, 1, 2),
      Mutation(OpKind::kDioWrite, 0, 0, 8, 2, 3, 10),
      Mutation(OpKind::kStore, 0, 40, 1, 3, 4, 6),
      Read(0, 1, {Tagged(0, 1, 1)}, 13, 14, 2, 0),
  };
  ExpectOk(h, {.large_folios = true});
  // With folios of one page, the store's page is not the write's.
  ExpectOne(h, ViolationKind::kStale, 0, 1, 14);
}

// Rule 7: a collapse or insert moves data; a sector's history follows it.
OpRecord Shift(OpKind kind, uint8_t file, uint32_t sector, uint32_t count, uint64_t invoke, uint64_t response,
               uint16_t thread = 2) {
  return Mutation(kind, file, sector, count, 0, invoke, response, thread);
}

TEST(CheckerShifts, ACollapseMovesDataDown) {
  History h = {
      Write(0, 8, 16, 1, 1, 2),  // s8..s23
      Shift(OpKind::kCollapse, 0, 8, 8, 3, 4),
      // s8 now holds what s16 held: the tag names s16.
      Read(0, 8, {Tagged(0, 16, 1)}, 5, 6),
      // s16 now holds what s24 held: nothing was written there.
      Read(0, 16, {Zeros()}, 7, 8),
  };
  ExpectOk(h);
  // What s8 held before the collapse is gone from s8.
  h[2] = Read(0, 8, {Tagged(0, 8, 1)}, 5, 6);
  ExpectOne(h, ViolationKind::kStale, 0, 8, 6);
}

// Every file's prefill has the same generation: data a collapse moved away
// is named by the write of its own file, even when another file's write of
// that generation came later.
TEST(CheckerShifts, MovedDataIsFoundInItsOwnFilesWrites) {
  History h = {
      Write(0, 8, 16, 1, 1, 2),  // s8..s23 of f0
      Write(1, 8, 16, 1, 3, 4),  // the same generation, f1
      Shift(OpKind::kCollapse, 0, 8, 8, 5, 6),
      Read(0, 8, {Tagged(0, 16, 1)}, 7, 8),
  };
  ExpectOk(h);
  // What s8 held before the collapse: stale, not data never written.
  h[3] = Read(0, 8, {Tagged(0, 8, 1)}, 7, 8);
  ExpectOne(h, ViolationKind::kStale, 0, 8, 8);
}

TEST(CheckerShifts, AnInsertMovesDataUpAndOpensAHole) {
  History h = {
      Write(0, 8, 8, 1, 1, 2),  // s8..s15
      Shift(OpKind::kInsert, 0, 8, 8, 3, 4),
      Read(0, 8, {Zeros()}, 5, 6),             // the inserted range
      Read(0, 16, {Tagged(0, 8, 1)}, 7, 8),    // s16 holds what s8 held
  };
  ExpectOk(h);
  // The page cache kept the inserted range's old data.
  h[2] = Read(0, 8, {Tagged(0, 8, 1)}, 5, 6);
  ExpectOne(h, ViolationKind::kStale, 0, 8, 6);
}

TEST(CheckerShifts, ALaterWriteJoinsTheMovedHistory) {
  // A write at the moved data's new place after the collapse: s8 may show
  // it, and a read after it must not show the older, moved data.
  History h = {
      Write(0, 16, 8, 1, 1, 2),
      Shift(OpKind::kCollapse, 0, 8, 8, 3, 4),
      Write(0, 8, 1, 2, 5, 6),
      Read(0, 8, {Tagged(0, 8, 2)}, 7, 8),
  };
  ExpectOk(h);
  h[3] = Read(0, 8, {Tagged(0, 16, 1)}, 7, 8);
  ExpectOne(h, ViolationKind::kStale, 0, 8, 8);
}

TEST(CheckerShifts, OpsThatOverlapAShiftMayRunOnEitherSide) {
  // A write that overlaps the collapse may land before it (then moved to
  // s8) or after it (at s16); a read that overlaps it is not judged.
  History h = {
      Write(0, 16, 1, 1, 3, 6),
      Shift(OpKind::kCollapse, 0, 8, 8, 2, 5),
      Read(0, 8, {Tagged(0, 8, 7)}, 4, 7),  // never written: not judged here
      Read(0, 8, {Tagged(0, 16, 1)}, 8, 9),
      Read(0, 16, {Tagged(0, 16, 1)}, 10, 11),
  };
  ExpectOk(h);
}

TEST(CheckerShifts, ATruncateCutsWhatAnInsertPushedPastTheLargestFile) {
  // The insert pushes s72 to s136, past a file of 128 sectors; the truncate
  // cuts it there too, so the collapse brings back zeros.
  History h = {
      Write(0, 72, 1, 1, 1, 2),
      Shift(OpKind::kInsert, 0, 64, 64, 3, 4),
      Truncate(0, 0, 5, 6),
      Write(0, 0, 1, 2, 7, 8),  // the file grows again
      Shift(OpKind::kCollapse, 0, 0, 64, 9, 10),
      Read(0, 72, {Zeros()}, 11, 12),
  };
  h[5].count = 1;
  ExpectOk(h);
  h.erase(h.begin() + 2);
  ExpectOne(h, ViolationKind::kStale, 0, 72, 12);
}

// Rule 5 with the size a shift says it set (the model's): the size it found
// is that, less or more its count, and must be one the size register allows
// then, and one the kernel lets it move.
TEST(CheckerShifts, AShiftsSizeFollowsTheSizeBeforeIt) {
  History h = {
      Truncate(0, 64, 1, 2),
      Shift(OpKind::kCollapse, 0, 8, 8, 3, 4),
      Shift(OpKind::kInsert, 0, 16, 16, 5, 6),
      ShortRead(0, 64, 16, {Zeros(), Zeros(), Zeros(), Zeros(), Zeros(), Zeros(), Zeros(), Zeros()}, 7, 8),
  };
  h[1].size = 56;
  h[2].size = 72;
  ExpectOk(h);
  ExpectOk(h, {.file_sectors = 128});
  // A collapse that found 68 sectors, where the truncate left 64.
  h[1].size = 60;
  h[2].size = 76;
  h[3] = ShortRead(0, 64, 16, std::vector<Words>(12, Zeros()), 7, 8);
  ExpectOne(h, ViolationKind::kSize, 0, 67, 4);
  // One that found a size short of the truncate's: the end the truncate set
  // is inside the file the collapse saw, which it may only be below the
  // size every file starts with.
  h[1].size = 40;
  h[2].size = 56;
  h[3] = ShortRead(0, 48, 16, std::vector<Words>(8, Zeros()), 7, 8);
  ExpectOk(h);  // without the files' size, nothing says s48 was inside
  ExpectOne(h, ViolationKind::kSize, 0, 48, 4, {.file_sectors = 128});
  // A file never starts larger than every file does.
  History whole = {Shift(OpKind::kCollapse, 0, 8, 8, 1, 2)};
  whole[0].size = 128;
  ExpectOk(whole);
  ExpectOne(whole, ViolationKind::kSize, 0, 8, 2, {.file_sectors = 128});
}

TEST(CheckerShifts, ACollapseMayNotReachTheEndOfTheFile) {
  History h = {
      Truncate(0, 64, 1, 2),
      Shift(OpKind::kCollapse, 0, 48, 8, 3, 4),
  };
  h[1].size = 56;
  ExpectOk(h);
  h[1] = Shift(OpKind::kCollapse, 0, 56, 8, 3, 4);
  h[1].size = 56;  // from 64: the range ended at the end (EINVAL)
  ExpectOne(h, ViolationKind::kSize, 0, 56, 4);
}

TEST(CheckerShifts, ARefusedShiftMovesNothing) {
  History h = {
      Write(0, 8, 1, 1, 1, 2),
      Shift(OpKind::kCollapse, 0, 0, 8, 3, 4),
      Read(0, 8, {Tagged(0, 8, 1)}, 5, 6),
  };
  h[1].reached = 0;  // EINVAL: it reached the end of the file
  ExpectOk(h);
  h[1].reached = UINT32_MAX;
  ExpectOne(h, ViolationKind::kStale, 0, 8, 6);
}

// A read that overlapped a truncate copied a store past the new end from
// the page: that data was never the file's, so a later read that sees the
// truncate's zeros has not gone back in time (rule 2 does not use it).
TEST(CheckerPasses, AStorePastTheEndSeenByAnOverlappingReadOrdersNothing) {
  History h = {
      Truncate(0, 1, 2, 4),
      Read(0, 1, {Tagged(0, 1, 1)}, 1, 7),
      Mutation(OpKind::kStore, 0, 1, 1, 1, 5, 6),
      FinalRead(FinalPass::kBackend, 0, 1, {Zeros()}, 8, 9),
  };
  ExpectOk(h);
}

// The same for a store that may have lain past the end: the truncate to s4
// overlaps a write that grows the file to s24, so either came last, and the
// store after both wrote the file's s4 or a page past its end. A read that
// overlapped the store saw it; the file ends with zeros there (the truncate
// came last). Neither orders the other. With the order known (the truncate
// first), the store is the file's data, and zeros at the end are LOST.
TEST(CheckerPasses, AStoreThatMayHaveBeenPastTheEndOrdersNothing) {
  History h = {
      Truncate(0, 4, 1, 10),
      Write(0, 20, 4, 1, 2, 3),
      Read(0, 4, {Tagged(0, 4, 2)}, 4, 13),
      Mutation(OpKind::kStore, 0, 4, 1, 2, 11, 12),
      FinalRead(FinalPass::kBackend, 0, 4, {Zeros()}, 14, 15),
  };
  ExpectOk(h);
  h[0] = Truncate(0, 4, 1, 2);
  h[1] = Write(0, 20, 4, 1, 3, 4);
  h[2] = Read(0, 4, {Tagged(0, 4, 2)}, 5, 13);
  ExpectOne(h, ViolationKind::kLost, 0, 4, 15);
}

TEST(CheckerPasses, ZerosAfterPunchAfterWrite) {
  ExpectOk({
      Write(0, 3, 1, 1, 1, 2),
      Punch(0, 3, 1, 2, 3, 4),
      Read(0, 3, {Zeros()}, 5, 6),
  });
}

TEST(CheckerPasses, TornBetweenTwoConcurrentWrites) {
  ExpectOk({
      Write(0, 4, 1, 1, 1, 2),
      Write(0, 4, 1, 2, 3, 10),
      Write(0, 4, 1, 3, 4, 9),
      Read(0, 4, {Interleave(Tagged(0, 4, 2), Tagged(0, 4, 3))}, 5, 6),
  });
}

TEST(CheckerPasses, TornBetweenOldDataAndConcurrentWrite) {
  ExpectOk({
      Write(0, 4, 1, 1, 1, 2),
      Write(0, 4, 1, 2, 3, 10),
      Read(0, 4, {Splice(Tagged(0, 4, 1), Tagged(0, 4, 2), 17)}, 4, 5),
  });
}

TEST(CheckerPasses, TornBetweenOldDataAndZerosOfConcurrentPunch) {
  for (uint32_t from : {3u, 32u, 63u}) {
    SCOPED_TRACE(testing::Message() << "zeros from word " << from);
    ExpectOk({
        Write(0, 4, 1, 1, 1, 2),
        Punch(0, 4, 1, 2, 3, 10),
        Read(0, 4, {Splice(Tagged(0, 4, 1), Zeros(), from)}, 4, 5),
    });
    ExpectOk({
        Write(0, 4, 1, 1, 1, 2),
        Punch(0, 4, 1, 2, 3, 10),
        Read(0, 4, {Splice(Zeros(), Tagged(0, 4, 1), from)}, 4, 5),
    });
  }
}

TEST(CheckerPasses, TornInSectorZero) {
  // Word 1 of every sector-0 write is 0 (the sector index), the same as a
  // hole's word: it must not count as "zeros seen" when no zero is allowed.
  ExpectOk({
      Write(2, 0, 1, 1, 1, 2),
      Write(2, 0, 1, 2, 3, 10),
      Read(2, 0, {Interleave(Tagged(2, 0, 1), Tagged(2, 0, 2))}, 4, 5),
  });
  ExpectOk({
      Write(2, 0, 1, 1, 1, 2),
      Write(2, 0, 1, 2, 3, 10),
      Read(2, 0, {Splice(Tagged(2, 0, 2), Tagged(2, 0, 1), 40)}, 4, 5),
  });
  // Old data and a concurrent punch's zeros in sector 0.
  ExpectOk({
      Write(2, 0, 1, 1, 1, 2),
      Punch(2, 0, 1, 2, 3, 10),
      Read(2, 0, {Splice(Tagged(2, 0, 1), Zeros(), 8)}, 4, 5),
  });
}

TEST(CheckerFlags, TornInSectorZeroStillFlagged) {
  // The sector-0 word-1 ambiguity must not hide a real TORN in sector 0.
  History h = {
      Write(2, 0, 1, 1, 1, 2),
      Write(2, 0, 1, 2, 3, 4),
      Write(2, 0, 1, 3, 5, 10),
      Read(2, 0, {Interleave(Tagged(2, 0, 1), Tagged(2, 0, 3))}, 6, 7),
  };
  ExpectOne(h, ViolationKind::kTorn, 2, 0, 7);
}

TEST(CheckerFlags, HeaderWordsOfOldDataAfterPunchAreTorn) {
  // Words 0-1 (magic+file, sector) are the same in every write of a sector;
  // they alone still prove old data after a completed punch.
  for (uint32_t sector : {0u, 5u}) {
    SCOPED_TRACE(testing::Message() << "sector " << sector);
    History h = {
        Write(0, sector, 1, 1, 1, 2),
        Punch(0, sector, 1, 2, 3, 4),
        Read(0, sector, {Splice(Tagged(0, sector, 1), Zeros(), 2)}, 5, 6),
    };
    ExpectOne(h, ViolationKind::kTorn, 0, sector, 6);
  }
}

TEST(CheckerFlags, HeaderWordsOfNeverWrittenSectorAreGarbage) {
  History h = {
      Write(0, 4, 1, 1, 1, 2),
      Read(0, 5, {Splice(Tagged(0, 5, 1), Zeros(), 2)}, 3, 4),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 5, 4);
}

TEST(CheckerPasses, HeaderWordsOfOldDataDuringPunch) {
  for (uint32_t sector : {0u, 5u}) {
    SCOPED_TRACE(testing::Message() << "sector " << sector);
    ExpectOk({
        Write(0, sector, 1, 1, 1, 2),
        Punch(0, sector, 1, 2, 3, 10),
        Read(0, sector, {Splice(Tagged(0, sector, 1), Zeros(), 2)}, 4, 5),
    });
  }
}

TEST(CheckerPasses, FailedWriteMayOrMayNotBeSeen) {
  // gen 2 failed (response never): later reads may see it or the old gen 1.
  for (uint64_t seen : {uint64_t{1}, uint64_t{2}}) {
    SCOPED_TRACE(testing::Message() << "sees gen " << seen);
    ExpectOk({
        Write(0, 7, 1, 1, 1, 2),
        Write(0, 7, 1, 2, 3, kStampNever),
        Read(0, 7, {Tagged(0, 7, seen)}, 4, 5),
        Read(0, 7, {Tagged(0, 7, seen)}, 6, 7),
        FinalRead(FinalPass::kBackend, 0, 7, {Tagged(0, 7, seen)}, 100, 101),
    });
  }
  // A failed punch likewise.
  for (bool zeros : {false, true}) {
    ExpectOk({
        Write(0, 7, 1, 1, 1, 2),
        Punch(0, 7, 1, 2, 3, kStampNever),
        Read(0, 7, {zeros ? Zeros() : Tagged(0, 7, 1)}, 4, 5),
    });
  }
  // Not seen at first, seen later: it took effect in between.
  ExpectOk({
      Write(0, 7, 1, 1, 1, 2),
      Write(0, 7, 1, 2, 3, kStampNever),
      Read(0, 7, {Tagged(0, 7, 1)}, 4, 5),
      Read(0, 7, {Tagged(0, 7, 2)}, 6, 7),
  });
}

TEST(CheckerFlags, FailedWriteSeenThenUnseenIsStale) {
  // Once a read saw the failed write, it has taken effect: a later read may
  // not go back to gen 1.
  History h = {
      Write(0, 7, 1, 1, 1, 2),
      Write(0, 7, 1, 2, 3, kStampNever),
      Read(0, 7, {Tagged(0, 7, 2)}, 4, 5),
      Read(0, 7, {Tagged(0, 7, 1)}, 6, 7),
  };
  ExpectOne(h, ViolationKind::kStale, 0, 7, 7);
}

TEST(CheckerFlags, TwoLaterReadsThatDisagreeOnOverlappingWritesGoBack) {
  // The store and the punch overlap, so either may come last, and each read
  // alone is legal. But the first read, after both ended, saw the store: the
  // punch came first, and the second read may not see its zeros again.
  History h = {
      Write(0, 3, 1, 5, 1, 8),
      Punch(0, 3, 1, 6, 2, 4),
      Read(0, 3, {Tagged(0, 3, 5)}, 10, 11),
      FinalRead(FinalPass::kBackend, 0, 3, {Zeros()}, 12, 13),
  };
  ExpectOne(h, ViolationKind::kLost, 0, 3, 13);
}

TEST(CheckerPasses, ALaterReadMaySeeAWriteThatCouldFollowTheEarlierRead) {
  // The first read saw the punch's zeros while the write was still running:
  // the write may come after it, so a later read may see the write.
  History h = {
      Write(0, 3, 1, 5, 1, 8),
      Punch(0, 3, 1, 6, 2, 4),
      Read(0, 3, {Zeros()}, 5, 6),
      Read(0, 3, {Tagged(0, 3, 5)}, 10, 11),
  };
  ExpectOk(h);
}

TEST(CheckerFlags, FailedWriteSeenBeforeInvokeIsGarbage) {
  History h = {
      Read(0, 7, {Tagged(0, 7, 2)}, 1, 2),
      Write(0, 7, 1, 2, 3, kStampNever),
  };
  ExpectOne(h, ViolationKind::kGarbage, 0, 7, 2);
}

TEST(CheckerPasses, SeveralFilesMultiSectorReads) {
  // f0 s0..15 gen 1, f1 s0..15 gen 2, punch f0 s4..7, f1 s8..9 gen 3 still
  // running when f1 is read (s8 new, s9 old: each sector valid alone).
  std::vector<Words> f0, f1;
  for (uint32_t s = 0; s < 16; ++s) f0.push_back(s >= 4 && s < 8 ? Zeros() : Tagged(0, s, 1));
  for (uint32_t s = 0; s < 16; ++s) f1.push_back(Tagged(1, s, s == 8 ? 3 : 2));
  History h = {
      Write(0, 0, 16, 1, 1, 2),
      Write(1, 0, 16, 2, 3, 4),
      Punch(0, 4, 4, 4, 5, 6),
      Write(1, 8, 2, 3, 7, 20),
      Read(0, 0, f0, 8, 9),
      Read(1, 0, f1, 10, 11),
      Read(2, 0, {Zeros(), Zeros(), Zeros()}, 12, 13),
  };
  ExpectOk(h);

  // The same with one sector of f1 wrong: only that one is flagged.
  f1[13] = Zeros();
  h[5] = Read(1, 0, f1, 10, 11);
  ExpectOne(h, ViolationKind::kStale, 1, 13, 11);
}

// ---------------------------------------------------------------------------
// Generated histories.

// A sequential history over two files of 32 sectors: random writes, punches
// and reads, each read seeing the latest value of every sector. Returns, per
// (file, sector), the values (gen, 0 = zeros) it held over time.
struct Sequential {
  History history;
  std::map<std::pair<uint32_t, uint32_t>, std::vector<uint64_t>> values;
};

Sequential MakeSequential(uint64_t seed, int ops) {
  constexpr uint32_t kFiles = 2, kSectors = 32;
  Rng rng(seed);
  Sequential out;
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> now;  // missing: zeros
  uint64_t stamp = 1, gen = 1;
  for (int i = 0; i < ops; ++i) {
    const auto file = static_cast<uint8_t>(rng.Below(kFiles));
    const auto sector = static_cast<uint32_t>(rng.Below(kSectors));
    const auto count = static_cast<uint32_t>(rng.Range(1, std::min<uint32_t>(8, kSectors - sector)));
    const uint64_t pick = rng.Below(10);
    const auto thread = static_cast<uint16_t>(rng.Below(4));
    const auto index = static_cast<uint16_t>(i);
    if (pick < 4) {
      const OpKind kind = pick < 3 ? OpKind::kWrite : OpKind::kPunch;
      const uint64_t g = gen++;
      out.history.push_back(Mutation(kind, file, sector, count, g, stamp, stamp + 1, thread, index));
      for (uint32_t s = sector; s < sector + count; ++s) {
        const uint64_t v = kind == OpKind::kWrite ? g : 0;
        now[{file, s}] = v;
        out.values[{file, s}].push_back(v);
      }
    } else {
      std::vector<Words> seen;
      for (uint32_t s = sector; s < sector + count; ++s) {
        const uint64_t v = now.count({file, s}) ? now[{file, s}] : 0;
        seen.push_back(v == 0 ? Zeros() : Tagged(file, s, v));
      }
      out.history.push_back(Read(file, sector, seen, stamp, stamp + 1, thread, index));
    }
    stamp += 2;
  }
  return out;
}

TEST(CheckerGenerated, SequentialHistoryPassesAndMutationIsCaught) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Sequential seq = MakeSequential(seed, 400);
    ExpectOk(seq.history);

    // Mutate one sector of the last read that can see an older, different
    // value: it must be flagged STALE at exactly that sector.
    bool mutated = false;
    for (size_t i = seq.history.size(); i-- > 0 && !mutated;) {
      OpRecord& op = seq.history[i];
      if (op.kind != OpKind::kRead) continue;
      // The values each sector held up to this read (writes before it).
      for (uint32_t j = 0; j < op.count && !mutated; ++j) {
        const uint32_t s = op.sector + j;
        std::vector<uint64_t> before = {0};
        for (size_t k = 0; k < i; ++k) {
          const OpRecord& w = seq.history[k];
          if (w.Writes() && w.file == op.file && s >= w.sector && s < w.sector + w.count)
            before.push_back(w.kind == OpKind::kWrite ? w.gen : 0);
        }
        const uint64_t latest = before.back();
        uint64_t older = latest;
        for (uint64_t v : before)
          if (v != latest) older = v;
        if (older == latest) continue;
        std::vector<Words> seen;
        for (uint32_t t = 0; t < op.count; ++t) {
          const SectorTag& tag = op.observed[t];
          seen.push_back(tag.kind == SectorTag::kZero ? Zeros() : Tagged(op.file, op.sector + t, tag.gen));
        }
        seen[j] = older == 0 ? Zeros() : Tagged(op.file, s, older);
        const uint64_t invoke = op.invoke, response = op.response;
        op = Read(op.file, op.sector, seen, invoke, response, op.thread, op.index);
        ExpectOne(seq.history, ViolationKind::kStale, op.file, s, response);
        mutated = true;
      }
    }
    EXPECT_TRUE(mutated);
  }
}

// A concurrent but linearizable history of one file: ops are laid out in a
// linear order with points 10000, 11000, ...; each op's interval straddles its
// point by up to 4 steps either side, so neighbours overlap. A read sees
// the state at its point, or, sometimes, a sector torn between that state and
// the state at an earlier moment inside its own interval (each word is then a
// valid read of its own). Some writes and punches fail (response never) and
// take effect or not. The checker must accept every such history.
History MakeLinearizable(uint64_t seed, int ops) {
  constexpr uint32_t kSectors = 6;
  Rng rng(seed);
  struct Raw {
    OpRecord op;
    std::vector<Words> seen;  // reads
    uint64_t invoke_raw, response_raw;
  };
  std::vector<Raw> raws;
  std::vector<uint64_t> now(kSectors, 0);        // gen per sector, 0 zeros
  std::vector<std::vector<uint64_t>> after;      // `now` after op j
  auto content = [](uint32_t s, uint64_t v) { return v == 0 ? Zeros() : Tagged(0, s, v); };
  uint64_t gen = 1;
  auto offset = [&] {  // never a multiple of 500: no stamp equals a point
    uint64_t off;
    do off = rng.Range(1, 4000);
    while (off % 500 == 0);
    return off;
  };
  auto point = [](int i) { return 10000 + 1000 * uint64_t(i); };
  for (int i = 0; i < ops; ++i) {
    const auto sector = static_cast<uint32_t>(rng.Below(kSectors));
    const auto count = static_cast<uint32_t>(rng.Range(1, std::min<uint32_t>(3, kSectors - sector)));
    const uint64_t pick = rng.Below(10);
    Raw raw;
    raw.invoke_raw = point(i) - offset();
    raw.response_raw = point(i) + offset();
    if (pick < 4) {
      const bool punch = pick == 3;
      const bool failed = rng.Chance(1, 8);
      const bool effect = !failed || rng.Chance(1, 2);
      const uint64_t g = gen++;
      raw.op = Mutation(punch ? OpKind::kPunch : OpKind::kWrite, 0, sector, count, g, 0, 0, 0, uint16_t(i));
      if (failed) raw.response_raw = UINT64_MAX;
      if (effect)
        for (uint32_t s = sector; s < sector + count; ++s) now[s] = punch ? 0 : g;
    } else {
      raw.op = Mutation(OpKind::kRead, 0, sector, count, 0, 0, 0, 1, uint16_t(i));
      // An earlier moment inside the interval: just after op j's point.
      int j = i - 1;
      while (j >= 0 && point(j) + 500 > raw.invoke_raw) --j;
      ++j;  // the first op whose point + 500 is inside the interval
      const bool tear = j <= i - 1 && rng.Chance(1, 2);
      const int from = !tear ? i - 1 : rng.Chance(1, 2) ? j : int(rng.Range(uint64_t(j), uint64_t(i - 1)));
      const uint32_t split = static_cast<uint32_t>(rng.Range(1, kSectorWords - 1));
      const bool interleave = rng.Chance(1, 2);
      for (uint32_t s = sector; s < sector + count; ++s) {
        Words at = content(s, now[s]);
        if (tear) {
          Words early = content(s, after[from][s]);
          at = interleave ? Interleave(early, at) : Splice(early, at, split);
        }
        raw.seen.push_back(at);
      }
    }
    after.push_back(now);
    raws.push_back(std::move(raw));
  }
  // Rank the raw stamps into 1, 2, 3...: the order (and so the history) is
  // unchanged, and no stamp equals a point, so every point stays inside its
  // interval.
  std::vector<std::pair<uint64_t, uint64_t*>> stamps;
  for (Raw& r : raws) {
    stamps.push_back({r.invoke_raw, &r.op.invoke});
    if (r.response_raw != UINT64_MAX) stamps.push_back({r.response_raw, &r.op.response});
    else r.op.response = kStampNever;
  }
  std::stable_sort(stamps.begin(), stamps.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < stamps.size(); ++i) *stamps[i].second = i + 1;
  History h;
  for (Raw& r : raws) {
    if (r.op.kind == OpKind::kRead)
      h.push_back(Read(0, r.op.sector, r.seen, r.op.invoke, r.op.response, r.op.thread, r.op.index));
    else
      h.push_back(r.op);
  }
  return h;
}

TEST(CheckerGenerated, ConcurrentLinearizableHistoriesPass) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    ExpectOk(MakeLinearizable(seed, 120));
  }
}

TEST(CheckerGenerated, ShuffledRecordOrderDoesNotMatter) {
  // Threads' histories are merged in any order: only stamps count.
  History h = MakeLinearizable(7, 150);
  Rng rng(99);
  for (size_t i = h.size(); i > 1; --i) std::swap(h[i - 1], h[rng.Below(i)]);
  ExpectOk(h);
}

// ---------------------------------------------------------------------------
// The report itself.

TEST(CheckerReport, ViolationsSortedByStampThenFileThenSector) {
  // Records in the "wrong" order: the latest violation first.
  History h = {
      Write(1, 0, 4, 1, 1, 2),
      Write(0, 0, 4, 2, 3, 4),
      Read(1, 2, {Zeros(), Zeros()}, 20, 21),                  // f1 s2, s3 at 21
      Read(0, 0, {Zeros()}, 10, 11),                            // f0 s0 at 11
      Read(1, 0, {Zeros()}, 12, 13),                            // f1 s0 at 13
      Read(0, 3, {Tagged(1, 3, 1)}, 14, 15),                    // f0 s3 at 15
  };
  const CheckReport report = CheckHistory(h);
  ASSERT_EQ(report.total, 5u) << Dump(report);
  ASSERT_EQ(report.violations.size(), 5u);
  const std::vector<std::tuple<uint64_t, uint32_t, uint32_t>> want = {
      {11, 0, 0}, {13, 1, 0}, {15, 0, 3}, {21, 1, 2}, {21, 1, 3}};
  for (size_t i = 0; i < want.size(); ++i) {
    const Violation& v = report.violations[i];
    EXPECT_EQ(std::tuple(v.stamp, v.file, v.sector), want[i]) << v.ToString();
  }
  EXPECT_EQ(report.violations[2].kind, ViolationKind::kForeign);
  for (size_t i = 1; i < report.violations.size(); ++i) {
    const Violation& a = report.violations[i - 1];
    const Violation& b = report.violations[i];
    EXPECT_LE(std::tuple(a.stamp, a.file, a.sector), std::tuple(b.stamp, b.file, b.sector));
  }
}

TEST(CheckerReport, KeepsEarliestSixteenCountsAll) {
  History h = {Write(0, 0, 64, 1, 1, 2)};
  // 40 stale reads of zeros, responses from late to early.
  for (uint32_t i = 0; i < 40; ++i) {
    const uint64_t invoke = 1000 - 2 * uint64_t(i);
    h.push_back(Read(0, i, {Zeros()}, invoke, invoke + 1));
  }
  const CheckReport report = CheckHistory(h);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.total, 40u);
  ASSERT_EQ(report.violations.size(), 16u);
  // The earliest stamps belong to the last reads pushed (sectors 39, 38...).
  for (uint32_t i = 0; i < 16; ++i) {
    EXPECT_EQ(report.violations[i].sector, 39 - i);
    EXPECT_EQ(report.violations[i].stamp, 1000 - 2 * uint64_t(39 - i) + 1);
  }
}

TEST(CheckerReport, ToStringNamesKindFileSectorAndReader) {
  History h = {
      Write(2, 40, 1, 1, 1, 2),
      Punch(2, 40, 1, 2, 3, 6),
      Read(2, 40, {Tagged(2, 40, 1)}, 7, 8, 3, 5),
  };
  const CheckReport report = CheckHistory(h);
  ASSERT_EQ(report.violations.size(), 1u) << Dump(report);
  const std::string line = report.violations[0].ToString();
  EXPECT_NE(line.find("STALE"), std::string::npos) << line;
  EXPECT_NE(line.find("f2 s40"), std::string::npos) << line;
  EXPECT_NE(line.find("t3#5 read f2 s40+1"), std::string::npos) << line;
  EXPECT_NE(line.find("gen 1"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

TEST(CheckerReport, ToStringOfEveryKind) {
  std::set<std::string> names;
  for (uint32_t k = 0; k <= static_cast<uint32_t>(ViolationKind::kMaxValue); ++k) {
    Violation v;
    v.kind = static_cast<ViolationKind>(k);
    v.file = 1;
    v.sector = 17;
    const std::string name = ViolationKindName(v.kind);
    names.insert(name);
    const std::string line = v.ToString();
    // Scheduler findings name no sector: "DEADLOCK: <who>: <what each waits for>".
    const bool scheduler = v.kind == ViolationKind::kDeadlock || v.kind == ViolationKind::kLivelock;
    EXPECT_EQ(line.rfind(name + (scheduler ? ": " : " f1 s17"), 0), 0u) << line;
  }
  EXPECT_EQ(names, (std::set<std::string>{"STALE", "FOREIGN", "TORN", "LOST", "GARBAGE", "DEADLOCK",
                                          "LIVELOCK", "ASSERT", "SIGBUS", "UNINIT", "SIZE"}));
}

TEST(CheckerReport, FinalPassReaderIsNamed) {
  History h = {
      Write(0, 9, 1, 1, 1, 2),
      FinalRead(FinalPass::kBackend, 0, 9, {Zeros()}, 10, 11),
  };
  const CheckReport report = CheckHistory(h);
  ASSERT_EQ(report.violations.size(), 1u);
  const std::string line = report.violations[0].ToString();
  EXPECT_NE(line.find("LOST f0 s9"), std::string::npos) << line;
  EXPECT_NE(line.find("final/backend"), std::string::npos) << line;
}

// ===========================================================================
// The kernel target's oracle: reads may tear inside a word (byte tearing).

constexpr CheckOptions kBytes{.byte_tearing = true};

TEST(KernelOracle, BytesOfTwoConcurrentWritesPass) {
  const History h = {
      Write(0, 4, 1, 1, 1, 2),
      Write(0, 4, 1, 2, 3, 10),
      Write(0, 4, 1, 3, 4, 9),
      Read(0, 4, {ByteSplice(Tagged(0, 4, 2), Tagged(0, 4, 3), 20, 3)}, 5, 6),
  };
  ExpectOk(h, kBytes);
  // The model's oracle allows tearing between words only.
  ExpectOne(h, ViolationKind::kGarbage, 0, 4, 6);
}

TEST(KernelOracle, BytesOfOldDataAndConcurrentPunchPass) {
  for (uint32_t byte : {1u, 4u, 7u}) {
    SCOPED_TRACE(byte);
    ExpectOk({
                 Write(0, 4, 1, 1, 1, 2),
                 Punch(0, 4, 1, 2, 3, 10),
                 Read(0, 4, {ByteSplice(Tagged(0, 4, 1), Zeros(), 9, byte)}, 4, 5),
             },
             kBytes);
  }
}

TEST(KernelOracle, TornHeaderWordPasses) {
  // The generation word itself torn between two concurrent writes.
  ExpectOk({
               Write(0, 4, 1, 300, 1, 10),
               Write(0, 4, 1, 0x1200, 2, 9),
               Read(0, 4, {ByteSplice(Tagged(0, 4, 300), Tagged(0, 4, 0x1200), 2, 1)}, 3, 4),
           },
           kBytes);
}

TEST(KernelOracle, BytesOfAnOverwrittenWriteAreTorn) {
  // gen 1 was replaced by the completed gen 2 before the read began; the
  // read's word 20 has bytes of gen 1 and of the concurrent gen 3.
  ExpectOne(
      {
          Write(0, 4, 1, 1, 1, 2),
          Write(0, 4, 1, 2, 3, 4),
          Write(0, 4, 1, 3, 5, 10),
          Read(0, 4, {ByteSplice(Tagged(0, 4, 1), Tagged(0, 4, 3), 20, 5)}, 6, 7),
      },
      ViolationKind::kTorn, 0, 4, 7, kBytes);
}

TEST(KernelOracle, StaleZeroBytesAreTorn) {
  // The hole was overwritten by a completed write before the read began.
  ExpectOne(
      {
          Write(0, 4, 1, 1, 1, 2),
          Write(0, 4, 1, 2, 3, 10),
          Read(0, 4, {ByteSplice(Zeros(), Tagged(0, 4, 2), 30, 6)}, 4, 5),
      },
      ViolationKind::kTorn, 0, 4, 5, kBytes);
}

TEST(KernelOracle, ByteNoWriteProducedIsGarbage) {
  // One byte of a sector changed to a value no write of the sector has there.
  const Words old = Tagged(0, 6, 1), now = Tagged(0, 6, 2);
  Words damaged = now;
  uint8_t b = 0x5a;
  while (b == static_cast<uint8_t>(old[40] >> 16) || b == static_cast<uint8_t>(now[40] >> 16) || b == 0) ++b;
  damaged[40] = (now[40] & ~(uint64_t{0xff} << 16)) | uint64_t{b} << 16;
  ExpectOne(
      {
          Write(0, 6, 1, 1, 1, 2),
          Write(0, 6, 1, 2, 3, 10),
          Read(0, 6, {damaged}, 4, 5),
      },
      ViolationKind::kGarbage, 0, 6, 5, kBytes);
}

TEST(KernelOracle, StaleSectorIsStale) {
  // The invalidate_lock race as the kernel target would show it.
  ExpectOne(
      {
          Write(0, 3, 1, 1, 1, 2),
          Punch(0, 3, 1, 2, 3, 6),
          Read(0, 3, {Tagged(0, 3, 1)}, 7, 8),
      },
      ViolationKind::kStale, 0, 3, 8, kBytes);
}

TEST(KernelOracle, AnotherFilesSectorIsForeign) {
  ExpectOne(
      {
          Write(0, 3, 1, 1, 1, 2),
          Write(1, 3, 1, 2, 1, 2),
          Read(0, 3, {Tagged(1, 3, 2)}, 3, 4),
      },
      ViolationKind::kForeign, 0, 3, 4, kBytes);
}

TEST(KernelOracle, ZeroRangeWritesZeros) {
  // ZERO_RANGE zeroes like a punch: zeros after it are what the read must see,
  // and the old data after it is stale.
  ExpectOk({Write(0, 3, 1, 1, 1, 2), Mutation(OpKind::kZeroRange, 0, 3, 1, 2, 3, 4), Read(0, 3, {Zeros()}, 5, 6)},
           kBytes);
  ExpectOne({Write(0, 3, 1, 1, 1, 2), Mutation(OpKind::kZeroRange, 0, 3, 1, 2, 3, 4),
             Read(0, 3, {Tagged(0, 3, 1)}, 5, 6)},
            ViolationKind::kStale, 0, 3, 6, kBytes);
}

// ===========================================================================
// Rule 5: the file's size.

// A read that returns a sector a completed truncate cut off.
TEST(CheckerSizeTest, ReadInsidePastACompletedTruncateIsFlagged) {
  ExpectOne({Truncate(0, 4, 1, 2), Read(0, 4, {Zeros()}, 3, 4)}, ViolationKind::kSize, 0, 4, 4);
}

// Nothing shrank the file: no read may stop short, no access get SIGBUS.
TEST(CheckerSizeTest, ShortReadWithoutTruncateIsFlagged) {
  ExpectOne({ShortRead(0, 0, 8, {Zeros(), Zeros(), Zeros(), Zeros()}, 1, 2)}, ViolationKind::kSize, 0, 4, 2);
}

TEST(CheckerSizeTest, SigbusWithoutTruncateIsFlagged) {
  ExpectOne({Load(0, 8, 8, {}, 1, 2)}, ViolationKind::kSigbus, 0, 8, 2);
}

// A load through a page past the end once the truncate completed.
TEST(CheckerSizeTest, MappedAccessPastACompletedTruncateIsFlagged) {
  ExpectOne({Truncate(0, 8, 1, 2), Load(0, 8, 1, {Zeros()}, 3, 4)}, ViolationKind::kSize, 0, 8, 4);
}

// Legal: reads and accesses racing a truncate see either size; after it,
// they stop at it; growing the file shows zeros past the old end.
TEST(CheckerSizeTest, SizesThatSomeOrderExplainsPass) {
  const Words a = Tagged(0, 3, 1), b = Tagged(0, 4, 1);
  ExpectOk({Write(0, 0, 8, 1, 1, 2), Truncate(0, 4, 3, 6), Read(0, 3, {a, b}, 4, 5),
            ShortRead(0, 3, 2, {a}, 7, 8), Load(0, 8, 8, {}, 9, 10), Truncate(0, 16, 11, 12),
            Read(0, 3, {a, Zeros()}, 13, 14)});
  // A write past the end grows the file to its end.
  ExpectOk({Truncate(0, 0, 1, 2), Write(0, 6, 2, 3, 3, 4), ShortRead(0, 4, 8, {Zeros(), Zeros(), Tagged(0, 6, 3),
                                                                                Tagged(0, 7, 3)}, 5, 6)});
}

// A size op writes zeros from its size on: growing the file again must not
// show what was there before.
TEST(CheckerSizeTest, DataPastAnOldEndAfterGrowingIsFlagged) {
  ExpectOne({Write(0, 0, 8, 1, 1, 2), Truncate(0, 4, 3, 4), Truncate(0, 8, 5, 6), Read(0, 4, {Tagged(0, 4, 1)}, 7, 8)},
            ViolationKind::kStale, 0, 4, 8);
}

// A store to a sector that lay past the end throughout is no write of the
// file: once the file grows, that sector must read zeros.
TEST(CheckerSizeTest, StorePastTheEndIsNoWriteOfTheFile) {
  ExpectOne({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 4), Truncate(0, 8, 5, 6),
             Read(0, 5, {Tagged(0, 5, 3)}, 7, 8)},
            ViolationKind::kStale, 0, 5, 8);
  // A read that overlaps the store copies the page while it holds it.
  ExpectOk({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 5), Truncate(0, 8, 6, 7),
            Read(0, 5, {Tagged(0, 5, 3)}, 4, 8)});
  // One that may have been inside (it raced the truncate) may have taken
  // effect, or not.
  for (const Words& seen : {Tagged(0, 5, 3), Zeros()})
    ExpectOk({Truncate(0, 4, 1, 10), Mutation(OpKind::kStore, 0, 5, 1, 3, 2, 3), Truncate(0, 8, 11, 12),
              Read(0, 5, {seen}, 13, 14)});
}

// Where the page keeps a store past the end when the file grows (the
// kernel's option: tmpfs, and ext4 when a direct write grows the file), a
// later read may see it, or zeros: it is never what the read must see.
TEST(CheckerSizeTest, AKeptTailMayBecomeTheFilesData) {
  constexpr CheckOptions kKept{.eof_tail_kept = true};
  for (const Words& seen : {Tagged(0, 5, 3), Zeros()})
    ExpectOk({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 4), Truncate(0, 8, 5, 6),
              Read(0, 5, {seen}, 7, 8)},
             kKept);
  // A write of the sector replaces it for good.
  ExpectOne({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 4), Truncate(0, 8, 5, 6),
             Write(0, 5, 1, 4, 7, 8), Read(0, 5, {Tagged(0, 5, 3)}, 9, 10)},
            ViolationKind::kStale, 0, 5, 10, kKept);
  // So do a punch of it inside the file and a truncate that shrank the file
  // to it again (the one that grew it did not).
  ExpectOne({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 4), Truncate(0, 8, 5, 6),
             Punch(0, 5, 1, 0, 7, 8), Read(0, 5, {Tagged(0, 5, 3)}, 9, 10)},
            ViolationKind::kStale, 0, 5, 10, kKept);
  ExpectOne({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 4), Truncate(0, 8, 5, 6),
             Truncate(0, 4, 7, 8), Truncate(0, 8, 9, 10), Read(0, 5, {Tagged(0, 5, 3)}, 11, 12)},
            ViolationKind::kStale, 0, 5, 12, kKept);
  // A punch past the end may do nothing (ext4's), a truncate that did not
  // surely shrink the file may have grown it (tmpfs's keeps the page).
  ExpectOk({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 4), Punch(0, 5, 1, 0, 5, 6),
            Truncate(0, 5, 7, 8), Truncate(0, 8, 9, 10), Read(0, 5, {Tagged(0, 5, 3)}, 11, 12)},
           kKept);
  // The data the store overwrote in the page before the truncate is gone.
  ExpectOne({Write(0, 5, 1, 1, 1, 2), Truncate(0, 4, 3, 4), Mutation(OpKind::kStore, 0, 6, 1, 3, 5, 6),
             Truncate(0, 8, 7, 8), Read(0, 5, {Tagged(0, 5, 1)}, 9, 10)},
            ViolationKind::kStale, 0, 5, 10, kKept);
}

// A store that got SIGBUS on its second page may have written part of that
// page first: it was mapped until the truncate unmapped it mid-copy. A read
// that overlaps the store may see that; once the page is cut off, none may.
TEST(CheckerSizeTest, AStoreMayWriteThePageItGotSigbusOn) {
  OpRecord store = Mutation(OpKind::kStore, 0, 0, 16, 3, 3, 10);
  store.reached = 8;
  store.sigbus = true;
  const CheckOptions kernel{.sigbus_mid_page = true};
  ExpectOk({store, Truncate(0, 8, 5, 9), Load(0, 8, 1, {Tagged(0, 8, 3)}, 4, 6)}, kernel);
  ExpectOne({store, Truncate(0, 8, 5, 9), Truncate(0, 16, 11, 12), Read(0, 8, {Tagged(0, 8, 3)}, 13, 14)},
            ViolationKind::kStale, 0, 8, 14, kernel);
  // The model decides SIGBUS before it copies: its store wrote no part of
  // the page it stopped at, so that data was never written there.
  ExpectOne({store, Truncate(0, 8, 5, 9), Truncate(0, 16, 11, 12), Read(0, 8, {Tagged(0, 8, 3)}, 13, 14)},
            ViolationKind::kGarbage, 0, 8, 14);
}

// A load of a sector past the end sees the page, not the file: not judged.
TEST(CheckerSizeTest, LoadPastTheEndInTheLastPageIsNotJudged) {
  ExpectOk({Truncate(0, 4, 1, 2), Mutation(OpKind::kStore, 0, 5, 1, 3, 3, 4), Load(0, 5, 1, {Tagged(0, 5, 3)}, 5, 6)});
}

}  // namespace
}  // namespace pagerace
