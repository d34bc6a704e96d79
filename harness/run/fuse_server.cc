#include "harness/run/fuse_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "harness/base/check.h"

namespace pagerace {
namespace {

// Where a request may pause.
enum class ServerPoint : uint8_t {
  kReadBeforeStore,    // a READ arrived; the store not read yet
  kReadBeforeReply,    // the data copied out; the reply not sent
  kWriteBeforeStore,   // a WRITE arrived; the store not written yet
  kWriteBeforeReply,   // stored; the reply not sent
  kPunchBeforeStore,   // a FALLOCATE (punch, zero) arrived; nothing freed yet
  kPunchBeforeReply,   // freed; the reply not sent
  kSizeBeforeStore,    // a SETATTR(size) arrived; the size not set
  kSizeBeforeReply,    // the size set and the cut-off data freed; the reply not sent
  kGetattrBeforeReply, // the attributes read; the reply not sent
  kFsyncBeforeReply,   // an FSYNC or FLUSH arrived; the reply not sent
  kMaxValue = kFsyncBeforeReply,
};

constexpr const char* kFsType = "fuse.pagerace";
constexpr const char* kSourcePrefix = "pagerace:";  // then the server's pid

// The mounts of this process not unmounted yet: detached at exit, if an
// owner never did (a leaked executor, a stop signal).
struct LiveMounts {
  std::mutex mu;
  std::vector<std::string> points;  // guarded by mu
};
LiveMounts& Live() {
  static LiveMounts* live = new LiveMounts;  // never destroyed: used at exit
  return *live;
}

void Detach(const std::string& point) {
  umount2(point.c_str(), MNT_DETACH);
  rmdir(point.c_str());
}

[[maybe_unused]] void DetachLeftMounts() {
  LiveMounts& l = Live();
  std::lock_guard lock(l.mu);
  for (const std::string& p : l.points) Detach(p);
  l.points.clear();
}

[[maybe_unused]] void Forget(const std::string& point) {
  LiveMounts& l = Live();
  std::lock_guard lock(l.mu);
  std::erase(l.points, point);
}

// Whether the server process `pid` is gone or on its way out: no such
// process, a zombie, or exiting (PF_EXITING in /proc/PID/stat's flags). A
// server killed while its own threads had a file of the mount open waits in
// that close for a reply (a forced FLUSH, write-back) that nobody is left to
// send, until the connection is aborted.
bool ServerGone(long pid) {
  if (pid <= 0) return true;
  if (kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream f(stat.substr(paren + 1));
  std::string state, ppid, pgrp, session, tty, tpgid;
  unsigned long flags = 0;
  f >> state >> ppid >> pgrp >> session >> tty >> tpgid >> flags;
  constexpr unsigned long kPfExiting = 0x4;
  return state == "Z" || state == "X" || (flags & kPfExiting) != 0;
}

// Aborts the FUSE connection of device `dev` ("0:52") through the fusectl
// file system, mounting it for the moment if it is not: the waits on it
// end with an error.
void AbortConnection(const std::string& dev) {
  const std::string minor = dev.substr(dev.find(':') + 1);
  const std::string ctl = "/sys/fs/fuse/connections";
  const std::string abort = ctl + "/" + minor + "/abort";
  bool mounted = false;
  if (access(abort.c_str(), W_OK) != 0) mounted = mount("fusectl", ctl.c_str(), "fusectl", 0, nullptr) == 0;
  if (std::FILE* f = std::fopen(abort.c_str(), "w")) {
    std::fputs("1", f);
    std::fclose(f);
  }
  if (mounted) umount2(ctl.c_str(), MNT_DETACH);
}

}  // namespace

int SweepDeadMounts() {
  // "36 35 0:52 / /tmp/pagerace.x/mnt rw,... - fuse.pagerace pagerace:1234 rw,...".
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::vector<std::pair<std::string, std::string>> dead;  // mount point, device
  for (std::string line; std::getline(mountinfo, line);) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, point, type, source;
    head >> id >> parent >> dev >> root >> point;
    tail >> type >> source;
    if (type != kFsType || source.rfind(kSourcePrefix, 0) != 0) continue;
    const long pid = std::strtol(source.c_str() + std::strlen(kSourcePrefix), nullptr, 10);
    if (ServerGone(pid)) dead.emplace_back(point, dev);
  }
  int swept = 0;
  for (const auto& [point, dev] : dead) {
    AbortConnection(dev);
    if (umount2(point.c_str(), MNT_DETACH) != 0) continue;
    ++swept;
    rmdir(point.c_str());
    // The private directory around it, if it is one and now empty.
    const std::string parent = point.substr(0, point.find_last_of('/'));
    if (parent.substr(parent.find_last_of('/') + 1).rfind("pagerace.", 0) == 0) rmdir(parent.c_str());
  }
  return swept;
}

}  // namespace pagerace

