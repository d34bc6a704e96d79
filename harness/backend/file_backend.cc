#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "harness/backend/backend.h"

namespace pagerace {
namespace {

// io_uring rings for concurrent callers: a ring is not thread-safe, so each
// transfer takes a ring of its own from the pool (making one when none is
// free), submits, reaps its completion and gives the ring back. With real
// threads there are at most as many rings as threads doing I/O at once.
class RingPool {
 public:
  explicit RingPool(unsigned entries) : entries_(entries) {}
  ~RingPool() {
    for (auto& ring : all_) io_uring_queue_exit(ring.get());
  }

  // A ring, or the (negative errno) error of setting one up.
  io_uring* Take(int& error) {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        io_uring* ring = free_.back();
        free_.pop_back();
        return ring;
      }
    }
    auto ring = std::make_unique<io_uring>();
    error = io_uring_queue_init(entries_, ring.get(), 0);
    if (error < 0) return nullptr;
    std::lock_guard lock(mu_);
    all_.push_back(std::move(ring));
    return all_.back().get();
  }

  void Give(io_uring* ring) {
    std::lock_guard lock(mu_);
    free_.push_back(ring);
  }

 private:
  unsigned entries_;
  std::mutex mu_;
  std::vector<std::unique_ptr<io_uring>> all_;
  std::vector<io_uring*> free_;
};

class FileBackend final : public Backend {
 public:
  FileBackend(std::string dir, IoMode io, unsigned ring_entries) : dir_(std::move(dir)) {
    if (io != IoMode::kUring) return;
    rings_ = std::make_unique<RingPool>(ring_entries);
    int error = 0;
    io_uring* ring = rings_->Take(error);  // the probe: refused here means refused for good
    if (ring == nullptr) {
      rings_.reset();
      io_degraded_ = std::string("io: io_uring refused (") + std::strerror(-error) + "), using pread/pwrite";
      return;
    }
    rings_->Give(ring);
  }

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
    PR_RETURN_IF_ERROR(Transfer(false, fds_[file], p, bytes, off_t{index} * kPageBytes, done));
    std::memset(p + done, 0, bytes - done);  // past EOF reads as zeros
    return Status::Ok();
  }

  Status WritePages(uint32_t file, uint32_t index, uint32_t pages, const uint64_t* words) override {
    auto* p = const_cast<char*>(reinterpret_cast<const char*>(words));  // only read from
    size_t done = 0;
    return Transfer(true, fds_[file], p, size_t{pages} * kPageBytes, off_t{index} * kPageBytes, done);
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
    std::string what = io_degraded_;
    if (zero_fill_.load(std::memory_order_relaxed))
      what += std::string(what.empty() ? "" : "; ") + "punch: host refused PUNCH_HOLE, zero-filled";
    return what;
  }

 private:
  // Moves `bytes` at `offset` between `p` and the file, through a ring when
  // there are rings, else pread/pwrite; `done` says how far it got (a read
  // stops early at end of file). Short transfers and EINTR are retried.
  Status Transfer(bool write, int fd, char* p, size_t bytes, off_t offset, size_t& done) {
    const char* what = write ? "write" : "read";
    io_uring* ring = nullptr;
    if (rings_ != nullptr) {
      int error = 0;
      ring = rings_->Take(error);
      if (ring == nullptr) return Status::FromErrno("io_uring_queue_init", -error);
    }
    Status st;
    while (done < bytes) {
      ssize_t n;
      if (ring != nullptr) {
        io_uring_sqe* sqe = io_uring_get_sqe(ring);
        if (write) {
          io_uring_prep_write(sqe, fd, p + done, static_cast<unsigned>(bytes - done), offset + done);
        } else {
          io_uring_prep_read(sqe, fd, p + done, static_cast<unsigned>(bytes - done), offset + done);
        }
        int r = io_uring_submit(ring);
        io_uring_cqe* cqe = nullptr;
        if (r >= 0) {
          do r = io_uring_wait_cqe(ring, &cqe);
          while (r == -EINTR);
        }
        if (r < 0) {
          st = Status::FromErrno(std::string("io_uring ") + what, -r);
          break;
        }
        n = cqe->res;
        io_uring_cqe_seen(ring, cqe);
        if (n < 0) {
          errno = static_cast<int>(-n);
          n = -1;
        }
      } else {
        n = write ? pwrite(fd, p + done, bytes - done, offset + done)
                  : pread(fd, p + done, bytes - done, offset + done);
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        st = Status::FromErrno(write ? "pwrite" : "pread", errno);
        break;
      }
      if (n == 0) {
        if (write) st = Status::FromErrno("pwrite", EIO);
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (ring != nullptr) rings_->Give(ring);
    return st;
  }

  std::string PathOf(size_t i) const { return dir_ + "/file" + std::to_string(i); }

  std::string dir_;
  std::vector<int> fds_;
  std::atomic<bool> zero_fill_{false};
  std::unique_ptr<RingPool> rings_;  // io_uring; null: pread/pwrite
  std::string io_degraded_;          // why io_uring is not used, when it was asked for
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateFileBackend(const FileBackendOptions& options) {
  std::string parent = options.parent_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string templ = parent + "/pagerace.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return Status::FromErrno("mkdtemp " + templ, errno);
  return std::unique_ptr<Backend>(new FileBackend(templ, options.io, options.ring_entries));
}

}  // namespace pagerace
