// Tests the block-mapped backend: the contract every backend keeps; pages map
// to one-sector blocks, the lowest first; a punch unmaps exactly its sectors
// and their blocks come back last in, first out, but only once the punching
// file commits; a mapping taken before the punch then reads and writes the
// next owner's blocks, which ChangedPages reports; ReadMapped batches (larger
// than a ring) read the same through pread and io_uring; ResetWith starts
// each run from the initial pages and zeros; files used from different
// threads at once stay apart (run under TSan too). Page contents are
// numbered per sector, so a block that moved shows where it came from.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "harness/backend/backend.h"
#include "harness/backend/backend_testing.h"

namespace pagerace {
namespace {

constexpr uint32_t kHole = Backend::kHole;
constexpr uint32_t kSectorWords = kSectorBytes / 8;
using Page = std::vector<uint64_t>;
using Blocks = std::vector<uint32_t>;

// A page whose sector s holds tag * 100 + s in every word.
Page Tagged(uint64_t tag) {
  Page page(kWords);
  for (uint32_t i = 0; i < kWords; ++i) page[i] = tag * 100 + i / kSectorWords;
  return page;
}

// The tag numbers of a page's sectors (0 for a zero sector), checking that
// each sector is uniform.
std::vector<uint64_t> SectorsOf(const Page& page) {
  std::vector<uint64_t> tags;
  for (uint32_t s = 0; s < kSectorsPerPage; ++s) {
    for (uint32_t i = 1; i < kSectorWords; ++i) EXPECT_EQ(page[s * kSectorWords + i], page[s * kSectorWords]);
    tags.push_back(page[s * kSectorWords]);
  }
  return tags;
}

Backend::PageMap Map(Backend& b, uint32_t file, uint32_t page, bool create, uint32_t first = 0,
                     uint32_t end = kSectorsPerPage) {
  Backend::PageMap map;
  b.MapPage(file, page, create, first, end, map);
  EXPECT_EQ(map.file, file);
  EXPECT_EQ(map.page, page);
  return map;
}

// The physical blocks of a mapping (without kUnwritten).
Blocks BlocksOf(const Backend::PageMap& map) {
  Blocks blocks;
  for (uint32_t e : map.block) blocks.push_back(e == Backend::kHole ? e : e & ~Backend::kUnwritten);
  return blocks;
}

Page ReadMapped(Backend& b, const Backend::PageMap& map) {
  Page got(kWords, ~0ull);
  const Backend::PageMap* maps[] = {&map};
  uint64_t* words[] = {got.data()};
  EXPECT_TRUE(b.ReadMapped(maps, words).ok());
  return got;
}

Page ReadPage(Backend& b, uint32_t file, uint32_t page) {
  Page got(kWords, ~0ull);
  EXPECT_TRUE(b.ReadPages(file, page, 1, got.data()).ok());
  return got;
}

class BlockmapTest : public ParentDirTest {
 protected:
  std::unique_ptr<Backend> Make(IoMode io = IoMode::kPread, unsigned ring_entries = 8) {
    auto backend = CreateBlockmapBackend({parent_, io, ring_entries});
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    return backend.ok() ? std::move(*backend) : nullptr;
  }
};

TEST_F(BlockmapTest, KeepsTheBackendContract) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->BlockMapped());
  EXPECT_EQ(b->Degraded(), "");
  CheckRoundTripAndPunch(*b);
  CheckResetWith(*b);
  CheckShift(*b);
}