#ifndef PAGERACE_HAVE_FUSE

namespace pagerace {
Result<std::unique_ptr<FuseServer>> FuseServer::Start(const FuseServerOptions&) {
  return Status::NotSupported("this pagerace was built without libfuse3 (Debian: libfuse3-dev)");
}
}  // namespace pagerace

#else

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <new>

#include "harness/backend/backend.h"
#include "harness/backend/io.h"
#include "harness/base/rng.h"

namespace pagerace {
namespace {

constexpr fuse_ino_t kRootIno = FUSE_ROOT_ID;  // 1; file i is inode 2 + i
constexpr uint64_t kFileBytes = uint64_t{kFuseFilePages} * kPageBytes;
constexpr uint32_t kScratchPages = kFuseFilePages - kFilePagesMax;
constexpr size_t kPageWords = kPageBytes / 8;
// A pause at a point is drawn this often (per 1024), and lasts up to this.
constexpr uint32_t kPausePer1024 = 128;
constexpr uint32_t kPauseMaxUs = 100;
constexpr double kNoTimeout = 1e6;  // seconds: the kernel keeps what it was told

struct ServerFile {
  bool exists = false;
  uint64_t size = 0;
  uint64_t mtime = 0;  // bumped by each change, in nanoseconds
  std::vector<uint64_t> scratch = std::vector<uint64_t>(size_t{kScratchPages} * kPageWords);
};

// What the parent and the server process share (a MAP_SHARED page made
// before the fork).
struct Shared {
  std::atomic<uint64_t> seed{0}, draws{0};
  std::atomic<bool> stopping{false};  // the parent is unmounting
  char degraded[256] = {};
  char error[256] = {};  // why the server could not start
};

// The server process's mount point, for its death-of-parent signal handler.
char g_point[4096];
void OnParentDeath(int) { umount2(g_point, MNT_DETACH); }

// The file system, in the server process.
class Server {
 public:
  Server(const FuseServerOptions& options, std::unique_ptr<Backend> store, std::string point, Shared* shared)
      : options_(options), store_(std::move(store)), point_(std::move(point)), shared_(shared) {}

  // Mounts and serves until the mount goes; then 0, or 1 (after saying why
  // in shared->error) if it could not mount.
  int Serve(int ready_fd) {
    std::string opts = std::string("fsname=") + kSourcePrefix + std::to_string(getpid()) + ",subtype=pagerace";
    if (options_.mount & kFuseMaxRead4k) opts += ",max_read=4096";
    std::vector<std::string> argv_s = {"pagerace", "-o", opts};
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    fuse_lowlevel_ops ops{};
    ops.init = Init;
    ops.lookup = Lookup;
    ops.getattr = Getattr;
    ops.setattr = Setattr;
    ops.open = Open;
    ops.create = Create;
    ops.read = Read;
    ops.write = Write;
    ops.fallocate = Fallocate;
    ops.fsync = Fsync;
    ops.flush = Flush;
    ops.release = Release;
    ops.unlink = Unlink;
    ops.opendir = Opendir;
    ops.readdir = Readdir;
    ops.releasedir = Releasedir;
    fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, this);
    if (se == nullptr) return Refuse(ready_fd, "fuse: the session could not be made");
    if (fuse_session_mount(se, point_.c_str()) != 0) {
      fuse_session_destroy(se);
      return Refuse(ready_fd, "fuse: mounting " + point_ + " was refused (no fuse module, or no permission)");
    }
    const std::string d = store_->Degraded();
    std::snprintf(shared_->degraded, sizeof shared_->degraded, "%s", d.c_str());
    const char ok = 'y';
    (void)!write(ready_fd, &ok, 1);
    close(ready_fd);
    fuse_loop_config config{};
    config.clone_fd = 0;
    config.max_idle_threads = 2 * kThreadsMax;
    fuse_session_loop_mt(se, &config);
    fuse_session_destroy(se);
    return 0;
  }

