#include "harness/run/kernel_target.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>

#include "harness/backend/io.h"
#include "harness/base/check.h"
#include "harness/run/fuse_server.h"

namespace pagerace {
namespace {

// Past the program's pages, each thread has a scratch range that
// write-mapped copies its data through: an op's sectors plus a page, since
// the data keeps its offset within the page.
constexpr uint32_t kScratchPagesPerThread = kOpSectorsMax / kSectorsPerPage + 1;
constexpr uint32_t kFilePages = kFilePagesMax + kThreadsMax * kScratchPagesPerThread;
constexpr size_t kFileBytes = size_t{kFilePages} * kPageBytes;
static_assert(kFilePages == kFuseFilePages, "a FUSE mount's server stores the files this target makes");
constexpr unsigned kRingEntries = 8;

// SIGBUS during GuardedCopy: jump back out of the copy. Any other SIGBUS
// gets the handler that was there before (the sanitizers', or the default).
thread_local sigjmp_buf* t_bus_jump = nullptr;
thread_local uintptr_t t_bus_addr = 0;
struct sigaction g_previous_bus;

void OnSigbus(int sig, siginfo_t* info, void* context) {
  if (t_bus_jump != nullptr) {
    t_bus_addr = reinterpret_cast<uintptr_t>(info->si_addr);
    siglongjmp(*t_bus_jump, 1);
  }
  if (g_previous_bus.sa_flags & SA_SIGINFO) {
    g_previous_bus.sa_sigaction(sig, info, context);
    return;
  }
  // Default or ignored: restore it; returning re-runs the faulting access.
  sigaction(SIGBUS, &g_previous_bus, nullptr);
}

void InstallSigbusHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    // SA_NODEFER: the jump out of the handler leaves SIGBUS unblocked.
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    PR_CHECK(sigaction(SIGBUS, &sa, &g_previous_bus) == 0);
  });
}

struct File {
  std::string path;
  int fd = -1;
  int direct_fd = -1;  // O_DIRECT, for dio ops and the end-of-run check; -1 if refused
  char* map = nullptr;
};

// The [first, end) page range of sectors [sector, sector + count).
std::pair<size_t, size_t> PageBounds(uint32_t sector, uint32_t count) {
  const size_t first = size_t{sector} / kSectorsPerPage;
  const size_t end = (size_t{sector} + count + kSectorsPerPage - 1) / kSectorsPerPage;
  return {first * kPageBytes, end * kPageBytes};
}

class KernelTarget final : public Target {
 public:
  KernelTarget(IoMode io, std::string dir, HostFs host, bool owns_dir)
      : io_(io), engine_(io, kRingEntries), dir_(std::move(dir)), host_(std::move(host)), owns_dir_(owns_dir) {}

  ~KernelTarget() override {
    for (File& f : files_) {
      if (f.map != nullptr) munmap(f.map, kFileBytes);
      if (f.direct_fd >= 0) close(f.direct_fd);
      if (f.fd >= 0) close(f.fd);
    }
    if (pagemap_fd_ >= 0) close(pagemap_fd_);
    std::free(direct_buf_);
    std::free(dio_bufs_);
    RemovePrivateDir(dir_);
  }