TEST_F(BlockmapTest, WrittenPagesRoundTripThroughTheirBlocks) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Reset(2, 4).ok());
  const Backend::PageMap m0 = Map(*b, 0, 1, true);
  EXPECT_EQ(BlocksOf(m0), (Blocks{0, 1, 2, 3, 4, 5, 6, 7}));  // the lowest blocks first
  ASSERT_TRUE(b->WriteMapped(m0, Tagged(1).data()).ok());
  const Backend::PageMap m1 = Map(*b, 1, 0, true);
  EXPECT_EQ(BlocksOf(m1), (Blocks{8, 9, 10, 11, 12, 13, 14, 15}));
  ASSERT_TRUE(b->WritePages(1, 0, 1, Tagged(2).data()).ok());
  EXPECT_EQ(ReadMapped(*b, Map(*b, 0, 1, false)), Tagged(1));
  EXPECT_EQ(ReadPage(*b, 0, 1), Tagged(1));
  EXPECT_EQ(ReadMapped(*b, Map(*b, 1, 0, false)), Tagged(2));
  EXPECT_EQ(ReadPage(*b, 1, 0), Tagged(2));
  EXPECT_EQ(BlocksOf(Map(*b, 1, 0, true)), BlocksOf(m1));  // mapped blocks stay
  EXPECT_EQ(b->ChangedPages(0), 0u);
  EXPECT_EQ(b->ChangedPages(1), 0u);
}

TEST_F(BlockmapTest, HolesReadAsZeros) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Reset(1, 4).ok());
  const Backend::PageMap m = Map(*b, 0, 0, true, 2, 4);  // only sectors 2 and 3
  EXPECT_EQ(BlocksOf(m), (Blocks{kHole, kHole, 0, 1, kHole, kHole, kHole, kHole}));
  ASSERT_TRUE(b->WriteMapped(m, Tagged(3).data()).ok());
  EXPECT_EQ(SectorsOf(ReadMapped(*b, Map(*b, 0, 0, false))), (std::vector<uint64_t>{0, 0, 302, 303, 0, 0, 0, 0}));
  EXPECT_EQ(SectorsOf(ReadPage(*b, 0, 0)), (std::vector<uint64_t>{0, 0, 302, 303, 0, 0, 0, 0}));
  const Backend::PageMap unmapped = Map(*b, 0, 1, false);
  EXPECT_EQ(BlocksOf(unmapped), Blocks(kSectorsPerPage, kHole));
  EXPECT_EQ(ReadMapped(*b, unmapped), Page(kWords, 0));
}

