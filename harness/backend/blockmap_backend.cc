// The block-mapped backend (docs/model.md §1): several model
// files on one real backing file of one-sector physical blocks, through a
// block map per file and one allocator whose free list is last in, first out.
// A punch unmaps blocks onto its file's pending list; CommitFreed makes them
// the next ones allocated. A block allocated for a file is unwritten in its
// map (kUnwritten: it reads as zeros there, whatever the block holds, as an
// unwritten extent does) until a write through that mapping converts it. A mapping taken before the punch (kept by the
// cache in its folio) then reaches the block's next owner: reads show another
// file's data, and writes corrupt it.
//
// Locking: a file's block map is changed under the caller's i_data_sem (held
// around MapPage and Punch), and converted from unwritten by WriteMapped
// without it (a compare-and-swap of the entry it wrote); the free list, the pending lists and the
// allocation counts by alloc_mu_; the last writer of each block is an atomic
// (WriteMapped runs without i_data_sem). The backing file itself is the
// kernel's business.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "harness/backend/backend.h"
#include "harness/backend/io.h"
#include "harness/base/check.h"

namespace pagerace {
namespace {

constexpr size_t kPageWords = kPageBytes / sizeof(uint64_t);
constexpr size_t kSectorWords = kSectorBytes / sizeof(uint64_t);
// Every logical sector maps to at most one block, so this many never run out.
constexpr uint32_t kBlocksMax = kFilesMax * kFilePagesMax * kSectorsPerPage;
// A slot is the page-sized, page-aligned run of blocks [8k, 8k+8).
constexpr uint32_t kSlotsMax = kBlocksMax / kSectorsPerPage;

// What a slot holds when it holds zeros (ResetWith's bookkeeping).
constexpr uint64_t kZeroPage[kPageWords] = {};

class BlockmapBackend final : public Backend {
 public:
  BlockmapBackend(std::string dir, int fd, IoMode io, unsigned ring_entries)
      : dir_(std::move(dir)), fd_(fd), io_(io, ring_entries) {
    held_.fill(kZeroPage);  // the backing file is new: all zeros
  }

  ~BlockmapBackend() override {
    close(fd_);
    RemovePrivateDir(dir_);
  }

  static std::string PathOf(const std::string& dir) { return dir + "/blocks"; }

  Status Reset(uint32_t files, uint32_t file_pages) override {
    ResetMaps(files, file_pages);
    if (ftruncate(fd_, 0) != 0) return Status::FromErrno("ftruncate " + PathOf(dir_), errno);
    held_.fill(kZeroPage);
    return Status::Ok();
  }

  // Reset, then the initial pages, allocated in order from the fresh free
  // list: the k-th initial page gets slot k, the same slot on every run with
  // the same layout. Only slots that do not hold what they should are
  // written: initial pages that a run overwrote or that moved, and zeros
  // where a run wrote outside them.
  Status ResetWith(uint32_t files, uint32_t file_pages, std::span<const Initial> initial) override {
    ResetMaps(files, file_pages);
    std::array<const uint64_t*, kSlotsMax> want;
    want.fill(kZeroPage);
    for (uint32_t file = 0; file < initial.size() && file < files; ++file) {
      const Initial& in = initial[file];
      for (uint32_t page = in.first; page < in.end; ++page) {
        PageMap map;
        MapPage(file, page, true, 0, kSectorsPerPage, map);
        Convert(map);  // written below
        const uint32_t first = map.block[0] & ~kUnwritten;
        const uint32_t slot = first / kSectorsPerPage;
        PR_CHECK(first % kSectorsPerPage == 0 &&
                 (map.block[kSectorsPerPage - 1] & ~kUnwritten) == first + kSectorsPerPage - 1);
        want[slot] = in.words + size_t{page} * kPageWords;
      }
    }
    std::vector<IoSegment> segments;
    const uint32_t slots = block_count_ / kSectorsPerPage;
    for (uint32_t slot = 0; slot < slots; ++slot) {
      if (held_[slot] == want[slot]) continue;
      auto* p = const_cast<char*>(reinterpret_cast<const char*>(want[slot]));  // only read from
      const off_t offset = off_t{slot} * kPageBytes;
      IoSegment* last = segments.empty() ? nullptr : &segments.back();
      if (last != nullptr && want[slot] != kZeroPage && last->p != reinterpret_cast<const char*>(kZeroPage) &&
          last->p + last->bytes == p && last->offset + static_cast<off_t>(last->bytes) == offset) {
        last->bytes += kPageBytes;
      } else {
        segments.push_back({fd_, p, kPageBytes, offset});
      }
      held_[slot] = nullptr;  // unknown until written
    }
    PR_RETURN_IF_ERROR(io_.Write(segments));
    std::copy_n(want.begin(), slots, held_.begin());
    return Status::Ok();
  }

