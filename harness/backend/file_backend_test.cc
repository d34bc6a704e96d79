// Tests the backends (real files, memory): pages round-trip, punch zeroes exactly the
// range, Reset zeroes everything, and the private directory is removed when
// the backend is destroyed (the harness touches only what it created).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/backend/backend.h"

namespace pagerace {
namespace {

constexpr uint32_t kWords = kPageBytes / 8;

class FileBackendTest : public testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/pagerace-test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    parent_ = templ;
  }
  void TearDown() override { rmdir(parent_.c_str()); }
  size_t Entries() {
    std::string cmd = "ls -A " + parent_ + " | wc -l";
    FILE* f = popen(cmd.c_str(), "r");
    size_t n = 0;
    EXPECT_EQ(fscanf(f, "%zu", &n), 1);
    pclose(f);
    return n;
  }
  std::string parent_;
};

// The backend contract, for every backend.
void CheckRoundTripAndPunch(Backend& b) {
  ASSERT_TRUE(b.Reset(2, 4).ok());
  std::vector<uint64_t> page(kWords), got(kWords);
  for (uint32_t i = 0; i < kWords; ++i) page[i] = i + 1;
  ASSERT_TRUE(b.WritePages(1, 2, 1, page.data()).ok());
  ASSERT_TRUE(b.ReadPages(1, 2, 1, got.data()).ok());
  EXPECT_EQ(got, page);
  ASSERT_TRUE(b.ReadPages(0, 2, 1, got.data()).ok());
  EXPECT_EQ(got, std::vector<uint64_t>(kWords, 0));  // other file untouched

  // Punch sectors 3..5 of page 2 (bytes 2*4096 + 1536, 1536 long).
  ASSERT_TRUE(b.Punch(1, 2 * kPageBytes + 3 * kSectorBytes, 3 * kSectorBytes).ok());
  ASSERT_TRUE(b.ReadPages(1, 2, 1, got.data()).ok());
  for (uint32_t i = 0; i < kWords; ++i) {
    const bool punched = i >= 3 * 64 && i < 6 * 64;
    EXPECT_EQ(got[i], punched ? 0 : page[i]) << "word " << i;
  }
  ASSERT_TRUE(b.Reset(2, 4).ok());
  ASSERT_TRUE(b.ReadPages(1, 2, 1, got.data()).ok());
  EXPECT_EQ(got, std::vector<uint64_t>(kWords, 0));
}

// ResetWith: the initial pages and zeros elsewhere, again after a run wrote
// and punched them (a backend that keeps unchanged pages must notice).
void CheckResetWith(Backend& b) {
  std::vector<uint64_t> image(4 * kWords), got(kWords);
  for (size_t i = 0; i < image.size(); ++i) image[i] = i * 7 + 1;
  const Backend::Initial initial[] = {{1, 3, image.data()}};
  for (int run = 0; run < 3; ++run) {
    ASSERT_TRUE(b.ResetWith(2, 4, initial).ok());
    for (uint32_t p = 0; p < 4; ++p) {
      ASSERT_TRUE(b.ReadPages(0, p, 1, got.data()).ok());
      const bool in = p >= 1 && p < 3;
      EXPECT_EQ(got, in ? std::vector<uint64_t>(image.begin() + p * kWords, image.begin() + (p + 1) * kWords)
                        : std::vector<uint64_t>(kWords, 0))
          << "run " << run << " page " << p;
      ASSERT_TRUE(b.ReadPages(1, p, 1, got.data()).ok());
      EXPECT_EQ(got, std::vector<uint64_t>(kWords, 0));
    }
    // The run changes the initial pages; the next ResetWith must restore them.
    std::vector<uint64_t> other(kWords, 99);
    ASSERT_TRUE(b.WritePages(0, run % 2 == 0 ? 1 : 3, 1, other.data()).ok());
    ASSERT_TRUE(b.Punch(0, 2 * kPageBytes + kSectorBytes, kSectorBytes).ok());
  }
}

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

TEST(IoModeNames, RoundTrip) {
  for (IoMode m : {IoMode::kPread, IoMode::kUring}) EXPECT_EQ(IoModeFromName(IoModeName(m)), m);
  EXPECT_EQ(IoModeFromName("aio"), std::nullopt);
}

TEST(MemoryBackendTest, ResetWithStartsFromTheInitialPages) { CheckResetWith(*CreateMemoryBackend()); }

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
  for (BackendKind k : {BackendKind::kFile, BackendKind::kMemory}) EXPECT_EQ(BackendFromName(BackendName(k)), k);
  EXPECT_EQ(BackendFromName("disk"), std::nullopt);
}

TEST_F(FileBackendTest, RemovesItsDirectoryAndNothingElse) {
  const std::string mine = parent_ + "/not-ours";
  int fd = open(mine.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    auto backend = CreateFileBackend(parent_);
    ASSERT_TRUE(backend.ok());
    ASSERT_TRUE((*backend)->Reset(3, 1).ok());
    EXPECT_EQ(Entries(), 2u);  // ours (a directory) and not-ours
  }
  EXPECT_EQ(Entries(), 1u);
  struct stat st;
  EXPECT_EQ(stat(mine.c_str(), &st), 0);
  unlink(mine.c_str());
}

TEST_F(FileBackendTest, MissingParentIsAnIoError) {
  auto backend = CreateFileBackend(parent_ + "/does/not/exist");
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace pagerace
