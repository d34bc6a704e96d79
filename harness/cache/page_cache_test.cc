// Tests the page-cache model's paths one at a time, single-threaded, against
// the real-file backend: what a read returns after writes, punches (whole and
// partial pages), readahead (including fail-fast folios that the update path
// must fill), eviction and write-back. Content is checked with the oracle's
// sector tags, so a test fails on any wrong word.
#include "harness/cache/page_cache.h"

#include <fcntl.h>

#include <gtest/gtest.h>

#include <bit>

#include <vector>

#include "harness/oracle/tag.h"

namespace pagerace {
namespace {

class PageCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    auto backend = CreateFileBackend("");
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    backend_ = std::move(*backend);
    cache_ = std::make_unique<PageCache>(*backend_);
    Configure({});
  }
  void Configure(CacheConfig config) {
    config.files = 2;
    config.file_pages = 8;
    ASSERT_TRUE(backend_->Reset(config.files, config.file_pages).ok());
    cache_->Reset(config);
  }
  // A program with size ops (CacheConfig::resizes).
  void Resizing(Mutant mutant = Mutant::kNone) {
    CacheConfig config;
    config.resizes = true;
    config.mutant = mutant;
    Configure(config);
  }
  // The tagged content `gen` writes to `count` sectors of `file` from `sector`.
  static std::vector<uint64_t> Tagged(uint32_t file, uint32_t sector, uint32_t count, uint64_t gen) {
    std::vector<uint64_t> words(size_t{count} * kSectorWords);
    for (uint32_t s = 0; s < count; ++s) FillSector(file, sector + s, gen, words.data() + s * kSectorWords);
    return words;
  }
  void Write(uint32_t file, uint32_t sector, uint32_t count, uint64_t gen) {
    ASSERT_TRUE(cache_->Write(file, sector, count, Tagged(file, sector, count, gen).data()).ok());
  }
  // The generation of each sector that `get` (Read or Load) returns (0 for
  // zeros, -1 for anything else).
  // Only what the op covered: a read stops at the end of the file, a load
  // at a page past it.
  std::vector<int64_t> Read(uint32_t file, uint32_t sector, uint32_t count) {
    std::vector<uint64_t> words(size_t{count} * kSectorWords);
    uint32_t done = 0;
    EXPECT_TRUE(cache_->Read(file, sector, count, words.data(), &done).ok());
    words.resize(size_t{done} * kSectorWords);
    return Gens(words, file, sector);
  }
  std::vector<int64_t> Load(uint32_t file, uint32_t sector, uint32_t count, bool* sigbus = nullptr) {
    std::vector<uint64_t> words(size_t{count} * kSectorWords);
    uint32_t done = 0;
    EXPECT_TRUE(cache_->Load(file, sector, count, words.data(), &done, sigbus).ok());
    words.resize(size_t{done} * kSectorWords);
    return Gens(words, file, sector);
  }
  // The generation of each sector of `words`, which hold `file` from
  // `sector` on (0 for zeros, -1 for anything else).
  static std::vector<int64_t> Gens(const std::vector<uint64_t>& words, uint32_t file, uint32_t sector) {
    std::vector<int64_t> gens;
    for (uint32_t s = 0; s < words.size() / kSectorWords; ++s) {
      SectorTag t = ClassifySector(words.data() + s * kSectorWords);
      bool right_place = t.kind == SectorTag::kWhole && t.file == file && t.sector == sector + s;
      gens.push_back(t.kind == SectorTag::kZero ? 0 : right_place ? static_cast<int64_t>(t.gen) : -1);
    }
    return gens;
  }
  void Store(uint32_t file, uint32_t sector, uint32_t count, uint64_t gen) {
    ASSERT_TRUE(cache_->Store(file, sector, count, Tagged(file, sector, count, gen).data()).ok());
  }
  // The generation of each sector of the backend's copy of `page`.
  std::vector<int64_t> OnBackend(uint32_t file, uint32_t page) {
    std::vector<uint64_t> words(kPageBytes / 8);
    EXPECT_TRUE(backend_->ReadPages(file, page, 1, words.data()).ok());
    return Gens(words, file, page * kSectorsPerPage);
  }
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PageCache> cache_;
};

TEST_F(PageCacheTest, LoadsFaultPagesInAndSeeWrites) {
  Write(0, 8, 8, 4);
  EXPECT_EQ(Load(0, 6, 4), (std::vector<int64_t>{0, 0, 4, 4}));
  EXPECT_EQ(cache_->MappedMask(0) & 0b11, 0b11u);
  Write(0, 9, 1, 5);  // write(2) into a mapped page: the mapping sees it
  EXPECT_EQ(Load(0, 8, 2), (std::vector<int64_t>{4, 5}));
}