  Status ReadPages(uint32_t file, uint32_t index, uint32_t pages, uint64_t* words) override {
    PR_CHECK(file < file_count_ && index + pages <= file_pages_);
    std::vector<IoSegment> segments(size_t{pages} * kSectorsPerPage);
    size_t n = 0;
    for (uint32_t p = 0; p < pages; ++p) {
      PageMap map;
      Copy(file, index + p, map);
      n += Runs(map.block, words + size_t{p} * kPageWords, true, segments.data() + n);
    }
    return io_.Read({segments.data(), n});
  }

  Status WritePages(uint32_t file, uint32_t index, uint32_t pages, const uint64_t* words) override {
    std::vector<IoSegment> segments(size_t{pages} * kSectorsPerPage);
    std::vector<PageMap> maps(pages);
    size_t n = 0;
    for (uint32_t p = 0; p < pages; ++p) {
      MapPage(file, index + p, true, 0, kSectorsPerPage, maps[p]);
      n += WriteRuns(maps[p], words + size_t{p} * kPageWords, segments.data() + n);
    }
    Status st = io_.Write({segments.data(), n});
    if (st.ok())
      for (const PageMap& map : maps) Convert(map);
    return st;
  }

  Status Punch(uint32_t file, uint64_t offset_bytes, uint64_t length_bytes) override {
    PR_CHECK(file < file_count_ && offset_bytes % kSectorBytes == 0 && length_bytes % kSectorBytes == 0);
    File& f = files_[file];
    const uint64_t end = std::min<uint64_t>((offset_bytes + length_bytes) / kSectorBytes,
                                            uint64_t{file_pages_} * kSectorsPerPage);
    std::lock_guard lock(alloc_mu_);
    for (uint64_t s = offset_bytes / kSectorBytes; s < end; ++s) {
      const uint32_t e = f.map[s].load(std::memory_order_acquire);
      if (e == kHole) continue;
      f.pending.push_back(e & ~kUnwritten);
      f.map[s].store(kHole, std::memory_order_release);
    }
    return Status::Ok();
  }

  // The extents move: entries (unwritten ones stay unwritten) shift within
  // the map, and the blocks the collapse range (or, for an insert, the
  // pages pushed past the end) held are freed as a punch frees them.
  Status Shift(uint32_t file, uint32_t page, uint32_t pages, uint32_t file_pages, bool insert) override {
    PR_CHECK(file < file_count_ && file_pages == file_pages_ && page + pages <= file_pages_);
    File& f = files_[file];
    const uint32_t first = page * kSectorsPerPage, n = pages * kSectorsPerPage, end = file_pages_ * kSectorsPerPage;
    std::lock_guard lock(alloc_mu_);
    auto free_at = [&f](uint32_t s) {
      const uint32_t e = f.map[s].load(std::memory_order_acquire);
      if (e != kHole) f.pending.push_back(e & ~kUnwritten);
      f.map[s].store(kHole, std::memory_order_release);
    };
    auto move = [&f](uint32_t to, uint32_t from) {
      f.map[to].store(f.map[from].load(std::memory_order_acquire), std::memory_order_release);
    };
    if (!insert) {
      for (uint32_t s = first; s < first + n; ++s) free_at(s);
      for (uint32_t s = first; s + n < end; ++s) move(s, s + n);
      for (uint32_t s = end - n; s < end; ++s) f.map[s].store(kHole, std::memory_order_release);
    } else {
      for (uint32_t s = end - n; s < end; ++s) free_at(s);
      for (uint32_t s = end; s-- > first + n;) move(s, s - n);
      for (uint32_t s = first; s < first + n; ++s) f.map[s].store(kHole, std::memory_order_release);
    }
    return Status::Ok();
  }

  Status Advise(uint32_t, uint64_t, uint64_t, int) override { return Status::Ok(); }

  std::string Degraded() const override { return io_.degraded(); }

