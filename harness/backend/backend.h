// The storage under the page-cache model: a set of model files, addressed by
// page (reads, writeback) and by byte range (punch). The model's ->read_folio
// and writeback call it; the end-of-run check reads it directly.
// Thread-safety: every method may be called from any thread concurrently,
// except Reset, which requires that no other call is in progress.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "harness/base/status.h"
#include "harness/program/program.h"

namespace pagerace {

class Backend {
 public:
  virtual ~Backend() = default;

  // Makes `files` files of `file_pages` pages, all zero.
  virtual Status Reset(uint32_t files, uint32_t file_pages) = 0;
  // Pages [first, end) of a file and their initial words; `words` points at
  // page 0 of an image of the file, and the same address must always hold
  // the same words (so that a backend may skip pages it already holds).
  struct Initial {
    uint32_t first = 0, end = 0;
    const uint64_t* words = nullptr;
  };
  // Reset, then file i starts with initial[i] (files past initial.size(),
  // and pages outside the range, are zero).
  virtual Status ResetWith(uint32_t files, uint32_t file_pages, std::span<const Initial> initial);
  // Reads `pages` pages of `file` from page `index` into `words`.
  virtual Status ReadPages(uint32_t file, uint32_t index, uint32_t pages, uint64_t* words) = 0;
  // Writes `pages` pages of `file` from page `index` from `words`.
  virtual Status WritePages(uint32_t file, uint32_t index, uint32_t pages, const uint64_t* words) = 0;
  // Frees the byte range: it reads as zeros afterwards (the "free blocks"
  // step of a hole punch). Sector aligned.
  virtual Status Punch(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes) = 0;
  // Passes a posix_fadvise hint for the range to the host.
  virtual Status Advise(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes, int advice) = 0;
  // What the backend had to do without (e.g. "punch: zero-fill"), or "".
  virtual std::string Degraded() const = 0;
};

// How the file backend moves page data.
enum class IoMode : uint8_t {
  kPread,  // pread(2)/pwrite(2)
  kUring,  // io_uring (liburing): each transfer submitted to a ring and reaped;
           // pread/pwrite when the kernel refuses to set a ring up (e.g. EPERM
           // under a container's seccomp profile), said once by Degraded()
};
const char* IoModeName(IoMode mode);
std::optional<IoMode> IoModeFromName(std::string_view name);

struct FileBackendOptions {
  std::string parent_dir;    // empty: $TMPDIR or /tmp
  IoMode io = IoMode::kPread;
  unsigned ring_entries = 8;  // io_uring: submission queue size of each ring
};

// Real files, one per model file, in a private directory made with mkdtemp
// under the parent directory. pread/pwrite or io_uring,
// fallocate(PUNCH_HOLE|KEEP_SIZE) (zero-fill where refused), posix_fadvise.
// Touches nothing it did not create; removes its files and directory when
// destroyed.
Result<std::unique_ptr<Backend>> CreateFileBackend(const FileBackendOptions& options);
inline Result<std::unique_ptr<Backend>> CreateFileBackend(const std::string& parent_dir) {
  return CreateFileBackend(FileBackendOptions{parent_dir});
}

// Model files in memory: the same contract without a system call, for fuzzing
// throughput. Punched ranges read as zeros; Advise does nothing.
std::unique_ptr<Backend> CreateMemoryBackend();

// The backends by name, for flags and the environment.
enum class BackendKind : uint8_t { kFile, kMemory };
const char* BackendName(BackendKind kind);
std::optional<BackendKind> BackendFromName(std::string_view name);

}  // namespace pagerace