  Status Init() {
    for (uint32_t i = 0; i < kFilesMax; ++i) {
      File& f = files_[i];
      f.path = dir_ + "/f" + std::to_string(i);
      Result<int> fd = CreateExclusive(f.path);
      if (!fd.ok()) return fd.status();
      f.fd = *fd;
      if (ftruncate(f.fd, static_cast<off_t>(kFileBytes)) != 0) return Status::FromErrno("ftruncate " + f.path, errno);
      void* map = mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
      if (map == MAP_FAILED) return Status::FromErrno("mmap " + f.path, errno);
      f.map = static_cast<char*>(map);
      // On a FUSE mount (files_dir), the servers are forked children: one
      // that inherited this mapping would keep the mount's files open, and
      // so another server from ending when its mount goes.
      if (!owns_dir_ && madvise(map, kFileBytes, MADV_DONTFORK) != 0) return Status::FromErrno("madvise(DONTFORK)", errno);
      f.direct_fd = open(f.path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
      if (f.direct_fd < 0) {
        Note("kernel: O_DIRECT refused (" + std::string(std::strerror(errno)) +
             "): dio-read and dio-write run buffered, and the end-of-run check reads the page cache after "
             "eviction");
      }
    }
    pagemap_fd_ = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pagemap_fd_ < 0) Note("kernel: no /proc/self/pagemap: the end-of-run check loads no mapped pages");
    direct_buf_ = std::aligned_alloc(kPageBytes, size_t{kFilePagesMax} * kPageBytes);
    PR_CHECK(direct_buf_ != nullptr);
    dio_bufs_ = std::aligned_alloc(kPageBytes, size_t{kThreadsMax} * kDioBufBytes);
    PR_CHECK(dio_bufs_ != nullptr);
    return Status::Ok();
  }