 private:
  int Refuse(int ready_fd, const std::string& why) {
    std::snprintf(shared_->error, sizeof shared_->error, "%s", why.c_str());
    const char no = 'n';
    (void)!write(ready_fd, &no, 1);
    return 1;
  }
  static Server& Of(fuse_req_t req) { return *static_cast<Server*>(fuse_req_userdata(req)); }

  // A seeded pause: a function of the run's seed, the point and how many
  // pauses this run drew before it (which depends on the interleaving).
  void Pause(ServerPoint point) {
    const uint64_t n = shared_->draws.fetch_add(1, std::memory_order_relaxed);
    const uint64_t x =
        Mix64(shared_->seed.load(std::memory_order_relaxed) ^ (uint64_t{static_cast<uint8_t>(point)} << 56) ^ n);
    if (x % 1024 >= kPausePer1024) return;
    const timespec pause{0, static_cast<long>((x >> 10) % kPauseMaxUs + 1) * 1000};
    nanosleep(&pause, nullptr);
  }

  static int FileOf(fuse_ino_t ino) {
    return ino >= 2 && ino < 2 + kFilesMax ? static_cast<int>(ino - 2) : -1;
  }
  static int FileNamed(const char* name) {
    if (name[0] != 'f' || name[1] < '0' || name[1] >= static_cast<char>('0' + kFilesMax) || name[2] != '\0') return -1;
    return name[1] - '0';
  }

  // REQUIRES: mu_.
  struct stat StatOf(fuse_ino_t ino) const {
    struct stat st {};
    st.st_ino = ino;
    if (ino == kRootIno) {
      st.st_mode = S_IFDIR | 0700;
      st.st_nlink = 2;
      return st;
    }
    const ServerFile& f = files_[FileOf(ino)];
    st.st_mode = S_IFREG | 0600;
    st.st_nlink = 1;
    st.st_size = static_cast<off_t>(f.size);
    st.st_blksize = kPageBytes;
    st.st_blocks = static_cast<blkcnt_t>((f.size + 511) / 512);
    st.st_mtim = {static_cast<time_t>(f.mtime / 1'000'000'000), static_cast<long>(f.mtime % 1'000'000'000)};
    st.st_ctim = st.st_mtim;
    return st;
  }
  double AttrTimeout() const { return (options_.mount & kFuseAutoInvalData) ? 0 : kNoTimeout; }
  void Touch(ServerFile& f) { f.mtime += 1000; }

  // Page `page` of `file` into `words` (REQUIRES: mu_).
  Status LoadPage(uint32_t file, uint32_t page, uint64_t* words) {
    if (page >= kFilePagesMax) {
      std::memcpy(words, &files_[file].scratch[size_t{page - kFilePagesMax} * kPageWords], kPageBytes);
      return Status::Ok();
    }
    Backend::PageMap map;
    store_->MapPage(file, page, false, 0, kSectorsPerPage, map);
    const Backend::PageMap* maps[] = {&map};
    uint64_t* out[] = {words};
    return store_->ReadMapped(maps, out);
  }
  // Bytes [from, to) of page `page` of `file` from `words` (the whole page
  // image; REQUIRES: mu_).
  Status StorePage(uint32_t file, uint32_t page, uint32_t from, uint32_t to, const uint64_t* words) {
    if (page >= kFilePagesMax) {
      std::memcpy(&files_[file].scratch[size_t{page - kFilePagesMax} * kPageWords], words, kPageBytes);
      return Status::Ok();
    }
    Backend::PageMap map;
    store_->MapPage(file, page, true, from / kSectorBytes, (to + kSectorBytes - 1) / kSectorBytes, map);
    return store_->WriteMapped(map, words);
  }