TEST_F(BlockmapTest, PunchedBlocksAreReusedLastInFirstOutOnlyAfterTheCommit) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Reset(2, 4).ok());
  EXPECT_EQ(BlocksOf(Map(*b, 0, 0, true, 0, 1))[0], 0u);
  ASSERT_TRUE(b->Punch(0, 0, kSectorBytes).ok());
  EXPECT_EQ(Map(*b, 0, 0, false).block[0], kHole);
  EXPECT_EQ(BlocksOf(Map(*b, 1, 0, true, 0, 1))[0], 1u);  // not committed: a fresh block
  b->CommitFreed(1);                                 // another file's commit frees nothing of file 0
  EXPECT_EQ(BlocksOf(Map(*b, 1, 1, true, 0, 1))[0], 2u);
  b->CommitFreed(0);
  EXPECT_EQ(BlocksOf(Map(*b, 1, 2, true, 0, 1))[0], 0u);  // committed: file 0's block, at once
  EXPECT_EQ(BlocksOf(Map(*b, 1, 3, true, 0, 1))[0], 3u);

  // Whole pages: the block freed last comes back first.
  ASSERT_TRUE(b->Reset(2, 4).ok());
  EXPECT_EQ(BlocksOf(Map(*b, 0, 0, true)), (Blocks{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(BlocksOf(Map(*b, 0, 1, true)), (Blocks{8, 9, 10, 11, 12, 13, 14, 15}));
  ASSERT_TRUE(b->Punch(0, 0, kPageBytes).ok());
  ASSERT_TRUE(b->Punch(0, kPageBytes, kPageBytes).ok());
  b->CommitFreed(0);
  EXPECT_EQ(BlocksOf(Map(*b, 1, 0, true)), (Blocks{15, 14, 13, 12, 11, 10, 9, 8}));
  EXPECT_EQ(BlocksOf(Map(*b, 1, 1, true)), (Blocks{7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(BlocksOf(Map(*b, 1, 2, true, 0, 1))[0], 16u);
}

// A block allocated for a file reads as zeros through the file's mapping
// until a write through it (an unwritten extent), whatever the block held
// before: a direct read between page_mkwrite's allocation and writeback must
// not see the block's last owner. A mapping taken before the block was
// freed still reaches what the block holds.
TEST_F(BlockmapTest, AllocatedBlocksReadAsZerosUntilWritten) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Reset(2, 2).ok());
  const Backend::PageMap old = Map(*b, 0, 0, true);
  ASSERT_TRUE(b->WriteMapped(old, Tagged(5).data()).ok());
  const Backend::PageMap written = Map(*b, 0, 0, false);
  EXPECT_EQ(ReadMapped(*b, written), Tagged(5));
  ASSERT_TRUE(b->Punch(0, 0, kPageBytes).ok());
  b->CommitFreed(0);
  const Backend::PageMap fresh = Map(*b, 1, 0, true);  // file 1 gets file 0's blocks, last freed first
  for (uint32_t s = 0; s < kSectorsPerPage; ++s)
    EXPECT_EQ(fresh.block[s], written.block[kSectorsPerPage - 1 - s] | Backend::kUnwritten) << "sector " << s;
  EXPECT_EQ(ReadMapped(*b, fresh), Page(kWords, 0));
  EXPECT_EQ(ReadMapped(*b, written), Tagged(5));  // the stale mapping: the disk
  ASSERT_TRUE(b->WriteMapped(fresh, Tagged(6).data()).ok());
  EXPECT_EQ(ReadMapped(*b, Map(*b, 1, 0, false)), Tagged(6));
  EXPECT_EQ(SectorsOf(ReadMapped(*b, written)), (std::vector<uint64_t>{607, 606, 605, 604, 603, 602, 601, 600}));
}

TEST_F(BlockmapTest, PartialPagePunchFreesOnlyItsSectors) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Reset(2, 4).ok());
  ASSERT_TRUE(b->WritePages(0, 1, 1, Tagged(4).data()).ok());
  ASSERT_TRUE(b->Punch(0, kPageBytes + 2 * kSectorBytes, 4 * kSectorBytes).ok());  // sectors 2..5 of page 1
  EXPECT_EQ(BlocksOf(Map(*b, 0, 1, false)), (Blocks{0, 1, kHole, kHole, kHole, kHole, 6, 7}));
  EXPECT_EQ(SectorsOf(ReadPage(*b, 0, 1)), (std::vector<uint64_t>{400, 401, 0, 0, 0, 0, 406, 407}));
  b->CommitFreed(0);
  EXPECT_EQ(BlocksOf(Map(*b, 1, 0, true)), (Blocks{5, 4, 3, 2, 8, 9, 10, 11}));
  EXPECT_EQ(SectorsOf(ReadPage(*b, 0, 1)), (std::vector<uint64_t>{400, 401, 0, 0, 0, 0, 406, 407}));
}

// The write-after-free race: file 0's page is mapped (the folio keeps the
// mapping), punched and committed; file 1 takes the blocks. The stale mapping
// reads file 1's data and a write through it lands in file 1.
TEST_F(BlockmapTest, StaleMappingReadsAndWritesTheNextOwner) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Reset(2, 4).ok());
  ASSERT_TRUE(b->WritePages(0, 0, 1, Tagged(5).data()).ok());
  const Backend::PageMap stale = Map(*b, 0, 0, false);
  ASSERT_TRUE(b->WritePages(1, 1, 1, Tagged(6).data()).ok());  // fresh blocks, written by their owner
  ASSERT_TRUE(b->Punch(0, 0, kPageBytes).ok());
  b->CommitFreed(0);
  ASSERT_TRUE(b->WritePages(1, 0, 1, Tagged(7).data()).ok());  // takes file 0's blocks, last freed first
  EXPECT_EQ(SectorsOf(ReadMapped(*b, stale)), (std::vector<uint64_t>{707, 706, 705, 704, 703, 702, 701, 700}));
  EXPECT_EQ(b->ChangedPages(1), 0b01u);  // page 0's blocks were reassigned

  ASSERT_TRUE(b->WriteMapped(stale, Tagged(8).data()).ok());
  EXPECT_EQ(SectorsOf(ReadPage(*b, 1, 0)), (std::vector<uint64_t>{807, 806, 805, 804, 803, 802, 801, 800}));
  EXPECT_EQ(ReadPage(*b, 1, 1), Tagged(6));
  EXPECT_EQ(ReadPage(*b, 0, 0), Page(kWords, 0));
  EXPECT_EQ(b->ChangedPages(1), 0b01u);  // page 0 only
  EXPECT_EQ(b->ChangedPages(0), 0u);      // its page is a hole now

  ASSERT_TRUE(b->Reset(2, 4).ok());
  EXPECT_EQ(b->ChangedPages(1), 0u);
}