  Status Reset(const Program& program, std::span<const Backend::Initial> initial) override {
    program_ = &program;
    shifts_ = HasShifts(program);
    const bool cold = (program.seed >> 1 & 1) != 0;
    // The last run's Settle left no PTE on the program pages and nothing
    // dirty: the first access to a page faults.
    for (uint32_t i = 0; i < program.files; ++i) {
      File& f = files_[i];
      // The whole size again (a truncate or collapse may have cut the file,
      // and the scratch pages past the program's; an insert may have grown
      // it past them).
      if (ftruncate(f.fd, static_cast<off_t>(kFileBytes)) != 0) return Status::FromErrno("ftruncate " + f.path, errno);
      // A collapse moves the pages past the program's down into them: with
      // size ops, the scratch pages are punched too, so that none of an
      // earlier run's data (a write-mapped's, or pages an insert moved up)
      // comes back.
      PR_RETURN_IF_ERROR(Fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                                   HasSizeOps(program) ? kFileBytes : size_t{kFilePagesMax} * kPageBytes, "reset"));
      const bool prefilled = i < initial.size() && initial[i].words != nullptr;
      if (prefilled) {
        const Backend::Initial& in = initial[i];
        IoSegment s{f.fd, reinterpret_cast<char*>(const_cast<uint64_t*>(in.words)) + size_t{in.first} * kPageBytes,
                    size_t{in.end - in.first} * kPageBytes, static_cast<off_t>(size_t{in.first} * kPageBytes)};
        PR_RETURN_IF_ERROR(engine_.Write({&s, 1}));
      }
      const int advice = program.ra_pages == 0 ? POSIX_FADV_RANDOM : POSIX_FADV_NORMAL;
      if (int e = posix_fadvise(f.fd, 0, 0, advice); e != 0) return Status::FromErrno("posix_fadvise", e);
      if (cold && prefilled) PR_RETURN_IF_ERROR(WritebackAndDrop(f));  // a punched range caches nothing
    }
    return Status::Ok();
  }

  Status Apply(uint32_t thread, const Op& op, uint64_t* buf, OpOutcome* out) override {
    File& f = files_[op.file];
    const size_t off = size_t{op.sector} * kSectorBytes, len = size_t{op.count} * kSectorBytes;
    const size_t words = len / 8;
    size_t got = len;
    IoSegment s{f.fd, reinterpret_cast<char*>(buf), len, static_cast<off_t>(off), &got};
    const auto [page_lo, page_hi] = PageBounds(op.sector, op.count);
    switch (op.kind) {
      case OpKind::kRead: {
        if (Status st = engine_.Read({&s, 1}); !st.ok()) return Status::IoError("read op: " + st.message());
        out->done = static_cast<uint32_t>(got / kSectorBytes);  // short at the end of the file
        return Status::Ok();
      }
      case OpKind::kTruncate: return Errno(ftruncate(f.fd, static_cast<off_t>(off)), "ftruncate");
      case OpKind::kCollapse:
      case OpKind::kInsert: return Shift(f, op.kind == OpKind::kInsert, off, len, out);
      case OpKind::kDioRead:
      case OpKind::kDioWrite: {
        // One pread or pwrite (whose errno says what failed) through the
        // thread's page-aligned buffer, as O_DIRECT needs; on a file system
        // that refused O_DIRECT, buffered (Init said so).
        char* aligned = static_cast<char*>(dio_bufs_) + size_t{thread} * kDioBufBytes;
        const int fd = f.direct_fd >= 0 ? f.direct_fd : f.fd;
        const bool write = op.kind == OpKind::kDioWrite;
        if (write) std::memcpy(aligned, buf, len);
        got = 0;
        while (got < len) {
          const ssize_t n = write ? pwrite(fd, aligned + got, len - got, static_cast<off_t>(off + got))
                                  : pread(fd, aligned + got, len - got, static_cast<off_t>(off + got));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && errno == EIO && MetDelalloc()) {
            out->failed = true;  // a write may have written part; a read observed nothing
            return Status::Ok();
          }
          if (n < 0) return Status::FromErrno(write ? "pwrite (O_DIRECT)" : "pread (O_DIRECT)", errno);
          if (n == 0) break;  // a read at the end of the file
          got += static_cast<size_t>(n);
        }
        if (write) return got == len ? Status::Ok() : Status::FromErrno("pwrite (O_DIRECT)", EIO);
        std::memcpy(buf, aligned, got);
        out->done = static_cast<uint32_t>(got / kSectorBytes);  // short at the end of the file
        return Status::Ok();
      }
      case OpKind::kWrite: return engine_.Write({&s, 1});
      case OpKind::kPunch: return Fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len, "punch");
      case OpKind::kZeroRange: return Fallocate(f, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len, "zero");
      case OpKind::kReadahead: return Fadvise(f, off, len, POSIX_FADV_WILLNEED, "posix_fadvise(WILLNEED)");
      case OpKind::kEvict: return Fadvise(f, off, len, POSIX_FADV_DONTNEED, "posix_fadvise(DONTNEED)");
      case OpKind::kLoad:
        Access(op, buf, reinterpret_cast<const uint64_t*>(f.map + off), words, out);
        return Status::Ok();
      case OpKind::kStore:
        Access(op, reinterpret_cast<uint64_t*>(f.map + off), buf, words, out);
        return Status::Ok();
      case OpKind::kFsync:
      case OpKind::kFdatasync: {
        const bool data = op.kind == OpKind::kFdatasync;
        if ((data ? fdatasync(f.fd) : fsync(f.fd)) == 0) return Status::Ok();
        if (Collided(errno)) {
          out->failed = true;  // it reports the collision, and observed nothing
          return Status::Ok();
        }
        return Status::FromErrno(data ? "fdatasync" : "fsync", errno);
      }
      case OpKind::kMadvise: return Errno(madvise(f.map + page_lo, page_hi - page_lo, MADV_WILLNEED), "madvise(WILLNEED)");
      case OpKind::kSysReadahead: return Errno(static_cast<int>(readahead(f.fd, static_cast<off64_t>(off), len)), "readahead");
      case OpKind::kWriteMapped: {
        // The data goes into this thread's scratch range of the same file
        // (same offset within the page), its PTEs are zapped, and pwrite
        // copies from there: the copy faults the pages back in while the
        // write holds the inode's lock.
        // A truncate cuts the scratch pages off until the next run: the
        // op then fails before it writes anything.
        // A collapse or insert moves the scratch pages into the file's
        // range and out of it: in a program with one, write-mapped is
        // skipped (failed), so that the pages past the program's stay a
        // hole whose moves the oracle follows.
        if (shifts_) {
          Note("kernel: write-mapped is skipped in programs with collapse or insert (its buffer lies in the "
               "file's range they move)");
          out->failed = true;
          return Status::Ok();
        }
        const size_t scratch = (size_t{kFilePagesMax} + size_t{thread} * kScratchPagesPerThread) * kPageBytes;
        char* src = f.map + scratch + off % kPageBytes;
        uintptr_t fault = 0;
        if (!GuardedCopy(reinterpret_cast<uint64_t*>(src), buf, words, &fault)) {
          out->failed = true;
          return Status::Ok();
        }
        if (madvise(f.map + scratch, page_hi - page_lo, MADV_DONTNEED) != 0)
          return Status::FromErrno("madvise(DONTNEED)", errno);
        for (size_t done = 0; done < len;) {
          const ssize_t n = pwrite(f.fd, src + done, len - done, static_cast<off_t>(off + done));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && errno == EFAULT) {  // a truncate cut the buffer's pages off meanwhile
            out->failed = true;
            return Status::Ok();
          }
          if (n <= 0) return Status::FromErrno("pwrite from the mapping", n < 0 ? errno : EIO);
          done += static_cast<size_t>(n);
        }
        return Status::Ok();
      }
    }
    return Status::InvalidArgument("unknown op kind");
  }

  // The kernel has flusher threads of its own: this one starts write-back of
  // every file (sync_file_range(WRITE), not waiting) every 50 us.
  Status RunFlusher(size_t passes, const std::atomic<uint32_t>& threads_done, uint32_t threads) override {
    for (size_t pass = 0; pass < passes; ++pass) {
      for (uint32_t i = 0; i < program_->files; ++i)
        if (sync_file_range(files_[i].fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0 && !Collided(errno))
          return Status::FromErrno("sync_file_range", errno);
      if (threads_done.load(std::memory_order_acquire) >= threads) break;
      const timespec pause{0, 50'000};
      nanosleep(&pause, nullptr);
    }
    return Status::Ok();
  }
  void ThreadsDone() override {}

  uint64_t FinalPages(FinalPass pass, uint32_t file) override {
    const File& f = files_[file];
    const uint32_t pages = program_->file_pages;
    uint64_t mask = 0;
    if (pass == FinalPass::kCached) {
      unsigned char vec[kFilePagesMax];
      if (mincore(f.map, size_t{pages} * kPageBytes, vec) != 0) return ~uint64_t{0} >> (64 - pages);
      for (uint32_t p = 0; p < pages; ++p) mask |= uint64_t{vec[p] & 1u} << p;
    } else if (pass == FinalPass::kMapped && pagemap_fd_ >= 0) {
      uint64_t entries[kFilePagesMax];
      const off_t at = static_cast<off_t>(reinterpret_cast<uintptr_t>(f.map) / kPageBytes * sizeof(uint64_t));
      if (pread(pagemap_fd_, entries, pages * sizeof(uint64_t), at) != static_cast<ssize_t>(pages * sizeof(uint64_t)))
        return 0;
      for (uint32_t p = 0; p < pages; ++p) mask |= (entries[p] >> 63) << p;  // bit 63: present
    }
    return mask;
  }

  // Unmap (PTE dirty bits move to the pages), write back and wait, then drop
  // the clean pages.
  Status Settle() override {
    for (uint32_t i = 0; i < program_->files; ++i) {
      File& f = files_[i];
      if (madvise(f.map, size_t{kFilePagesMax} * kPageBytes, MADV_DONTNEED) != 0)
        return Status::FromErrno("madvise(DONTNEED)", errno);
      PR_RETURN_IF_ERROR(WritebackAndDrop(f));
    }
    return Status::Ok();
  }

  Status FinalRead(FinalPass pass, uint32_t file, uint32_t page, uint32_t pages, uint64_t* words,
                   OpOutcome* out) override {
    File& f = files_[file];
    const size_t off = size_t{page} * kPageBytes, len = size_t{pages} * kPageBytes;
    if (pass == FinalPass::kMapped) {
      Access(file, page * kSectorsPerPage, words, reinterpret_cast<const uint64_t*>(f.map + off), len / 8, out);
      return Status::Ok();
    }
    if (pass == FinalPass::kBackend && f.direct_fd >= 0) {
      IoSegment s{f.direct_fd, static_cast<char*>(direct_buf_), len, static_cast<off_t>(off)};
      if (Status st = engine_.Read({&s, 1}); st.ok()) {
        std::memcpy(words, direct_buf_, len);
        return Status::Ok();
      } else {
        // Seen on ext4 as EIO after a truncate cut the file inside a page:
        // the pages were written back and dropped (Settle), so a buffered
        // read reaches the disk all the same.
        Note("kernel: an O_DIRECT read at the end of a run failed (" + st.message() +
             "): that pass read through the page cache after eviction");
      }
    }
    size_t got = len;
    IoSegment s{f.fd, reinterpret_cast<char*>(words), len, static_cast<off_t>(off), &got};
    if (Status st = engine_.Read({&s, 1}); !st.ok())
      return Status::IoError(std::string("end-of-run ") + FinalPassName(pass) + " read: " + st.message());
    if (pass == FinalPass::kCached) out->done = static_cast<uint32_t>(got / kSectorBytes);
    return Status::Ok();
  }

  // eof_tail_kept: tmpfs keeps a store past the end in the last page when
  // the file grows (shmem_setattr zeroes nothing), ext4 when a direct write
  // grows it; POSIX leaves it unspecified. sigbus_mid_page: a truncate may
  // unmap a page in the middle of a store's copy into it.
  CheckOptions Checking() const override {
    return {.byte_tearing = true, .large_folios = true, .eof_tail_kept = true, .sigbus_mid_page = true};
  }
  std::string Degraded() const override {
    std::string all = engine_.degraded();
    std::lock_guard lock(notes_mu_);
    for (const std::string& n : notes_) all += (all.empty() ? "" : "; ") + n;
    return all;
  }
  std::vector<std::pair<std::string, std::string>> Facts() const override {
    return {{"target", "kernel"},
            {"kernel", host_.release},
            {"fs", host_.type},
            {"mount", host_.source + " on " + host_.mount_point},
            {"mount_options", host_.mount_options},
            {"io", IoModeName(io_)}};
  }

 private:
  static Status Errno(int r, const char* what) { return r == 0 ? Status::Ok() : Status::FromErrno(what, errno); }

  // Whether EIO from a direct I/O is the kernel's: iomap's direct I/O fails
  // when it meets a delayed allocation, which a store's page_mkwrite made
  // after the I/O wrote the range back ("Direct I/O collision with buffered
  // writes!": direct I/O is not serialized against the mapping). Only
  // programs with stores can make one while a direct I/O runs.
  bool MetDelalloc() {
    if (program_ == nullptr || !HasStores(*program_)) return false;
    Note("kernel: a direct I/O returned EIO: it met a delayed allocation of a store's page_mkwrite (\"Direct "
         "I/O collision with buffered writes!\")");
    return true;
  }

  // Whether a write-back error is the kernel's report of a direct write that
  // collided with buffered I/O or a store through the mapping: after the
  // write, the cached pages of its range could not be invalidated, and
  // dio_warn_stale_pagecache set -EIO on the mapping for fsync to return
  // (and logged "Page cache invalidation failure on direct I/O"). The next
  // write-back call of the descriptor succeeds. Only programs with direct
  // writes can collide.
  bool Collided(int err) {
    if (err != EIO || program_ == nullptr || !HasDirectWrites(*program_)) return false;
    Note("kernel: a write-back call returned EIO after a direct write: the kernel's report of a collision "
         "with buffered I/O or the mapping (dio_warn_stale_pagecache)");
    return true;
  }

  Status Fallocate(File& f, int mode, size_t off, size_t len, const char* what) {
    // tmpfs has no ZERO_RANGE: a punch zeroes the same bytes.
    const bool zero = (mode & FALLOC_FL_ZERO_RANGE) != 0;
    if (zero && no_zero_range_.load(std::memory_order_relaxed)) mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    if (fallocate(f.fd, mode, static_cast<off_t>(off), static_cast<off_t>(len)) == 0) return Status::Ok();
    const int e = errno;
    if (e == EOPNOTSUPP && zero) {
      no_zero_range_.store(true, std::memory_order_relaxed);
      Note(std::string("kernel: ") + host_.type + " refuses FALLOC_FL_ZERO_RANGE: zero runs as PUNCH_HOLE");
      return Fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len, what);
    }
    if (e == EOPNOTSUPP) return Status::NotSupported(std::string("fallocate(PUNCH_HOLE) on ") + host_.type);
    return Status::FromErrno(std::string("fallocate (") + what + ") " + f.path, e);
  }

  // fallocate(COLLAPSE_RANGE) removes [off, off + len) and moves the rest
  // of the file down; fallocate(INSERT_RANGE) moves the data from off up by
  // len and leaves a hole. The kernel refuses a collapse whose range reaches
  // the end of the file and an insert at or past it (EINVAL; the size may
  // have changed under the op), and an insert past the largest file (EFBIG):
  // the op failed and moved nothing. tmpfs and btrfs have neither
  // (EOPNOTSUPP): every shift is then skipped, as failed.
  Status Shift(File& f, bool insert, size_t off, size_t len, OpOutcome* out) {
    if (no_shifts_.load(std::memory_order_relaxed)) {
      out->failed = true;
      return Status::Ok();
    }
    const int mode = insert ? FALLOC_FL_INSERT_RANGE : FALLOC_FL_COLLAPSE_RANGE;
    if (fallocate(f.fd, mode, static_cast<off_t>(off), static_cast<off_t>(len)) == 0) return Status::Ok();
    const int e = errno;
    if (e == EOPNOTSUPP) {
      no_shifts_.store(true, std::memory_order_relaxed);
      Note(std::string("kernel: ") + host_.type + " refuses " +
           (insert ? "FALLOC_FL_INSERT_RANGE" : "FALLOC_FL_COLLAPSE_RANGE") + ": collapse and insert are skipped");
    }
    if (e == EOPNOTSUPP || e == EINVAL || e == EFBIG) {
      out->failed = true;
      return Status::Ok();
    }
    return Status::FromErrno(std::string(insert ? "fallocate(INSERT_RANGE) " : "fallocate(COLLAPSE_RANGE) ") + f.path, e);
  }

  static Status Fadvise(File& f, size_t off, size_t len, int advice, const char* what) {
    const int e = posix_fadvise(f.fd, static_cast<off_t>(off), static_cast<off_t>(len), advice);
    return e == 0 ? Status::Ok() : Status::FromErrno(what, e);
  }

  Status WritebackAndDrop(File& f) {
    if (sync_file_range(f.fd, 0, 0,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0 &&
        !Collided(errno))
      return Status::FromErrno("sync_file_range", errno);
    return Fadvise(f, 0, 0, POSIX_FADV_DONTNEED, "posix_fadvise(DONTNEED)");
  }

  // A load or store through the mapping of sectors [sector, sector + words
  // / kSectorWords) of the op's file; a SIGBUS stops it at the page it hit,
  // and the oracle judges it against the file's size.
  void Access(const Op& op, uint64_t* dst, const uint64_t* src, size_t words, OpOutcome* out) {
    Access(op.file, op.sector, dst, src, words, out);
  }
  void Access(uint32_t file, uint32_t sector, uint64_t* dst, const uint64_t* src, size_t words, OpOutcome* out) {
    uintptr_t fault = 0;
    if (GuardedCopy(dst, src, words, &fault)) return;
    const uint32_t page = static_cast<uint32_t>((fault - reinterpret_cast<uintptr_t>(files_[file].map)) / kPageBytes);
    out->sigbus = true;
    out->done = std::min(out->done, page * kSectorsPerPage > sector ? page * kSectorsPerPage - sector : 0);
  }

  void Note(const std::string& note) {
    std::lock_guard lock(notes_mu_);
    for (const std::string& n : notes_)
      if (n == note) return;
    notes_.push_back(note);
  }

  const IoMode io_;
  IoEngine engine_;
  const std::string dir_;
  const HostFs host_;
  const bool owns_dir_;  // a private directory of its own (not a FUSE mount's)
  File files_[kFilesMax];
  int pagemap_fd_ = -1;
  std::atomic<bool> no_zero_range_{false};  // the file system refused FALLOC_FL_ZERO_RANGE
  std::atomic<bool> no_shifts_{false};      // the file system refused FALLOC_FL_COLLAPSE_RANGE or INSERT_RANGE
  void* direct_buf_ = nullptr;  // page-aligned, for O_DIRECT reads
  static constexpr size_t kDioBufBytes = size_t{kOpSectorsMax} * kSectorBytes;
  void* dio_bufs_ = nullptr;    // page-aligned, kDioBufBytes a thread, for dio ops
  const Program* program_ = nullptr;
  bool shifts_ = false;  // the program has a collapse or insert
  mutable std::mutex notes_mu_;
  std::vector<std::string> notes_;   // guarded by notes_mu_
};

std::string Field(std::istringstream& in) {
  std::string s;
  in >> s;
  return s;
}

}  // namespace

