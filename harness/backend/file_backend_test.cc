// Tests the backends (real files, memory): pages round-trip, punch zeroes
// exactly the range, Reset zeroes everything, Shift moves whole pages, mapped
// I/O goes to the page (batched through io_uring), and the private directory
// is removed when the backend is destroyed (the harness touches only what it
// created).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/backend/backend.h"
#include "harness/backend/backend_testing.h"

namespace pagerace {
namespace {

class FileBackendTest : public ParentDirTest {};

TEST_F(FileBackendTest, ResetWithStartsFromTheInitialPages) {
  auto backend = CreateFileBackend(parent_);
  ASSERT_TRUE(backend.ok());
  CheckResetWith(**backend);
}

// The same contract through io_uring. Where the kernel refuses rings (a
// container's seccomp profile), the backend falls back and says so; the
// contract holds either way.
TEST_F(FileBackendTest, UringPagesRoundTripPunchAndResetWith) {
  auto backend = CreateFileBackend({parent_, IoMode::kUring});
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  const std::string degraded = (*backend)->Degraded();
  EXPECT_TRUE(degraded.empty() || degraded.find("io_uring refused") != std::string::npos) << degraded;
  CheckRoundTripAndPunch(**backend);
  CheckResetWith(**backend);
}

// A ring that cannot be set up (zero entries: EINVAL) is the refused path:
// pread/pwrite, and a one-line notice.
TEST_F(FileBackendTest, RefusedUringFallsBackToPread) {
  auto backend = CreateFileBackend({parent_, IoMode::kUring, /*ring_entries=*/0});
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  EXPECT_NE((*backend)->Degraded().find("io: io_uring refused (Invalid argument), using pread/pwrite"),
            std::string::npos)
      << (*backend)->Degraded();
  CheckRoundTripAndPunch(**backend);
}

// Without a block map, MapPage only names the page and the mapped I/O goes
// to (file, page): a batch of ReadMapped equals ReadPages page by page, and
// WriteMapped equals WritePages. The batch is larger than the ring (8), so
// with io_uring it goes in chunks; it ends with pages past what was written.
void CheckMappedIoByPage(Backend& b) {
  ASSERT_TRUE(b.Reset(2, 16).ok());
  std::vector<uint64_t> image(2 * 16 * kWords);
  for (size_t i = 0; i < image.size(); ++i) image[i] = i * 13 + 5;
  ASSERT_TRUE(b.WritePages(0, 0, 10, image.data()).ok());
  Backend::PageMap map;
  b.MapPage(1, 3, true, 0, kSectorsPerPage, map);
  EXPECT_EQ(map.file, 1u);
  EXPECT_EQ(map.page, 3u);
  for (uint32_t block : map.block) EXPECT_EQ(block, 0u);
  ASSERT_TRUE(b.WriteMapped(map, image.data() + 19 * kWords).ok());

  std::vector<Backend::PageMap> maps;
  for (uint32_t p = 0; p < 14; ++p) b.MapPage(0, p, false, 0, 0, maps.emplace_back());
  b.MapPage(1, 3, false, 0, 0, maps.emplace_back());
  std::vector<const Backend::PageMap*> map_ptrs;
  std::vector<std::vector<uint64_t>> got(maps.size(), std::vector<uint64_t>(kWords, ~0ull));
  std::vector<uint64_t*> got_ptrs;
  for (size_t i = 0; i < maps.size(); ++i) {
    map_ptrs.push_back(&maps[i]);
    got_ptrs.push_back(got[i].data());
  }
  ASSERT_TRUE(b.ReadMapped(map_ptrs, got_ptrs).ok());
  std::vector<uint64_t> want(kWords);
  for (size_t i = 0; i < maps.size(); ++i) {
    ASSERT_TRUE(b.ReadPages(maps[i].file, maps[i].page, 1, want.data()).ok());
    EXPECT_EQ(got[i], want) << "map " << i;
  }
  EXPECT_EQ(got[2], std::vector<uint64_t>(image.begin() + 2 * kWords, image.begin() + 3 * kWords));
  EXPECT_EQ(got[12], std::vector<uint64_t>(kWords, 0));
  EXPECT_EQ(got[14], std::vector<uint64_t>(image.begin() + 19 * kWords, image.begin() + 20 * kWords));
}

TEST_F(FileBackendTest, MappedIoGoesToThePage) {
  for (IoMode io : {IoMode::kPread, IoMode::kUring}) {
    SCOPED_TRACE(IoModeName(io));
    auto backend = CreateFileBackend({parent_, io});
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    CheckMappedIoByPage(**backend);
    EXPECT_FALSE((*backend)->BlockMapped());
    EXPECT_EQ((*backend)->ChangedPages(0), 0u);
  }
}

TEST(MemoryBackendTest, MappedIoGoesToThePage) { CheckMappedIoByPage(*CreateMemoryBackend()); }

TEST(IoModeNames, RoundTrip) {
  for (IoMode m : {IoMode::kPread, IoMode::kUring}) EXPECT_EQ(IoModeFromName(IoModeName(m)), m);
  EXPECT_EQ(IoModeFromName("aio"), std::nullopt);
}

TEST(MemoryBackendTest, ResetWithStartsFromTheInitialPages) { CheckResetWith(*CreateMemoryBackend()); }

TEST_F(FileBackendTest, ShiftMovesWholePagesAndLeavesZeros) {
  auto backend = CreateFileBackend(parent_);
  ASSERT_TRUE(backend.ok());
  CheckShift(**backend);
}

TEST(MemoryBackendTest, ShiftMovesWholePagesAndLeavesZeros) { CheckShift(*CreateMemoryBackend()); }

TEST_F(FileBackendTest, PagesRoundTripAndPunchZeroesRange) {
  auto backend = CreateFileBackend(parent_);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  CheckRoundTripAndPunch(**backend);
}

TEST(MemoryBackendTest, PagesRoundTripAndPunchZeroesRange) {
  std::unique_ptr<Backend> backend = CreateMemoryBackend();
  CheckRoundTripAndPunch(*backend);
  // Growing after use keeps what the smaller Reset made valid.
  ASSERT_TRUE(backend->Reset(4, 8).ok());
  std::vector<uint64_t> got(kWords, 1);
  ASSERT_TRUE(backend->ReadPages(3, 7, 1, got.data()).ok());
  EXPECT_EQ(got, std::vector<uint64_t>(kWords, 0));
}

TEST(BackendNames, RoundTrip) {
  for (BackendKind k : {BackendKind::kFile, BackendKind::kMemory, BackendKind::kBlockmap})
    EXPECT_EQ(BackendFromName(BackendName(k)), k);
  EXPECT_STREQ(BackendName(BackendKind::kBlockmap), "blockmap");
  EXPECT_EQ(BackendFromName("disk"), std::nullopt);
}

TEST_F(FileBackendTest, RemovesItsDirectoryAndNothingElse) {
  CheckRemovesItsDirectoryAndNothingElse([](const std::string& parent) { return CreateFileBackend(parent); });
}

TEST_F(FileBackendTest, MissingParentIsAnIoError) {
  auto backend = CreateFileBackend(parent_ + "/does/not/exist");
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace pagerace
