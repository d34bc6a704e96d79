#include "harness/backend/io.h"

#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "harness/base/check.h"

namespace pagerace {

namespace {

// The private directories not removed yet, each with the files made in it
// and the process that made them (a forked child, as under AFL++'s fork
// server, must not remove its parent's at its exit).
struct PrivateDir {
  std::string path;
  std::vector<std::string> files;
  pid_t owner;
};

struct PrivateDirs {
  std::mutex mu;
  std::vector<PrivateDir> dirs;  // guarded by mu
};

// Never destroyed: the exit handler may run after static destructors.
PrivateDirs& Registry() {
  static PrivateDirs* registry = new PrivateDirs;
  return *registry;
}

void Remove(const PrivateDir& dir) {
  for (const std::string& file : dir.files) unlink(file.c_str());
  rmdir(dir.path.c_str());
}

// At exit: the directories of this process that no owner removed.
void RemoveLeftPrivateDirs() {
  PrivateDirs& r = Registry();
  std::lock_guard lock(r.mu);
  const pid_t self = getpid();
  for (const PrivateDir& dir : r.dirs)
    if (dir.owner == self) Remove(dir);
  r.dirs.clear();
}

}  // namespace

Result<std::string> MakePrivateDir(const std::string& parent_dir) {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(RemoveLeftPrivateDirs); });
  std::string parent = parent_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string templ = parent + "/pagerace.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return Status::FromErrno("mkdtemp " + templ, errno);
  PrivateDirs& r = Registry();
  std::lock_guard lock(r.mu);
  r.dirs.push_back({templ, {}, getpid()});
  return templ;
}

Result<int> CreateExclusive(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  const std::string dir = path.substr(0, path.find_last_of('/'));
  PrivateDirs& r = Registry();
  std::lock_guard lock(r.mu);
  for (PrivateDir& d : r.dirs)
    if (d.path == dir) d.files.push_back(path);
  return fd;
}

void RemovePrivateDir(const std::string& dir) {
  PrivateDirs& r = Registry();
  std::lock_guard lock(r.mu);
  auto it = std::find_if(r.dirs.begin(), r.dirs.end(), [&](const PrivateDir& d) { return d.path == dir; });
  if (it == r.dirs.end()) return;
  Remove(*it);
  r.dirs.erase(it);
}

// io_uring rings for concurrent callers: a ring is not thread-safe, so each
// batch takes a ring of its own from the pool (making one when none is
// free), submits, reaps its completions and gives the ring back. With real
// threads there are at most as many rings as threads doing I/O at once.
class RingPool {
 public:
  explicit RingPool(unsigned entries) : entries_(entries) {}
  ~RingPool() {
    for (auto& ring : all_) io_uring_queue_exit(ring.get());
  }

  unsigned entries() const { return entries_; }

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

  // Tears down a ring that failed: it may hold queued or unreaped work.
  void Discard(io_uring* ring) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(all_.begin(), all_.end(), [&](const auto& r) { return r.get() == ring; });
    PR_CHECK(it != all_.end());
    io_uring_queue_exit(ring);
    all_.erase(it);
  }

 private:
  const unsigned entries_;
  std::mutex mu_;
  std::vector<std::unique_ptr<io_uring>> all_;  // guarded by mu_
  std::vector<io_uring*> free_;                 // guarded by mu_
};