TEST_F(PageCacheTest, StoresReachTheFileAndFaultAgainAfterWriteback) {
  Store(0, 0, 8, 3);
  EXPECT_EQ(Read(0, 0, 2), (std::vector<int64_t>{3, 3}));
  ASSERT_TRUE(cache_->Fsync(0).ok());
  EXPECT_EQ(OnBackend(0, 0)[0], 3);
  // Write-back write-protected the page: the next store faults, dirties it
  // again, and the next fsync writes it.
  Store(0, 0, 1, 6);
  ASSERT_TRUE(cache_->Fsync(0).ok());
  EXPECT_EQ(OnBackend(0, 0)[0], 6);
}

TEST_F(PageCacheTest, PunchUnmapsAndLoadsSeeTheHole) {
  Store(0, 0, 16, 2);
  ASSERT_TRUE(cache_->Punch(0, 2, 12).ok());  // partial pages 0 and 1: zeroed in the cache, still mapped
  EXPECT_EQ(Load(0, 0, 16), (std::vector<int64_t>{2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2}));
  ASSERT_TRUE(cache_->Punch(0, 0, 16).ok());  // now both whole pages: unmapped, removed
  EXPECT_EQ(cache_->MappedMask(0) & 0b11, 0u);
  EXPECT_EQ(cache_->CachedMask(0) & 0b11, 0u);
  EXPECT_EQ(Load(0, 0, 16), std::vector<int64_t>(16, 0));
  EXPECT_EQ(cache_->assertion().what, "");
}

// ftruncate: reads stop at the size, the rest of the last page is zeroed,
// and growing the file again shows zeros; a write past the end grows it.
TEST_F(PageCacheTest, TruncateShrinksAndGrowsTheFile) {
  Resizing();
  Write(0, 0, 16, 5);
  ASSERT_TRUE(cache_->WritebackAll().ok());
  ASSERT_TRUE(cache_->Truncate(0, 4).ok());
  EXPECT_EQ(cache_->Size(0), 4u);
  EXPECT_EQ(Read(0, 0, 16), (std::vector<int64_t>{5, 5, 5, 5}));
  EXPECT_EQ(Read(0, 8, 8), std::vector<int64_t>{});
  EXPECT_EQ(cache_->CachedMask(0) >> 1, 0u);  // nothing past the last page stays cached
  EXPECT_EQ(OnBackend(0, 1), std::vector<int64_t>(8, 0));  // its blocks are freed
  ASSERT_TRUE(cache_->Truncate(0, 16).ok());
  std::vector<int64_t> want(16, 0);
  std::fill_n(want.begin(), 4, 5);
  EXPECT_EQ(Read(0, 0, 16), want);
  Write(0, 20, 2, 6);  // past the end: the gap reads as zeros
  EXPECT_EQ(cache_->Size(0), 22u);
  EXPECT_EQ(Read(0, 14, 10), (std::vector<int64_t>{0, 0, 0, 0, 0, 0, 6, 6}));
  EXPECT_EQ(cache_->assertion().what, "");
}

// A mapped access at or past the end of the file's last page gets SIGBUS;
// the last page itself, past the end, is the page's (not the file's) and
// the file reads zeros there once it grows.
TEST_F(PageCacheTest, MappedAccessPastTheEndGetsSigbus) {
  Resizing();
  Write(0, 0, 16, 5);
  ASSERT_TRUE(cache_->Truncate(0, 4).ok());
  bool sigbus = false;
  EXPECT_EQ(Load(0, 0, 16, &sigbus), (std::vector<int64_t>{5, 5, 5, 5, 0, 0, 0, 0}));
  EXPECT_TRUE(sigbus);
  sigbus = false;
  Load(0, 12, 2, &sigbus);
  EXPECT_TRUE(sigbus);
  // A store past the end within the last page lands in the page, never in
  // the file.
  uint32_t done = 0;
  ASSERT_TRUE(cache_->Store(0, 6, 1, Tagged(0, 6, 1, 7).data(), &done, &sigbus).ok());
  EXPECT_FALSE(sigbus);
  EXPECT_EQ(done, 1u);
  ASSERT_TRUE(cache_->Truncate(0, 8).ok());
  EXPECT_EQ(Read(0, 4, 4), std::vector<int64_t>(4, 0));
  EXPECT_EQ(cache_->assertion().what, "");
}

// The mutant extend-keeps-eof-tail: growing the file exposes what the store
// left past the old end.
TEST_F(PageCacheTest, ExtendKeepsEofTailExposesAStorePastTheEnd) {
  Resizing(Mutant::kExtendKeepsEofTail);
  ASSERT_TRUE(cache_->Truncate(0, 4).ok());
  Store(0, 6, 1, 7);
  ASSERT_TRUE(cache_->Truncate(0, 8).ok());
  EXPECT_EQ(Read(0, 4, 4), (std::vector<int64_t>{0, 0, 7, 0}));
}