  bool BlockMapped() const override { return true; }

  void MapPage(uint32_t file, uint32_t page, bool create, uint32_t first, uint32_t end, PageMap& out) override {
    PR_CHECK(file < file_count_ && page < file_pages_ && first <= end && end <= kSectorsPerPage);
    std::atomic<uint32_t>* map = MapOf(file, page);
    if (create) {
      std::lock_guard lock(alloc_mu_);
      for (uint32_t s = first; s < end; ++s)
        if (map[s].load(std::memory_order_acquire) == kHole)
          map[s].store(Allocate() | kUnwritten, std::memory_order_release);
    }
    Copy(file, page, out);
  }

  Status ReadMapped(std::span<const PageMap* const> maps, std::span<uint64_t* const> words) override {
    PR_CHECK(maps.size() == words.size());
    std::vector<IoSegment> segments(maps.size() * kSectorsPerPage);
    size_t n = 0;
    for (size_t i = 0; i < maps.size(); ++i) n += Runs(maps[i]->block, words[i], true, segments.data() + n);
    return io_.Read({segments.data(), n});
  }

  Status WriteMapped(const PageMap& map, const uint64_t* words) override {
    IoSegment segments[kSectorsPerPage];
    const size_t n = WriteRuns(map, words, segments);
    Status st = io_.Write({segments, n});
    if (st.ok()) Convert(map);
    return st;
  }

  void CommitFreed(uint32_t file) override {
    PR_CHECK(file < file_count_);
    std::lock_guard lock(alloc_mu_);
    std::vector<uint32_t>& pending = files_[file].pending;
    free_.insert(free_.end(), pending.begin(), pending.end());  // the last freed comes out first
    pending.clear();
    PR_CHECK(free_.size() <= block_count_);
  }

  // REQUIRES: no MapPage or Punch of `file` runs (the end of the run).
  uint64_t ChangedPages(uint32_t file) const override {
    PR_CHECK(file < file_count_);
    std::lock_guard lock(alloc_mu_);
    uint64_t changed = 0;
    for (uint32_t page = 0; page < file_pages_; ++page) {
      const uint32_t owner = WriterOf(file, page);
      PageMap map;
      Copy(file, page, map);
      for (uint32_t s = 0; s < kSectorsPerPage; ++s) {
        if (map.block[s] == kHole) continue;
        const Block& b = blocks_[map.block[s] & ~kUnwritten];
        const uint32_t writer = b.writer.load(std::memory_order_relaxed);
        if (b.allocations > 1 || (writer != 0 && writer != owner)) changed |= uint64_t{1} << page;
      }
    }
    return changed;
  }

 private:
  struct File {
    // By logical sector: block (| kUnwritten) or kHole.
    std::array<std::atomic<uint32_t>, size_t{kFilePagesMax} * kSectorsPerPage> map;
    std::vector<uint32_t> pending;  // freed since the last commit, in order; guarded by alloc_mu_
  };
  struct Block {
    std::atomic<uint32_t> writer{0};  // WriterOf the last write since the reset; 0: none
    uint8_t allocations = 0;          // since the reset, counted up to 2; guarded by alloc_mu_
  };

  static uint32_t WriterOf(uint32_t file, uint32_t page) { return 1 + file * kFilePagesMax + page; }

  std::atomic<uint32_t>* MapOf(uint32_t file, uint32_t page) {
    return files_[file].map.data() + size_t{page} * kSectorsPerPage;
  }

  void Copy(uint32_t file, uint32_t page, PageMap& out) const {
    const std::atomic<uint32_t>* map = files_[file].map.data() + size_t{page} * kSectorsPerPage;
    out.file = file;
    out.page = page;
    for (uint32_t s = 0; s < kSectorsPerPage; ++s) out.block[s] = map[s].load(std::memory_order_acquire);
  }

  // The write through `map` converted its unwritten blocks: where the file
  // still maps them (a punch may have unmapped them since), they are written.
  void Convert(const PageMap& map) {
    std::atomic<uint32_t>* entries = MapOf(map.file, map.page);
    for (uint32_t s = 0; s < kSectorsPerPage; ++s) {
      uint32_t e = map.block[s];
      if (e != kHole && (e & kUnwritten) != 0)
        entries[s].compare_exchange_strong(e, e & ~kUnwritten, std::memory_order_acq_rel);
    }
  }

