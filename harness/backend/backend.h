// The storage under the page-cache model: a set of model files, addressed by
// page (reads, writeback) and by byte range (punch). The model's ->read_folio
// and writeback call it; the end-of-run check reads it directly.
// Thread-safety: every method may be called from any thread concurrently,
// except Reset, which requires that no other call is in progress; with a
// block map (blockmap), MapPage and Punch of a file need its i_data_sem (see
// MapPage), and ReadPages, WritePages and ChangedPages that nothing else runs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

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
  // Moves pages [page, file_pages) of a file of `file_pages` pages down by
  // `pages` (collapse: pages [page, page + pages) are freed first) or, with
  // `insert`, up by `pages` (the last `pages` pages are freed first); the
  // pages the move leaves behind read as zeros (collapse range, insert
  // range). The filesystem's extent shift; the caller holds the file's
  // i_data_sem, exclusive. The default moves the data through ReadPages and
  // WritePages.
  virtual Status Shift(uint32_t file, uint32_t page, uint32_t pages, uint32_t file_pages, bool insert);
  // Passes a posix_fadvise hint for the range to the host.
  virtual Status Advise(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes, int advice) = 0;
  // What the backend had to do without (e.g. "punch: zero-fill"), or "".
  virtual std::string Degraded() const = 0;

  // Block mapping (the filesystem's get_block step, docs/model.md §1). A
  // page's sectors map to physical blocks of one sector each; the cache
  // looks a page's mapping up once and keeps it in the folio
  // (the buffer_head analogue), then moves the page's data by that mapping.
  // Backends without a block map (file, memory) address pages directly: their
  // mapping only names the page, and the I/O goes to (file, page).
  static constexpr uint32_t kHole = UINT32_MAX;
  // Set in a mapped block allocated and not yet written through the mapping
  // (an unwritten extent): it reads as zeros through it.
  static constexpr uint32_t kUnwritten = 1u << 31;
  struct PageMap {
    uint32_t file = 0;
    uint32_t page = 0;
    uint32_t block[kSectorsPerPage] = {};  // physical block per sector, or kHole
  };
  // True for backends where a block freed by a punch can come back as
  // another file's (blockmap).
  virtual bool BlockMapped() const { return false; }
  // Looks up the blocks behind page `page` of `file`; with `create`, first
  // allocates a block for each hole among sectors [first, end) of the page
  // (the most recently freed block first). REQUIRES: the caller holds the
  // file's i_data_sem, exclusive when `create`.
  virtual void MapPage(uint32_t file, uint32_t page, bool create, uint32_t first, uint32_t end, PageMap& out);
  // Reads each mapped page into its words (holes read as zeros): one batch,
  // submitted together where the I/O engine can (io_uring).
  virtual Status ReadMapped(std::span<const PageMap* const> maps, std::span<uint64_t* const> words);
  // Writes the page's words to its blocks (holes are skipped).
  virtual Status WriteMapped(const PageMap& map, const uint64_t* words);
  // Blocks freed by `file`'s punches since its last commit become reusable
  // (the journal commit that lets ext4 reuse freed blocks). No-op without a
  // block map.
  virtual void CommitFreed(uint32_t /*file*/) {}
  // Bit per page of `file` whose backend content may have changed since the
  // reset by other means than the cache's own writes and punches to it
  // (blockmap: its block was written through another file's stale mapping,
  // or reassigned). The end-of-run check reads these too.
  virtual uint64_t ChangedPages(uint32_t /*file*/) const { return 0; }
};

// BackendKind and IoMode, the names of the backends and of how they move
// data, are in program.h: a program says which it runs on.
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

// Several model files on one real backing file (in a private directory made
// with mkdtemp) through per-file block maps of one-sector blocks. Freed
// blocks are reused last in, first out as soon as the punch that freed them
// commits, so a stale mapping reaches another file's data (FOREIGN) and a
// write through it corrupts another file. pread/pwrite or io_uring.
Result<std::unique_ptr<Backend>> CreateBlockmapBackend(const FileBackendOptions& options);

}  // namespace pagerace