  // Copies bytes [off, off + len) of `file` to `out` (REQUIRES: mu_).
  Status ReadRange(uint32_t file, uint64_t off, uint64_t len, char* out) {
    uint64_t words[kPageWords];
    for (uint64_t at = off; at < off + len;) {
      const uint32_t page = static_cast<uint32_t>(at / kPageBytes);
      const uint64_t in_page = at % kPageBytes, n = std::min<uint64_t>(kPageBytes - in_page, off + len - at);
      PR_RETURN_IF_ERROR(LoadPage(file, page, words));
      std::memcpy(out + (at - off), reinterpret_cast<char*>(words) + in_page, n);
      at += n;
    }
    return Status::Ok();
  }
  // Writes `data` (or zeros, if null) at [off, off + len) of `file`
  // (REQUIRES: mu_).
  Status WriteRange(uint32_t file, uint64_t off, uint64_t len, const char* data) {
    uint64_t words[kPageWords];
    for (uint64_t at = off; at < off + len;) {
      const uint32_t page = static_cast<uint32_t>(at / kPageBytes);
      const uint64_t in_page = at % kPageBytes, n = std::min<uint64_t>(kPageBytes - in_page, off + len - at);
      PR_RETURN_IF_ERROR(LoadPage(file, page, words));
      char* p = reinterpret_cast<char*>(words) + in_page;
      if (data != nullptr) {
        std::memcpy(p, data + (at - off), n);
      } else {
        std::memset(p, 0, n);
      }
      PR_RETURN_IF_ERROR(StorePage(file, page, static_cast<uint32_t>(in_page), static_cast<uint32_t>(in_page + n), words));
      at += n;
    }
    return Status::Ok();
  }
  // Frees [off, off + len) of `file`: the whole sectors inside it through
  // the store's punch (blocks freed, reusable at once), the partial ones
  // zeroed in place (REQUIRES: mu_).
  Status FreeRange(uint32_t file, uint64_t off, uint64_t len) {
    const uint64_t end = std::min(off + len, kFileBytes);
    if (off >= end) return Status::Ok();
    const uint64_t lo = (off + kSectorBytes - 1) / kSectorBytes * kSectorBytes, hi = end / kSectorBytes * kSectorBytes;
    if (lo >= hi) return WriteRange(file, off, end - off, nullptr);
    if (off < lo) PR_RETURN_IF_ERROR(WriteRange(file, off, lo - off, nullptr));
    if (hi < end) PR_RETURN_IF_ERROR(WriteRange(file, hi, end - hi, nullptr));
    const uint64_t model_end = uint64_t{kFilePagesMax} * kPageBytes;
    if (lo < model_end) {
      PR_RETURN_IF_ERROR(store_->Punch(file, lo, std::min(hi, model_end) - lo));
      store_->CommitFreed(file);
    }
    if (hi > model_end) {
      const uint64_t from = std::max(lo, model_end) - model_end;
      std::memset(reinterpret_cast<char*>(files_[file].scratch.data()) + from, 0, hi - model_end - from);
    }
    return Status::Ok();
  }

  static void Reply(fuse_req_t req, const Status& st) { fuse_reply_err(req, st.ok() ? 0 : EIO); }

  static void Init(void* userdata, fuse_conn_info* conn) {
    Server& s = *static_cast<Server*>(userdata);
    const uint8_t m = s.options_.mount;
    auto want = [conn](bool on, unsigned cap) {
      if (on && (conn->capable & cap)) conn->want |= cap;
      if (!on) conn->want &= ~cap;
    };
    want(m & kFuseWritebackCache, FUSE_CAP_WRITEBACK_CACHE);
    want(m & kFuseAutoInvalData, FUSE_CAP_AUTO_INVAL_DATA);
    want(false, FUSE_CAP_SPLICE_READ);
    want(false, FUSE_CAP_SPLICE_WRITE);
    want(false, FUSE_CAP_SPLICE_MOVE);
    if (m & kFuseMaxRead4k) conn->max_read = kPageBytes;
    conn->max_write = 128 * 1024;
  }

  // The file `name` is in directory `parent`, or -1: the namespace is f0..f3
  // in the root.
  static int Named(fuse_ino_t parent, const char* name) { return parent == kRootIno ? FileNamed(name) : -1; }
  // REQUIRES: mu_.
  fuse_entry_param EntryOf(int i) const {
    fuse_entry_param e{};
    e.ino = 2 + static_cast<fuse_ino_t>(i);
    e.attr = StatOf(e.ino);
    e.attr_timeout = AttrTimeout();
    e.entry_timeout = kNoTimeout;
    return e;
  }

  static void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    Server& s = Of(req);
    const int i = Named(parent, name);
    std::unique_lock lock(s.mu_);
    if (i < 0 || !s.files_[i].exists) {
      lock.unlock();
      fuse_reply_err(req, ENOENT);
      return;
    }
    const fuse_entry_param e = s.EntryOf(i);
    lock.unlock();
    fuse_reply_entry(req, &e);
  }

