// The host side of the backends that sit on real files (file, blockmap): a
// private directory to keep them in, and page data moved by pread/pwrite or
// io_uring. Internal to harness/backend. Thread-safety: IoEngine's Read and
// Write may be called from any thread concurrently (a ring per caller).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "harness/backend/backend.h"
#include "harness/base/status.h"

namespace pagerace {

// Makes a directory with mkdtemp under `parent_dir` (empty: $TMPDIR or
// /tmp) and returns its path. It is registered: RemovePrivateDir removes it
// with what CreateExclusive made in it, and so does the exit of the process
// that made it if its owner never did (an executor leaked because its
// threads hang; a command stopped by a signal).
Result<std::string> MakePrivateDir(const std::string& parent_dir);

// Creates `path`, which must not exist (O_EXCL), for reading and writing. In
// a private directory, it is registered with it.
Result<int> CreateExclusive(const std::string& path);

// Unlinks the files CreateExclusive made in the private directory `dir` and
// removes it; nothing else in it is touched (rmdir fails if anything is).
void RemovePrivateDir(const std::string& dir);

// One transfer: `bytes` at `offset` of `fd`, to (read) or from (write) `p`.
struct IoSegment {
  int fd = -1;
  char* p = nullptr;  // only read from by Write
  size_t bytes = 0;
  off_t offset = 0;
  // Read: where to say how many bytes lay before the end of the file (the
  // rest of the segment reads as zeros); may be null.
  size_t* got = nullptr;
};

class RingPool;

class IoEngine {
 public:
  // With IoMode::kUring, sets a ring up at once: refused here means refused
  // for good, and the engine uses pread/pwrite (said by degraded()).
  IoEngine(IoMode mode, unsigned ring_entries);
  ~IoEngine();
  IoEngine(const IoEngine&) = delete;
  IoEngine& operator=(const IoEngine&) = delete;

  // Reads every segment; bytes past the end of the file read as zeros.
  // Through a ring, the segments go in one submission (in chunks of the
  // ring's size) and all completions are reaped before it returns.
  Status Read(std::span<const IoSegment> segments) { return Batch(false, segments); }
  // Writes every segment, the same way.
  Status Write(std::span<const IoSegment> segments) { return Batch(true, segments); }

  // "io: io_uring refused (<reason>), using pread/pwrite", or "".
  const std::string& degraded() const { return degraded_; }

 private:
  Status Batch(bool write, std::span<const IoSegment> segments);

  std::unique_ptr<RingPool> rings_;  // io_uring; null: pread/pwrite
  std::string degraded_;             // why io_uring is not used, when it was asked for
};

}  // namespace pagerace
