#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "harness/backend/backend.h"

namespace pagerace {
namespace {

class FileBackend final : public Backend {
 public:
  explicit FileBackend(std::string dir) : dir_(std::move(dir)) {}

  ~FileBackend() override {
    for (size_t i = 0; i < fds_.size(); ++i) {
      close(fds_[i]);
      unlink(PathOf(i).c_str());
    }
    rmdir(dir_.c_str());
  }

  Status Reset(uint32_t files, uint32_t file_pages) override {
    while (fds_.size() < files) {
      const std::string path = PathOf(fds_.size());
      int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) return Status::FromErrno("open " + path, errno);
      fds_.push_back(fd);
    }
    const off_t size = off_t{file_pages} * kPageBytes;
    for (uint32_t i = 0; i < files; ++i) {
      if (ftruncate(fds_[i], 0) != 0 || ftruncate(fds_[i], size) != 0)
        return Status::FromErrno("ftruncate " + PathOf(i), errno);
    }
    return Status::Ok();
  }

  Status ReadPages(uint32_t file, uint32_t index, uint32_t pages, uint64_t* words) override {
    auto* p = reinterpret_cast<char*>(words);
    const size_t bytes = size_t{pages} * kPageBytes;
    size_t done = 0;
    while (done < bytes) {
      ssize_t n = pread(fds_[file], p + done, bytes - done, off_t{index} * kPageBytes + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno("pread", errno);
      if (n == 0) break;  // past EOF reads as zeros
      done += n;
    }
    std::memset(p + done, 0, bytes - done);
    return Status::Ok();
  }

  Status WritePages(uint32_t file, uint32_t index, uint32_t pages, const uint64_t* words) override {
    const auto* p = reinterpret_cast<const char*>(words);
    const size_t bytes = size_t{pages} * kPageBytes;
    size_t done = 0;
    while (done < bytes) {
      ssize_t n = pwrite(fds_[file], p + done, bytes - done, off_t{index} * kPageBytes + done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::FromErrno("pwrite", n < 0 ? errno : EIO);
      done += n;
    }
    return Status::Ok();
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
    return zero_fill_.load(std::memory_order_relaxed) ? "punch: host refused PUNCH_HOLE, zero-filled" : "";
  }

 private:
  std::string PathOf(size_t i) const { return dir_ + "/file" + std::to_string(i); }

  std::string dir_;
  std::vector<int> fds_;
  std::atomic<bool> zero_fill_{false};
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateFileBackend(const std::string& parent_dir) {
  std::string parent = parent_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string templ = parent + "/pagerace.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return Status::FromErrno("mkdtemp " + templ, errno);
  return std::unique_ptr<Backend>(new FileBackend(templ));
}

}  // namespace pagerace