  static void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    Server& s = Of(req);
    std::unique_lock lock(s.mu_);
    const struct stat st = s.StatOf(ino);
    lock.unlock();
    s.Pause(ServerPoint::kGetattrBeforeReply);
    fuse_reply_attr(req, &st, s.AttrTimeout());
  }

  static void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
    Server& s = Of(req);
    const int i = FileOf(ino);
    if ((to_set & FUSE_SET_ATTR_SIZE) && i >= 0) {
      s.Pause(ServerPoint::kSizeBeforeStore);
      std::lock_guard lock(s.mu_);
      ServerFile& f = s.files_[i];
      const uint64_t size = std::min<uint64_t>(static_cast<uint64_t>(attr->st_size), kFileBytes);
      if (size < f.size) {
        if (Status st = s.FreeRange(static_cast<uint32_t>(i), size, f.size - size); !st.ok()) {
          s.Reply(req, st);
          return;
        }
      }
      f.size = size;
      s.Touch(f);
    }
    if (to_set & FUSE_SET_ATTR_SIZE) s.Pause(ServerPoint::kSizeBeforeReply);
    std::unique_lock lock(s.mu_);
    const struct stat st = s.StatOf(ino);
    lock.unlock();
    fuse_reply_attr(req, &st, s.AttrTimeout());
  }

  static void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (FileOf(ino) < 0) {
      fuse_reply_err(req, EISDIR);
      return;
    }
    fi->keep_cache = 1;
    fi->noflush = 1;  // files close only at the end: a close need not FLUSH
    fuse_reply_open(req, fi);
  }

  static void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, fuse_file_info* fi) {
    Server& s = Of(req);
    const int i = Named(parent, name);
    std::unique_lock lock(s.mu_);
    if (i < 0) {
      lock.unlock();
      fuse_reply_err(req, EACCES);  // the namespace is fixed
      return;
    }
    ServerFile& f = s.files_[i];
    if (!f.exists) {
      f.exists = true;
      f.size = 0;
      s.Touch(f);
    }
    const fuse_entry_param e = s.EntryOf(i);
    lock.unlock();
    fi->keep_cache = 1;
    fi->noflush = 1;
    fuse_reply_create(req, &e, fi);
  }

  static void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    Server& s = Of(req);
    const int i = FileOf(ino);
    if (i < 0) {
      fuse_reply_err(req, EISDIR);
      return;
    }
    s.Pause(ServerPoint::kReadBeforeStore);
    std::vector<char> buf;
    {
      std::lock_guard lock(s.mu_);
      const uint64_t fsize = s.files_[i].size, at = static_cast<uint64_t>(off);
      const uint64_t n = at >= fsize ? 0 : std::min<uint64_t>(size, fsize - at);
      buf.resize(n);
      if (Status st = s.ReadRange(static_cast<uint32_t>(i), at, n, buf.data()); !st.ok()) {
        s.Reply(req, st);
        return;
      }
    }
    s.Pause(ServerPoint::kReadBeforeReply);
    fuse_reply_buf(req, buf.data(), buf.size());
  }

  static void Write(fuse_req_t req, fuse_ino_t ino, const char* data, size_t size, off_t off, fuse_file_info*) {
    Server& s = Of(req);
    const int i = FileOf(ino);
    const uint64_t at = static_cast<uint64_t>(off);
    if (i < 0 || at + size > kFileBytes) {
      fuse_reply_err(req, i < 0 ? EISDIR : EFBIG);
      return;
    }
    s.Pause(ServerPoint::kWriteBeforeStore);
    {
      std::lock_guard lock(s.mu_);
      ServerFile& f = s.files_[i];
      if (Status st = s.WriteRange(static_cast<uint32_t>(i), at, size, data); !st.ok()) {
        s.Reply(req, st);
        return;
      }
      f.size = std::max<uint64_t>(f.size, at + size);
      s.Touch(f);
    }
    s.Pause(ServerPoint::kWriteBeforeReply);
    fuse_reply_write(req, size);
  }

  static void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, fuse_file_info*) {
    Server& s = Of(req);
    const int i = FileOf(ino);
    const bool punch = mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
    const bool zero = (mode & ~FALLOC_FL_KEEP_SIZE) == FALLOC_FL_ZERO_RANGE;
    const uint64_t at = static_cast<uint64_t>(off), n = static_cast<uint64_t>(len);
    if (i < 0 || !(punch || zero || mode == 0 || mode == FALLOC_FL_KEEP_SIZE)) {
      fuse_reply_err(req, i < 0 ? EISDIR : EOPNOTSUPP);  // collapse, insert: as tmpfs
      return;
    }
    if (at + n > kFileBytes) {
      fuse_reply_err(req, EFBIG);
      return;
    }
    s.Pause(ServerPoint::kPunchBeforeStore);
    {
      std::lock_guard lock(s.mu_);
      ServerFile& f = s.files_[i];
      if (punch || zero) {
        if (Status st = s.FreeRange(static_cast<uint32_t>(i), at, std::min(at + n, f.size) - std::min(at, f.size));
            !st.ok()) {
          s.Reply(req, st);
          return;
        }
      }
      if (!(mode & FALLOC_FL_KEEP_SIZE)) f.size = std::max(f.size, at + n);
      s.Touch(f);
    }
    s.Pause(ServerPoint::kPunchBeforeReply);
    s.Reply(req, Status::Ok());
  }

  static void Fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
    Server& s = Of(req);
    s.Pause(ServerPoint::kFsyncBeforeReply);
    s.Reply(req, Status::Ok());
  }
  static void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fsync(req, ino, 0, fi); }
  static void Release(fuse_req_t req, fuse_ino_t, fuse_file_info*) { Reply(req, Status::Ok()); }

  static void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
    Server& s = Of(req);
    const int i = Named(parent, name);
    std::unique_lock lock(s.mu_);
    if (i < 0 || !s.files_[i].exists) {
      lock.unlock();
      fuse_reply_err(req, ENOENT);
      return;
    }
    ServerFile& f = s.files_[i];
    const Status st = s.FreeRange(static_cast<uint32_t>(i), 0, kFileBytes);
    f.exists = false;
    f.size = 0;
    lock.unlock();
    s.Reply(req, st);
  }

  static void Opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (ino != kRootIno) {
      fuse_reply_err(req, ENOTDIR);
      return;
    }
    fuse_reply_open(req, fi);
  }
  static void Releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info*) { Reply(req, Status::Ok()); }

  static void Readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info*) {
    Server& s = Of(req);
    std::vector<std::pair<std::string, fuse_ino_t>> entries = {{".", kRootIno}, {"..", kRootIno}};
    {
      std::lock_guard lock(s.mu_);
      for (uint32_t i = 0; i < kFilesMax; ++i)
        if (s.files_[i].exists) entries.push_back({"f" + std::to_string(i), 2 + i});
    }
    std::vector<char> buf(size);
    size_t used = 0;
    for (size_t e = static_cast<size_t>(off); e < entries.size(); ++e) {
      struct stat st {};
      st.st_ino = entries[e].second;
      st.st_mode = e < 2 ? S_IFDIR : S_IFREG;
      const size_t n = fuse_add_direntry(req, buf.data() + used, size - used, entries[e].first.c_str(), &st,
                                         static_cast<off_t>(e + 1));
      if (n > size - used) break;
      used += n;
    }
    fuse_reply_buf(req, buf.data(), used);
  }

  const FuseServerOptions options_;
  std::unique_ptr<Backend> store_;
  const std::string point_;
  Shared* const shared_;
  std::mutex mu_;  // the files and the store
  ServerFile files_[kFilesMax];
};