  // All holes, every block free (the lowest handed out first), nothing
  // pending. A slot the last run wrote no longer holds what ResetWith knew.
  void ResetMaps(uint32_t files, uint32_t file_pages) {
    PR_CHECK(files <= kFilesMax && file_pages <= kFilePagesMax);
    for (uint32_t b = 0; b < block_count_; ++b) {
      if (blocks_[b].writer.load(std::memory_order_relaxed) != 0) held_[b / kSectorsPerPage] = nullptr;
      blocks_[b].writer.store(0, std::memory_order_relaxed);
      blocks_[b].allocations = 0;
    }
    file_count_ = files;
    file_pages_ = file_pages;
    block_count_ = files * file_pages * kSectorsPerPage;
    for (File& f : files_) {
      for (std::atomic<uint32_t>& e : f.map) e.store(kHole, std::memory_order_relaxed);
      f.pending.clear();
    }
    free_.resize(block_count_);
    for (uint32_t i = 0; i < block_count_; ++i) free_[i] = block_count_ - 1 - i;
  }

  // REQUIRES: alloc_mu_ held.
  uint32_t Allocate() {
    PR_CHECK_MSG(!free_.empty(), "blockmap: out of blocks");
    const uint32_t b = free_.back();
    free_.pop_back();
    Block& state = blocks_[b];
    if (state.allocations < 2) ++state.allocations;
    return b;
  }

  // The transfers of a page's sectors into `out` (room for kSectorsPerPage):
  // one per run of consecutive blocks. A read zeroes the holes and the
  // unwritten blocks; a write skips the holes. Returns how many.
  size_t Runs(const uint32_t* blocks, const uint64_t* words, bool read, IoSegment* out) const {
    size_t n = 0;
    auto skipped = [&](uint32_t e) { return e == kHole || (read && (e & kUnwritten) != 0); };
    for (uint32_t s = 0; s < kSectorsPerPage;) {
      auto* p = const_cast<char*>(reinterpret_cast<const char*>(words + s * kSectorWords));  // written by reads only
      if (skipped(blocks[s])) {
        if (read) std::memset(p, 0, kSectorBytes);
        ++s;
        continue;
      }
      const uint32_t b = blocks[s] & ~kUnwritten;
      PR_CHECK(b < block_count_);
      uint32_t e = s + 1;
      while (e < kSectorsPerPage && !skipped(blocks[e]) && (blocks[e] & ~kUnwritten) == b + (e - s)) ++e;
      out[n++] = {fd_, p, size_t{e - s} * kSectorBytes, off_t{b} * kSectorBytes};
      s = e;
    }
    return n;
  }

  // Runs of a write, recording (file, page) as the blocks' last writer.
  size_t WriteRuns(const PageMap& map, const uint64_t* words, IoSegment* out) {
    const uint32_t writer = WriterOf(map.file, map.page);
    for (uint32_t e : map.block) {
      const uint32_t b = e & ~kUnwritten;
      if (e != kHole && b < block_count_) blocks_[b].writer.store(writer, std::memory_order_relaxed);
    }
    return Runs(map.block, words, false, out);
  }

  const std::string dir_;
  const int fd_;
  IoEngine io_;
  uint32_t file_count_ = 0, file_pages_ = 0, block_count_ = 0;  // set by Reset only
  std::array<File, kFilesMax> files_;
  std::array<Block, kBlocksMax> blocks_;
  mutable std::mutex alloc_mu_;
  std::vector<uint32_t> free_;  // a stack: back() is allocated next; guarded by alloc_mu_
  // By slot: the page of words the backing file holds there, unchanged since
  // written by ResetWith (kZeroPage: zeros), or null: unknown. Valid for the
  // slots whose blocks have no writer since the reset.
  std::array<const uint64_t*, kSlotsMax> held_;
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateBlockmapBackend(const FileBackendOptions& options) {
  Result<std::string> dir = MakePrivateDir(options.parent_dir);
  if (!dir.ok()) return dir.status();
  Result<int> fd = CreateExclusive(BlockmapBackend::PathOf(*dir));
  if (!fd.ok()) {
    RemovePrivateDir(*dir);
    return fd.status();
  }
  return std::unique_ptr<Backend>(new BlockmapBackend(*dir, *fd, options.io, options.ring_entries));
}

}  // namespace pagerace