namespace {

// Moves the rest of `s` from `done` on, through `ring` if not null, else
// pread/pwrite; `done` says how far it got (a read stops early at end of
// file). Short transfers, EINTR and EAGAIN are retried.
Status Transfer(io_uring* ring, bool write, const IoSegment& s, size_t& done) {
  while (done < s.bytes) {
    ssize_t n;
    if (ring != nullptr) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      PR_CHECK(sqe != nullptr);
      const auto len = static_cast<unsigned>(s.bytes - done);
      if (write) {
        io_uring_prep_write(sqe, s.fd, s.p + done, len, s.offset + done);
      } else {
        io_uring_prep_read(sqe, s.fd, s.p + done, len, s.offset + done);
      }
      int r = io_uring_submit(ring);
      io_uring_cqe* cqe = nullptr;
      if (r >= 0) {
        do r = io_uring_wait_cqe(ring, &cqe);
        while (r == -EINTR);
      }
      if (r < 0) return Status::FromErrno(std::string("io_uring ") + (write ? "write" : "read"), -r);
      n = cqe->res;
      io_uring_cqe_seen(ring, cqe);
      if (n < 0) {
        errno = static_cast<int>(-n);
        n = -1;
      }
    } else {
      n = write ? pwrite(s.fd, s.p + done, s.bytes - done, s.offset + done)
                : pread(s.fd, s.p + done, s.bytes - done, s.offset + done);
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Status::FromErrno(write ? "pwrite" : "pread", errno);
    if (n == 0) return write ? Status::FromErrno("pwrite", EIO) : Status::Ok();
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Transfer, then zeros for what a read found past the end of the file.
Status Finish(io_uring* ring, bool write, const IoSegment& s, size_t done) {
  PR_RETURN_IF_ERROR(Transfer(ring, write, s, done));
  if (!write) std::memset(s.p + done, 0, s.bytes - done);
  if (!write && s.got != nullptr) *s.got = done;
  return Status::Ok();
}

// Submits the segments (at most the ring's size) together, reaps every
// completion, and finishes the short ones one at a time.
Status SubmitChunk(io_uring* ring, bool write, std::span<const IoSegment> chunk) {
  for (size_t i = 0; i < chunk.size(); ++i) {
    const IoSegment& s = chunk[i];
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    PR_CHECK(sqe != nullptr);  // the ring is empty and the chunk fits it
    if (write) {
      io_uring_prep_write(sqe, s.fd, s.p, static_cast<unsigned>(s.bytes), s.offset);
    } else {
      io_uring_prep_read(sqe, s.fd, s.p, static_cast<unsigned>(s.bytes), s.offset);
    }
    io_uring_sqe_set_data64(sqe, i);
  }
  const char* what = write ? "io_uring write" : "io_uring read";
  size_t submitted = 0;
  Status st;
  while (submitted < chunk.size()) {  // each pass submits at least one, or fails
    int r = io_uring_submit(ring);
    if (r <= 0) {
      st = Status::FromErrno(std::string(what) + " submit", r < 0 ? -r : EAGAIN);
      break;
    }
    submitted += static_cast<size_t>(r);
  }
  std::vector<int> res(chunk.size(), 0);
  for (size_t reaped = 0; reaped < submitted; ++reaped) {  // all of them, even after a failure
    io_uring_cqe* cqe = nullptr;
    int r;
    do r = io_uring_wait_cqe(ring, &cqe);
    while (r == -EINTR);
    if (r < 0) return Status::FromErrno(std::string(what) + " wait", -r);
    res[io_uring_cqe_get_data64(cqe)] = cqe->res;
    io_uring_cqe_seen(ring, cqe);
  }
  if (!st.ok()) return st;
  for (size_t i = 0; i < chunk.size(); ++i) {
    const int r = res[i];
    if (r < 0 && r != -EINTR && r != -EAGAIN) return Status::FromErrno(what, -r);
    if (r == 0 && write && chunk[i].bytes > 0) return Status::FromErrno(what, EIO);
    const size_t done = r > 0 ? static_cast<size_t>(r) : 0;
    if (r == 0 && !write) {
      std::memset(chunk[i].p, 0, chunk[i].bytes);  // all past the end of the file
      if (chunk[i].got != nullptr) *chunk[i].got = 0;
    } else if (done < chunk[i].bytes) {
      PR_RETURN_IF_ERROR(Finish(ring, write, chunk[i], done));
    } else if (!write && chunk[i].got != nullptr) {
      *chunk[i].got = done;
    }
  }
  return Status::Ok();
}

}  // namespace

IoEngine::IoEngine(IoMode mode, unsigned ring_entries) {
  if (mode != IoMode::kUring) return;
  rings_ = std::make_unique<RingPool>(ring_entries);
  int error = 0;
  io_uring* ring = rings_->Take(error);  // the probe: refused here means refused for good
  if (ring == nullptr) {
    rings_.reset();
    degraded_ = std::string("io: io_uring refused (") + std::strerror(-error) + "), using pread/pwrite";
    return;
  }
  rings_->Give(ring);
}

IoEngine::~IoEngine() = default;

Status IoEngine::Batch(bool write, std::span<const IoSegment> segments) {
  if (rings_ == nullptr) {
    for (const IoSegment& s : segments) PR_RETURN_IF_ERROR(Finish(nullptr, write, s, 0));
    return Status::Ok();
  }
  int error = 0;
  io_uring* ring = rings_->Take(error);
  if (ring == nullptr) return Status::FromErrno("io_uring_queue_init", -error);
  Status st;
  for (size_t at = 0; at < segments.size() && st.ok(); at += rings_->entries())
    st = SubmitChunk(ring, write, segments.subspan(at, std::min<size_t>(rings_->entries(), segments.size() - at)));
  if (st.ok()) {
    rings_->Give(ring);
  } else {
    rings_->Discard(ring);
  }
  return st;
}

}  // namespace pagerace