// The server process: its parent's side.
class ServerProcess final : public FuseServer {
 public:
  ServerProcess(std::string dir, Shared* shared) : dir_(std::move(dir)), point_(dir_ + "/mnt"), shared_(shared) {}
  ~ServerProcess() override {
    if (pid_ > 0) {
      // The mount goes; once no file of it is open, the kernel ends the
      // connection and the server's loop returns.
      shared_->stopping.store(true);
      Detach(point_);
      Forget(point_);
      int status = 0;
      for (int waited_ms = 0; waitpid(pid_, &status, WNOHANG) == 0; waited_ms += 10) {
        if (waited_ms == 5000) kill(pid_, SIGKILL);  // wedged in a request
        poll(nullptr, 0, 10);
      }
    }
    rmdir(point_.c_str());
    RemovePrivateDir(dir_);
    munmap(shared_, sizeof(Shared));
  }

  Status Start(const FuseServerOptions& options) {
    if (mkdir(point_.c_str(), 0700) != 0) return Status::FromErrno("mkdir " + point_, errno);
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return Status::FromErrno("pipe2", errno);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
      close(ready[0]);
      close(ready[1]);
      return Status::FromErrno("fork", errno);
    }
    if (pid_ == 0) {
      close(ready[0]);
      _exit(RunChild(options, parent, ready[1]));
    }
    close(ready[1]);
    char c = 0;
    ssize_t n;
    do n = read(ready[0], &c, 1);
    while (n < 0 && errno == EINTR);
    close(ready[0]);
    if (c != 'y') {
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return Status::NotSupported(shared_->error[0] != '\0' ? shared_->error : "fuse: the server process failed");
    }
    LiveMounts& l = Live();
    std::lock_guard lock(l.mu);
    l.points.push_back(point_);
    return Status::Ok();
  }

  const std::string& mount_point() const override { return point_; }
  void BeginRun(uint64_t seed) override {
    shared_->seed.store(seed, std::memory_order_relaxed);
    shared_->draws.store(0, std::memory_order_relaxed);
  }
  std::string Degraded() const override { return shared_->degraded; }

 private:
  // The server process: only the forking thread of the parent is here.
  int RunChild(const FuseServerOptions& options, pid_t parent, int ready_fd) {
    // Ends with the parent (however it dies): detach the mount, then the
    // loop returns once the parent's files are closed.
    std::snprintf(g_point, sizeof g_point, "%s", point_.c_str());
    struct sigaction sa {};
    sa.sa_handler = OnParentDeath;
    sigaction(SIGUSR1, &sa, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    if (getppid() != parent) return 1;
    // Stop signals are the parent's to act on (it unmounts); the
    // descriptors are the parent's too (other mounts' files among them,
    // which would keep those mounts alive).
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    // libfuse's own messages (a connection aborted at the end) say nothing
    // a user needs; what fails is reported through `shared_->error`.
    fuse_set_log_func([](enum fuse_log_level, const char*, va_list) {});
    if (ready_fd > 3) close_range(3, static_cast<unsigned>(ready_fd) - 1, 0);
    close_range(static_cast<unsigned>(ready_fd) + 1, ~0u, 0);
    std::unique_ptr<Backend> store;
    switch (options.store) {
      case BackendKind::kMemory: store = CreateMemoryBackend(); break;
      case BackendKind::kFile:
      case BackendKind::kBlockmap: {
        FileBackendOptions fo{dir_, options.io};
        Result<std::unique_ptr<Backend>> made =
            options.store == BackendKind::kFile ? CreateFileBackend(fo) : CreateBlockmapBackend(fo);
        if (!made.ok()) {
          std::snprintf(shared_->error, sizeof shared_->error, "fuse: the store: %s", made.status().ToString().c_str());
          return 1;
        }
        store = std::move(*made);
        break;
      }
    }
    if (Status st = store->Reset(kFilesMax, kFilePagesMax); !st.ok()) {
      std::snprintf(shared_->error, sizeof shared_->error, "fuse: the store: %s", st.ToString().c_str());
      return 1;
    }
    int code;
    {
      Server server(options, std::move(store), point_, shared_);
      code = server.Serve(ready_fd);
    }  // the store's files go
    // The parent did not stop the server: it died (maybe not yet reaped),
    // and nobody else removes its mount or directory (empty by now).
    if (!shared_->stopping.load()) {
      umount2(point_.c_str(), MNT_DETACH);
      rmdir(point_.c_str());
      rmdir(dir_.c_str());
    }
    return code;
  }

  const std::string dir_;    // the private directory
  const std::string point_;  // dir_/mnt
  Shared* const shared_;
  pid_t pid_ = -1;
};

}  // namespace

Result<std::unique_ptr<FuseServer>> FuseServer::Start(const FuseServerOptions& options) {
  if (access("/dev/fuse", R_OK | W_OK) != 0)
    return Status::NotSupported(std::string("fuse: /dev/fuse: ") + std::strerror(errno));
  SweepDeadMounts();
  Result<std::string> dir = MakePrivateDir(options.dir);
  if (!dir.ok()) return dir.status();
  // After MakePrivateDir's own exit handler: exit handlers run last in,
  // first out, so mounts are detached before the directories go.
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(DetachLeftMounts); });
  void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    RemovePrivateDir(*dir);
    return Status::FromErrno("mmap", errno);
  }
  auto server = std::make_unique<ServerProcess>(*dir, new (mem) Shared);
  PR_RETURN_IF_ERROR(server->Start(options));
  return std::unique_ptr<FuseServer>(std::move(server));
}

}  // namespace pagerace

#endif  // PAGERACE_HAVE_FUSE