// Sectors mapped in two runs per page, pages with holes, and allocated blocks
// never written (past the end of the backing file), in one batch of 24: three
// rings' worth.
void CheckReadMappedBatch(Backend& b) {
  ASSERT_TRUE(b.Reset(3, 8).ok());
  std::vector<Backend::PageMap> maps;
  for (uint32_t p = 0; p < 8; ++p) Map(b, 0, p, true, 0, 4);
  for (uint32_t p = 0; p < 8; ++p) maps.push_back(Map(b, 0, p, true, 4, 8));
  for (uint32_t p = 0; p < 8; ++p) maps.push_back(Map(b, 1, p, true, 1, 4));
  for (const Backend::PageMap& m : maps) ASSERT_TRUE(b.WriteMapped(m, Tagged(10 + m.file * 8 + m.page).data()).ok());
  for (Backend::PageMap& m : maps) m = Map(b, m.file, m.page, false);  // written now
  for (uint32_t p = 0; p < 8; ++p) maps.push_back(Map(b, 2, p, true));  // allocated, never written
  EXPECT_EQ(BlocksOf(maps[1]), (Blocks{4, 5, 6, 7, 36, 37, 38, 39}));

  std::vector<Page> got(maps.size(), Page(kWords, ~0ull));
  std::vector<const Backend::PageMap*> map_ptrs;
  std::vector<uint64_t*> word_ptrs;
  for (size_t i = 0; i < maps.size(); ++i) {
    map_ptrs.push_back(&maps[i]);
    word_ptrs.push_back(got[i].data());
  }
  ASSERT_TRUE(b.ReadMapped(map_ptrs, word_ptrs).ok());
  for (size_t i = 0; i < maps.size(); ++i) {
    const Backend::PageMap& m = maps[i];
    Page want = m.file == 2 ? Page(kWords, 0) : Tagged(10 + m.file * 8 + m.page);
    for (uint32_t s = 0; s < kSectorsPerPage; ++s) {
      if (m.block[s] == kHole) std::fill_n(want.begin() + s * kSectorWords, kSectorWords, 0);
    }
    EXPECT_EQ(got[i], want) << "map " << i;
    EXPECT_EQ(ReadPage(b, m.file, m.page), want) << "map " << i;
  }
}

TEST_F(BlockmapTest, ReadMappedBatchWithPread) {
  auto b = Make(IoMode::kPread);
  ASSERT_NE(b, nullptr);
  CheckReadMappedBatch(*b);
}

// Where the kernel refuses rings, the backend says so and reads the same.
TEST_F(BlockmapTest, ReadMappedBatchWithUring) {
  auto b = Make(IoMode::kUring);
  ASSERT_NE(b, nullptr);
  const std::string degraded = b->Degraded();
  EXPECT_TRUE(degraded.empty() || degraded.find("io_uring refused") != std::string::npos) << degraded;
  CheckReadMappedBatch(*b);
  CheckRoundTripAndPunch(*b);
}

TEST_F(BlockmapTest, RefusedUringFallsBackToPread) {
  auto b = Make(IoMode::kUring, /*ring_entries=*/0);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->Degraded(), "io: io_uring refused (Invalid argument), using pread/pwrite");
  CheckReadMappedBatch(*b);
}

