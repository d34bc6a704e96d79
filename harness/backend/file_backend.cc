#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "harness/backend/backend.h"
#include "harness/backend/io.h"
#include "harness/base/check.h"

namespace pagerace {
namespace {

class FileBackend final : public Backend {
 public:
  FileBackend(std::string dir, IoMode io, unsigned ring_entries) : dir_(std::move(dir)), io_(io, ring_entries) {}

  ~FileBackend() override {
    for (int fd : fds_) close(fd);
    RemovePrivateDir(dir_);
  }

  Status Reset(uint32_t files, uint32_t file_pages) override {
    while (fds_.size() < files) {
      Result<int> fd = CreateExclusive(PathOf(fds_.size()));
      if (!fd.ok()) return fd.status();
      fds_.push_back(*fd);
    }
    const off_t size = off_t{file_pages} * kPageBytes;
    for (uint32_t i = 0; i < files; ++i) {
      if (ftruncate(fds_[i], 0) != 0 || ftruncate(fds_[i], size) != 0)
        return Status::FromErrno("ftruncate " + PathOf(i), errno);
    }
    return Status::Ok();
  }

  Status ReadPages(uint32_t file, uint32_t index, uint32_t pages, uint64_t* words) override {
    const IoSegment s = Segment(file, index, pages, words);
    return io_.Read({&s, 1});
  }

  Status WritePages(uint32_t file, uint32_t index, uint32_t pages, const uint64_t* words) override {
    const IoSegment s = Segment(file, index, pages, const_cast<uint64_t*>(words));  // only read from
    return io_.Write({&s, 1});
  }

  // The batch goes to one ring in one submission; with pread it is a loop.
  Status ReadMapped(std::span<const PageMap* const> maps, std::span<uint64_t* const> words) override {
    PR_CHECK(maps.size() == words.size());
    std::vector<IoSegment> segments(maps.size());
    for (size_t i = 0; i < maps.size(); ++i) segments[i] = Segment(maps[i]->file, maps[i]->page, 1, words[i]);
    return io_.Read(segments);
  }

  Status Punch(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes) override {
    if (!zero_fill_.load(std::memory_order_relaxed)) {
      if (fallocate(fds_[file], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset_bytes, length_bytes) == 0)
        return Status::Ok();
      if (errno != EOPNOTSUPP) return Status::FromErrno("fallocate(PUNCH_HOLE)", errno);
      zero_fill_.store(true, std::memory_order_relaxed);
    }
    std::vector<char> zeros(length_bytes);
    if (pwrite(fds_[file], zeros.data(), length_bytes, offset_bytes) != static_cast<ssize_t>(length_bytes))
      return Status::FromErrno("pwrite(zeros)", errno);
    return Status::Ok();
  }

  Status Advise(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes, int advice) override {
    int err = posix_fadvise(fds_[file], offset_bytes, length_bytes, advice);
    return err == 0 ? Status::Ok() : Status::FromErrno("posix_fadvise", err);
  }

  std::string Degraded() const override {
    std::string what = io_.degraded();
    if (zero_fill_.load(std::memory_order_relaxed))
      what += std::string(what.empty() ? "" : "; ") + "punch: host refused PUNCH_HOLE, zero-filled";
    return what;
  }

 private:
  IoSegment Segment(uint32_t file, uint32_t index, uint32_t pages, uint64_t* words) const {
    return {fds_[file], reinterpret_cast<char*>(words), size_t{pages} * kPageBytes, off_t{index} * kPageBytes};
  }

  std::string PathOf(size_t i) const { return dir_ + "/file" + std::to_string(i); }

  std::string dir_;
  std::vector<int> fds_;
  std::atomic<bool> zero_fill_{false};
  IoEngine io_;
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateFileBackend(const FileBackendOptions& options) {
  Result<std::string> dir = MakePrivateDir(options.parent_dir);
  if (!dir.ok()) return dir.status();
  return std::unique_ptr<Backend>(new FileBackend(*dir, options.io, options.ring_entries));
}

}  // namespace pagerace
