#include <algorithm>
#include <deque>
#include <cstring>
#include <mutex>
#include <vector>

#include "harness/backend/backend.h"

namespace pagerace {
namespace {

// Model files in memory. Each call holds its file's mutex, so a call is
// atomic with respect to the others on that file: a subset of what a real
// file allows (no torn transfers), which is all the cache model relies on.
class MemoryBackend final : public Backend {
 public:
  Status Reset(uint32_t files, uint32_t file_pages) override {
    files_.resize(std::max<size_t>(files_.size(), files));
    const size_t words = size_t{file_pages} * kPageWords;
    for (uint32_t i = 0; i < files; ++i) {
      File& f = files_[i];
      // Zero only what was written since the last Reset (punches write zeros).
      for (size_t p = 0; p < f.written.size(); ++p)
        if (f.written[p] && (p + 1) * kPageWords <= f.words.size())
          std::memset(f.words.data() + p * kPageWords, 0, kPageBytes);
      f.words.resize(words);  // grows zeroed; keeps the capacity
      f.written.assign(file_pages, false);
    }
    return Status::Ok();
  }

  Status ReadPages(uint32_t file, uint32_t index, uint32_t pages, uint64_t* words) override {
    File& f = files_[file];
    std::lock_guard lock(f.mu);
    std::memcpy(words, f.words.data() + size_t{index} * kPageWords, size_t{pages} * kPageBytes);
    return Status::Ok();
  }

  Status WritePages(uint32_t file, uint32_t index, uint32_t pages, const uint64_t* words) override {
    File& f = files_[file];
    std::lock_guard lock(f.mu);
    std::memcpy(f.words.data() + size_t{index} * kPageWords, words, size_t{pages} * kPageBytes);
    std::fill_n(f.written.begin() + index, pages, true);
    return Status::Ok();
  }

  Status Punch(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes) override {
    File& f = files_[file];
    std::lock_guard lock(f.mu);
    std::memset(reinterpret_cast<char*>(f.words.data()) + offset_bytes, 0, length_bytes);
    return Status::Ok();
  }

  Status Advise(uint32_t, uint64_t, uint64_t, int) override { return Status::Ok(); }

  std::string Degraded() const override { return ""; }

 private:
  static constexpr size_t kPageWords = kPageBytes / sizeof(uint64_t);
  struct File {
    std::mutex mu;
    std::vector<uint64_t> words;
    std::vector<bool> written;  // by page, since the last Reset
  };
  std::deque<File> files_;  // stable addresses as it grows
};

}  // namespace

std::unique_ptr<Backend> CreateMemoryBackend() { return std::make_unique<MemoryBackend>(); }

}  // namespace pagerace