// A block a run wrote outside the initial pages reads as zeros when the next
// run allocates it again, and the initial pages come back whatever the run
// did to them, also when the layout changes.
TEST_F(BlockmapTest, ResetWithStartsEachRunFromTheInitialPagesAndZeros) {
  auto b = Make();
  ASSERT_NE(b, nullptr);
  std::vector<uint64_t> image(4 * kWords);
  for (uint32_t p = 0; p < 4; ++p) std::copy_n(Tagged(20 + p).begin(), kWords, image.begin() + p * kWords);
  const Backend::Initial first_two[] = {{0, 2, image.data()}};
  ASSERT_TRUE(b->ResetWith(2, 4, first_two).ok());
  ASSERT_TRUE(b->WritePages(1, 0, 1, Tagged(9).data()).ok());  // slot 2
  const Backend::PageMap initial_page = Map(*b, 0, 1, false);
  ASSERT_TRUE(b->WriteMapped(initial_page, Tagged(9).data()).ok());

  ASSERT_TRUE(b->ResetWith(2, 4, first_two).ok());
  EXPECT_EQ(ReadPage(*b, 0, 0), Tagged(20));
  EXPECT_EQ(ReadPage(*b, 0, 1), Tagged(21));
  EXPECT_EQ(ReadPage(*b, 1, 0), Page(kWords, 0));
  const Backend::PageMap again = Map(*b, 1, 0, true);
  EXPECT_EQ(BlocksOf(again), (Blocks{16, 17, 18, 19, 20, 21, 22, 23}));
  EXPECT_EQ(ReadMapped(*b, again), Page(kWords, 0));
  EXPECT_EQ(b->ChangedPages(0), 0u);

  const Backend::Initial middle_two[] = {{1, 3, image.data()}, {3, 4, image.data()}};
  ASSERT_TRUE(b->ResetWith(2, 4, middle_two).ok());
  for (uint32_t p = 0; p < 4; ++p) {
    EXPECT_EQ(ReadPage(*b, 0, p), p == 1 || p == 2 ? Tagged(20 + p) : Page(kWords, 0)) << "page " << p;
    EXPECT_EQ(ReadPage(*b, 1, p), p == 3 ? Tagged(23) : Page(kWords, 0)) << "page " << p;
  }
  ASSERT_TRUE(b->Reset(2, 4).ok());
  EXPECT_EQ(ReadMapped(*b, Map(*b, 0, 0, true)), Page(kWords, 0));
}

// Each thread works its own file, as the cache's i_data_sem allows: map,
// write, read back, punch part, commit. The allocator is shared; blocks move
// between the files all the time, and each file still reads its own data.
void CheckConcurrentFiles(Backend& b) {
  constexpr uint32_t kFiles = 4, kPages = 4;
  ASSERT_TRUE(b.Reset(kFiles, kPages).ok());
  std::vector<std::thread> threads;
  for (uint32_t file = 0; file < kFiles; ++file) {
    threads.emplace_back([&b, file] {
      for (uint32_t i = 0; i < 200; ++i) {
        const uint32_t page = (i * 7 + file) % kPages;
        const Page data = Tagged(file * 1000 + i);
        const Backend::PageMap m = Map(b, file, page, true);
        ASSERT_TRUE(b.WriteMapped(m, data.data()).ok());
        ASSERT_EQ(ReadMapped(b, Map(b, file, page, false)), data);
        const uint32_t first = i % kSectorsPerPage;
        ASSERT_TRUE(b.Punch(file, page * kPageBytes + first * kSectorBytes, kSectorBytes).ok());
        b.CommitFreed(file);
        Page want = data;
        std::fill_n(want.begin() + first * kSectorWords, kSectorWords, 0);
        ASSERT_EQ(ReadMapped(b, Map(b, file, page, false)), want);
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

TEST_F(BlockmapTest, FilesOnDifferentThreadsStayApart) {
  for (IoMode io : {IoMode::kPread, IoMode::kUring}) {
    SCOPED_TRACE(IoModeName(io));
    auto b = Make(io);
    ASSERT_NE(b, nullptr);
    CheckConcurrentFiles(*b);
  }
}

TEST_F(BlockmapTest, RemovesItsDirectoryAndNothingElse) {
  CheckRemovesItsDirectoryAndNothingElse(
      [](const std::string& parent) { return CreateBlockmapBackend(FileBackendOptions{parent}); });
}

TEST_F(BlockmapTest, MissingParentIsAnIoError) {
  auto backend = CreateBlockmapBackend({parent_ + "/does/not/exist"});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace pagerace
