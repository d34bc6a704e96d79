#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "harness/backend/backend.h"

namespace pagerace {
namespace {

// Model files in memory. Each call holds its file's mutex, so a call is
// atomic with respect to the others on that file: a subset of what a real
// file allows (no torn transfers), which is all the cache model relies on.
//
// Reset costs nothing per page: each page remembers the epoch (Reset count)
// in which it was last written, and a page from an older epoch reads as
// zeros. ResetWith copies an initial page only if the page does not already
// hold it, unwritten since. A run pays only for the pages it writes.
class MemoryBackend final : public Backend {
 public:
  Status Reset(uint32_t files, uint32_t file_pages) override {
    files_.resize(std::max<size_t>(files_.size(), files));
    ++epoch_;
    for (uint32_t i = 0; i < files; ++i) {
      File& f = files_[i];
      f.words.resize(std::max(f.words.size(), size_t{file_pages} * kPageWords));
      f.epoch.resize(std::max<size_t>(f.epoch.size(), file_pages), 0);
      f.held.resize(f.epoch.size(), nullptr);
    }
    return Status::Ok();
  }

  Status ResetWith(uint32_t files, uint32_t file_pages, std::span<const Initial> initial) override {
    PR_RETURN_IF_ERROR(Reset(files, file_pages));
    for (uint32_t i = 0; i < initial.size() && i < files; ++i) {
      File& f = files_[i];
      const Initial& in = initial[i];
      for (uint32_t p = in.first; p < in.end; ++p) {
        const uint64_t* src = in.words + size_t{p} * kPageWords;
        if (f.held[p] != src) {
          std::memcpy(f.words.data() + size_t{p} * kPageWords, src, kPageBytes);
          f.held[p] = src;
        }
        f.epoch[p] = epoch_;
      }
    }
    return Status::Ok();
  }

  Status ReadPages(uint32_t file, uint32_t index, uint32_t pages, uint64_t* words) override {
    File& f = files_[file];
    std::lock_guard lock(f.mu);
    for (uint32_t p = 0; p < pages; ++p, words += kPageWords) {
      if (f.epoch[index + p] == epoch_) {
        std::memcpy(words, f.words.data() + size_t{index + p} * kPageWords, kPageBytes);
      } else {
        std::memset(words, 0, kPageBytes);
      }
    }
    return Status::Ok();
  }

  Status WritePages(uint32_t file, uint32_t index, uint32_t pages, const uint64_t* words) override {
    File& f = files_[file];
    std::lock_guard lock(f.mu);
    std::memcpy(f.words.data() + size_t{index} * kPageWords, words, size_t{pages} * kPageBytes);
    std::fill_n(f.epoch.begin() + index, pages, epoch_);
    std::fill_n(f.held.begin() + index, pages, nullptr);
    return Status::Ok();
  }

  Status Punch(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes) override {
    File& f = files_[file];
    std::lock_guard lock(f.mu);
    auto* bytes = reinterpret_cast<char*>(f.words.data());
    for (uint64_t p = offset_bytes / kPageBytes; p * kPageBytes < offset_bytes + length_bytes; ++p) {
      if (f.epoch[p] != epoch_) continue;  // reads as zeros already
      f.held[p] = nullptr;
      const uint64_t from = std::max(offset_bytes, p * kPageBytes);
      const uint64_t to = std::min(offset_bytes + length_bytes, (p + 1) * kPageBytes);
      std::memset(bytes + from, 0, to - from);
    }
    return Status::Ok();
  }

  Status Advise(uint32_t, uint64_t, uint64_t, int) override { return Status::Ok(); }

  std::string Degraded() const override { return ""; }

 private:
  static constexpr size_t kPageWords = kPageBytes / sizeof(uint64_t);
  struct File {
    std::mutex mu;
    std::vector<uint64_t> words;
    std::vector<uint64_t> epoch;  // by page: the Reset after which it was last written
    std::vector<const uint64_t*> held;  // by page: the initial page it holds unchanged, or null
  };
  std::deque<File> files_;  // stable addresses as it grows
  uint64_t epoch_ = 0;
};

}  // namespace

std::unique_ptr<Backend> CreateMemoryBackend() { return std::make_unique<MemoryBackend>(); }

}  // namespace pagerace
