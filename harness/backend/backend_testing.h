// Test helpers for the backend tests: a parent directory for a backend's
// private one, and the contract every backend keeps (pages round-trip, punch
// zeroes exactly its range, Reset and ResetWith start over). Test code only.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/backend/backend.h"

namespace pagerace {

inline constexpr uint32_t kWords = kPageBytes / 8;

// A fresh parent directory for a backend's private one, removed after the
// test (which fails to remove it if the backend left anything behind).
class ParentDirTest : public testing::Test {
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
  // The backend that `make` creates in parent_ (and writes to) removes its
  // private directory when destroyed, and leaves what it did not make. One
  // never destroyed (as a wedged executor's) has it removed at the exit of
  // the process, except for a file in it that it did not make (which keeps
  // the directory too).
  void CheckRemovesItsDirectoryAndNothingElse(
      const std::function<Result<std::unique_ptr<Backend>>(const std::string& parent)>& make) {
    const std::string mine = parent_ + "/not-ours";
    FILE* f = fopen(mine.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
    {
      auto backend = make(parent_);
      ASSERT_TRUE(backend.ok()) << backend.status().ToString();
      ASSERT_TRUE((*backend)->Reset(3, 1).ok());
      const std::vector<uint64_t> page(kWords, 1);
      ASSERT_TRUE((*backend)->WritePages(2, 0, 1, page.data()).ok());
      EXPECT_EQ(Entries(), 2u);  // ours (a directory) and not-ours
    }
    EXPECT_EQ(Entries(), 1u);
    struct stat st;
    EXPECT_EQ(stat(mine.c_str(), &st), 0);
    unlink(mine.c_str());
    // Leaked: removed at exit; with a file it did not make, only that file is left.
    for (bool intrude : {false, true}) {
      EXPECT_EXIT(
          {
            auto backend = make(parent_);
            if (!backend.ok() || !(*backend)->Reset(3, 1).ok()) _exit(2);
            const std::string dir = Only();
            if (dir.empty()) _exit(3);
            FILE* intruder = intrude ? fopen((dir + "/not-ours").c_str(), "w") : nullptr;
            if (intrude && intruder == nullptr) _exit(4);
            if (intruder != nullptr) fclose(intruder);
            static_cast<void>(backend->release());
            std::exit(0);
          },
          testing::ExitedWithCode(0), "");
      if (!intrude) {
        EXPECT_EQ(Entries(), 0u);
      }
    }
    const std::string left = Only();
    ASSERT_EQ(left.find(parent_ + "/pagerace."), 0u) << left;
    EXPECT_EQ(unlink((left + "/not-ours").c_str()), 0);
    EXPECT_EQ(rmdir(left.c_str()), 0);
  }
  // The path of the one entry of parent_ ("" if there is not exactly one).
  std::string Only() {
    if (Entries() != 1) return "";
    std::string cmd = "ls -A " + parent_;
    FILE* f = popen(cmd.c_str(), "r");
    char name[256] = {};
    const bool named = fscanf(f, "%255s", name) == 1;
    pclose(f);
    return named ? parent_ + "/" + name : "";
  }
  std::string parent_;
};

// The backend contract, for every backend.
inline void CheckRoundTripAndPunch(Backend& b) {
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
inline void CheckResetWith(Backend& b) {
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

// Shift moves whole pages and leaves zeros behind: an insert of 2 pages at
// page 1 of an 8-page file moves pages 1-5 up to 3-7 (pages 6-7 fall off the
// end) and opens a hole at 1-2; a collapse of 2 pages at page 1 moves pages
// 3-7 down to 1-5 and zeroes 6-7. Page 0, and the other file, stay. The
// moved range is longer than the shift, so a move in the wrong order
// overwrites pages before they moved.
inline void CheckShift(Backend& b) {
  for (const bool insert : {true, false}) {
    SCOPED_TRACE(insert ? "insert" : "collapse");
    ASSERT_TRUE(b.Reset(2, 8).ok());
    std::vector<uint64_t> image(8 * kWords), got(kWords);
    for (size_t i = 0; i < image.size(); ++i) image[i] = i * 7 + 3;
    ASSERT_TRUE(b.WritePages(0, 0, 8, image.data()).ok());
    ASSERT_TRUE(b.WritePages(1, 0, 8, image.data()).ok());
    ASSERT_TRUE(b.Shift(0, 1, 2, 8, insert).ok());
    b.CommitFreed(0);
    const auto page_of = [&](uint32_t p) {
      return std::vector<uint64_t>(image.begin() + p * kWords, image.begin() + (p + 1) * kWords);
    };
    // Where each page's data came from, or -1 for zeros.
    const int insert_from[8] = {0, -1, -1, 1, 2, 3, 4, 5};
    const int collapse_from[8] = {0, 3, 4, 5, 6, 7, -1, -1};
    for (uint32_t p = 0; p < 8; ++p) {
      const int from = insert ? insert_from[p] : collapse_from[p];
      ASSERT_TRUE(b.ReadPages(0, p, 1, got.data()).ok());
      EXPECT_EQ(got, from < 0 ? std::vector<uint64_t>(kWords, 0) : page_of(from)) << "page " << p;
      ASSERT_TRUE(b.ReadPages(1, p, 1, got.data()).ok());
      EXPECT_EQ(got, page_of(p)) << "other file, page " << p;
    }
  }
}

}  // namespace pagerace