TEST_F(PageCacheTest, ReadSeesLatestWriteAndZerosElsewhere) {
  Write(0, 4, 8, 7);   // spans pages 0 and 1, unaligned
  Write(0, 6, 2, 9);
  std::vector<int64_t> want = {0, 0, 0, 0, 7, 7, 9, 9, 7, 7, 7, 7, 0, 0, 0, 0};
  EXPECT_EQ(Read(0, 0, 16), want);
  EXPECT_EQ(Read(1, 4, 4), std::vector<int64_t>(4, 0));  // the other file
}

TEST_F(PageCacheTest, PunchZeroesWholeAndPartialPagesInCacheAndBackend) {
  Write(0, 0, 24, 3);                    // pages 0-2
  ASSERT_TRUE(cache_->WritebackAll().ok());
  ASSERT_TRUE(cache_->Punch(0, 5, 12).ok());  // sectors 5..16: partial 0, whole 1, partial 2
  std::vector<int64_t> want(24, 3);
  for (int s = 5; s < 17; ++s) want[s] = 0;
  EXPECT_EQ(Read(0, 0, 24), want);
  cache_->EvictAll();
  EXPECT_EQ(std::popcount(cache_->CachedMask(0)), 0);
  EXPECT_EQ(Read(0, 0, 24), want);  // from the backend
}

TEST_F(PageCacheTest, PunchDropsDirtyFullPagesAndKeepsPartialData) {
  Write(0, 0, 16, 4);  // dirty, never written back
  ASSERT_TRUE(cache_->Punch(0, 8, 8).ok());
  std::vector<int64_t> want(16, 4);
  for (int s = 8; s < 16; ++s) want[s] = 0;
  EXPECT_EQ(Read(0, 0, 16), want);
  ASSERT_TRUE(cache_->WritebackAll().ok());
  cache_->EvictAll();
  EXPECT_EQ(Read(0, 0, 16), want);
}

TEST_F(PageCacheTest, ReadaheadFillsTheCache) {
  Configure({.ra_pages = 0});
  ASSERT_TRUE(cache_->Readahead(0, 3, 20).ok());  // pages 0..2
  EXPECT_EQ(std::popcount(cache_->CachedMask(0)), 3);
}

TEST_F(PageCacheTest, SyncReadaheadOnMissReadsTheWindow) {
  Configure({.ra_pages = 4});
  Read(0, 0, 1);
  EXPECT_EQ(std::popcount(cache_->CachedMask(0)), 4);
  Configure({.ra_pages = 0});
  Read(0, 0, 1);
  EXPECT_EQ(std::popcount(cache_->CachedMask(0)), 1);  // the create path: just the page
}

TEST_F(PageCacheTest, FailedReadaheadIsFilledByTheUpdatePath) {
  Write(0, 0, 16, 5);
  ASSERT_TRUE(cache_->WritebackAll().ok());
  cache_->EvictAll();
  CacheConfig c;
  c.files = 2;
  c.file_pages = 8;
  c.ra_pages = 4;
  c.ra_fail = 3;  // every readahead I/O fails fast
  cache_->Reset(c);  // keeps the backend's gen 5
  ASSERT_TRUE(cache_->Readahead(0, 0, 16).ok());
  EXPECT_EQ(std::popcount(cache_->CachedMask(0)), 2);  // present but !uptodate
  EXPECT_EQ(Read(0, 0, 16), std::vector<int64_t>(16, 5));
}

TEST_F(PageCacheTest, EvictDropsCleanPagesButNotDirtyOnes) {
  Configure({.ra_pages = 0});
  Read(0, 0, 8);   // page 0 clean
  Write(0, 8, 8, 6);  // page 1 dirty
  ASSERT_TRUE(cache_->Evict(0, 0, 8).ok());
  EXPECT_EQ(std::popcount(cache_->CachedMask(0)), 1);
  ASSERT_TRUE(cache_->Evict(0, 8, 8).ok());  // writes back, then drops
  EXPECT_EQ(std::popcount(cache_->CachedMask(0)), 0);
  EXPECT_EQ(Read(0, 8, 8), std::vector<int64_t>(8, 6));
}

TEST_F(PageCacheTest, PartialWriteOverFailedReadaheadKeepsTheRestOfThePage) {
  Write(0, 0, 8, 8);
  ASSERT_TRUE(cache_->WritebackAll().ok());
  cache_->EvictAll();
  CacheConfig c;
  c.files = 2;
  c.file_pages = 8;
  c.ra_fail = 3;
  cache_->Reset(c);  // keep the backend's gen 8
  ASSERT_TRUE(cache_->Readahead(0, 0, 8).ok());  // page 0 present, !uptodate
  Write(0, 2, 2, 9);                             // write_begin must read the page first
  std::vector<int64_t> want = {8, 8, 9, 9, 8, 8, 8, 8};
  EXPECT_EQ(Read(0, 0, 8), want);
}

}  // namespace
}  // namespace pagerace