bool GuardedCopy(uint64_t* dst, const uint64_t* src, size_t words, uintptr_t* fault_addr) {
  InstallSigbusHandler();
  sigjmp_buf jump;
  if (sigsetjmp(jump, 0) != 0) {
    t_bus_jump = nullptr;
    *fault_addr = t_bus_addr;
    return false;
  }
  t_bus_jump = &jump;
  for (size_t i = 0; i < words; ++i)
    __atomic_store_n(&dst[i], __atomic_load_n(&src[i], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
  t_bus_jump = nullptr;
  return true;
}

Result<HostFs> DescribeHostFs(const std::string& path) {
  HostFs fs;
  utsname u{};
  if (uname(&u) == 0) fs.release = u.release;
  struct statx stx {};
  if (statx(AT_FDCWD, path.c_str(), 0, STATX_MNT_ID, &stx) != 0) return Status::FromErrno("statx " + path, errno);
  const bool by_id = (stx.stx_mask & STATX_MNT_ID) != 0;
  char* real = realpath(path.c_str(), nullptr);
  const std::string resolved = real != nullptr ? real : path;
  std::free(real);
  // "36 35 98:0 /root /mnt opts [optional fields] - type source super-opts".
  // The mount by its id; without one (before Linux 5.8), the longest mount
  // point that holds the path.
  std::ifstream mountinfo("/proc/self/mountinfo");
  bool found = false;
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream in(line);
    uint64_t id = 0;
    if (!(in >> id)) continue;
    Field(in);  // parent
    Field(in);  // major:minor
    Field(in);  // root
    const std::string point = Field(in);
    if (by_id ? id != stx.stx_mnt_id
              : resolved.compare(0, point.size(), point) != 0 || (found && point.size() <= fs.mount_point.size()))
      continue;
    const std::string options = Field(in);
    for (std::string f = Field(in); !f.empty() && f != "-";) f = Field(in);
    fs.mount_point = point;
    fs.type = Field(in);
    fs.source = Field(in);
    const std::string super = Field(in);
    fs.mount_options = super.empty() ? options : options + " (super: " + super + ")";
    found = true;
    if (by_id) break;
  }
  if (!found) fs.type = "unknown";
  return fs;
}

Result<std::unique_ptr<Target>> CreateKernelTarget(const KernelTargetOptions& options) {
  // A files_dir is not registered as a private directory: RemovePrivateDir
  // leaves it alone.
  Result<std::string> dir = options.files_dir.empty() ? MakePrivateDir(options.dir) : Result<std::string>(options.files_dir);
  if (!dir.ok()) return dir.status();
  Result<HostFs> host = DescribeHostFs(*dir);
  if (!host.ok()) {
    RemovePrivateDir(*dir);
    return host.status();
  }
  auto target = std::make_unique<KernelTarget>(options.io, *dir, std::move(*host), options.files_dir.empty());
  PR_RETURN_IF_ERROR(target->Init());
  return std::unique_ptr<Target>(std::move(target));
}

}  // namespace pagerace
