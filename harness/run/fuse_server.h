// pagerace as a file system: a FUSE server (libfuse3's low-level API, in a
// child process: see below), mounted in a private directory, whose files the
// kernel target's code then works on, so that the host kernel's page cache
// sits on a store that pagerace owns and can steer.
//
// The namespace is fixed: the root directory and files f0..f3, made by
// create(2). The store holds each file's pages: the program's pages
// [0, kFilePagesMax) on a model backend (blockmap: a punch frees blocks that
// the next allocation reuses at once, so stale data reads as another file's,
// FOREIGN), the scratch pages past them in memory. The server keeps each
// file's size and a modification counter (its mtime).
//
// Requests pause at named points of the handlers (ServerPoint, in
// fuse_server.cc), drawn from the run's seed (BeginRun) and a per-run
// counter, as the free soak's jitter does: between a READ's copy out of the
// store and its reply, a WRITE's arrival and its copy in, a FALLOCATE's
// arrival and its punch, and so on.
//
// The mount's options are the program's fuse knob (program.h):
// writeback_cache and auto_inval_data as capabilities asked for at INIT,
// max_read as a mount option. keep_cache is set on every open (files are
// opened once, at the start, so it changes nothing). direct_io is not a
// knob: a descriptor with FOPEN_DIRECT_IO cannot be mapped shared unless the
// server sets FUSE_DIRECT_IO_ALLOW_MMAP, which libfuse 3.14 cannot.
//
// Leaves nothing behind: the destructor unmounts and removes the directory;
// an exit that skips it (a leaked executor, a stop signal) detaches the
// mount at exit; a server whose pagerace died (SIGKILL) detaches its mount
// and removes the directory itself; and the mount of a server that died is
// detached, and its directory removed, by the next FuseServer::Start
// (SweepDeadMounts).
// The server is a child process (fork, no exec), not threads of this one: a
// page fault on the mount holds this process's mmap_lock while it waits for
// the server's READ, and a server thread of the same process that maps
// memory (malloc) would wait for that lock; and a process killed while its
// own server threads are gone waits forever in the close of a file on the
// mount (a forced FLUSH, write-back). The child stops serving when the
// mount goes (the destructor, the exit handler), or when this process dies
// (PR_SET_PDEATHSIG: it detaches the mount itself). A server that was
// killed leaves a mount with nobody behind it: the sweep aborts its
// connection (through fusectl) and detaches it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/base/status.h"
#include "harness/program/program.h"

namespace pagerace {

// The pages of each file the FUSE target's files span: the program's, then
// the kernel target's scratch pages (kernel_target.cc).
inline constexpr uint32_t kFuseFilePages = kFilePagesMax + kThreadsMax * (kOpSectorsMax / kSectorsPerPage + 1);

struct FuseServerOptions {
  std::string dir;     // parent of the private directory; "" = $TMPDIR
  uint8_t mount = 0;   // the program's fuse knob (kFuse* bits)
  BackendKind store = BackendKind::kMemory;
  IoMode io = IoMode::kPread;
};

class FuseServer {
 public:
  // Sweeps dead processes' mounts, makes the private directory, mounts
  // and starts serving. A kNotSupported status: FUSE is not available here
  // (no /dev/fuse, mounting refused, a build without libfuse3), with a
  // one-line reason.
  static Result<std::unique_ptr<FuseServer>> Start(const FuseServerOptions& options);
  virtual ~FuseServer() = default;

  virtual const std::string& mount_point() const = 0;
  // The next requests' pauses are drawn from `seed`.
  virtual void BeginRun(uint64_t seed) = 0;
  // What the server had to do without ("" if nothing).
  virtual std::string Degraded() const = 0;
};

// Detaches every pagerace FUSE mount whose server process is gone and
// removes its (empty) mount point and private directory. Returns how many.
int SweepDeadMounts();

}  // namespace pagerace
