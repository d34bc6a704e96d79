// The host kernel as a Target: every op is the real system call on real
// files in a private directory (mkdtemp under --dir; nothing else is
// touched). Reads and writes go through pread/pwrite or io_uring, loads and
// stores through a MAP_SHARED mapping of each file (real page faults and
// page_mkwrite), punch and zero through fallocate(PUNCH_HOLE|KEEP_SIZE) and
// fallocate(ZERO_RANGE|KEEP_SIZE), collapse and insert through
// fallocate(COLLAPSE_RANGE) and fallocate(INSERT_RANGE) (refused, with a
// notice, where the file system has neither), readahead through
// posix_fadvise(WILLNEED), madvise(MADV_WILLNEED) and readahead(2), evict
// through posix_fadvise(DONTNEED), and write-mapped is a pwrite whose source buffer
// is a mapping of the same file (a scratch range past the program's pages,
// zapped first, so the copy faults under the write's i_rwsem).
//
// A SIGBUS during a mapped access is caught and becomes a SIGBUS finding; it
// never kills the harness (except under ThreadSanitizer, which takes a SIGBUS
// as fatal before any handler of ours runs). Reads may tear at byte granularity (the kernel
// copies page data with no lock against writers). The end-of-run check reads
// the pages mincore(2) says are cached, loads the pages whose PTE
// /proc/self/pagemap says is present, then writes back
// (sync_file_range), unmaps and evicts, and reads the written pages with
// O_DIRECT (the file system's blocks; through the page cache after eviction
// where O_DIRECT is refused).
//
// Each run starts with a hole punched over every file's program pages (the
// whole file, scratch pages too, in a program with size ops), the prefill
// written, and (one run in two, from the program's seed) the page cache
// written back and dropped, so that reads miss and read ahead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "harness/backend/backend.h"
#include "harness/base/status.h"
#include "harness/run/target.h"

namespace pagerace {

struct KernelTargetOptions {
  std::string dir;  // parent of the private directory; "" = $TMPDIR
  IoMode io = IoMode::kPread;
  // Set: the files are made in this directory, which the target neither
  // made nor removes (the FUSE target's mount), instead of a private one.
  std::string files_dir = {};
};

Result<std::unique_ptr<Target>> CreateKernelTarget(const KernelTargetOptions& options);

// Where `path` lives, for reports.
struct HostFs {
  std::string release;        // uname -r
  std::string type;           // "ext4"
  std::string source;         // "/dev/loop0"
  std::string mount_point;    // "/tmp/pagerace-fs.x/ext4"
  std::string mount_options;  // the mount's and the super block's, as /proc/self/mountinfo has them
};
Result<HostFs> DescribeHostFs(const std::string& path);

// Copies `words` 8-byte words from `src` to `dst` with relaxed atomic
// accesses (either may be a shared mapping). A SIGBUS during the copy stops
// it: returns false and sets *fault_addr, instead of killing the process.
bool GuardedCopy(uint64_t* dst, const uint64_t* src, size_t words, uintptr_t* fault_addr);

}  // namespace pagerace
