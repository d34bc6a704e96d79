// The page-cache model's own data and the primitives its paths share: the
// folio, the inode with its locks, xarray and page table, and the steps on
// them that another thread can observe (each passes a scheduling point
// first). Included only by the model's own files (docs/model.md lists them).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

#include "harness/backend/backend.h"
#include "harness/cache/page_cache.h"
#include "harness/sched/sched.h"
#include "harness/sched/trace.h"

namespace pagerace {

inline constexpr uint32_t kPageWords = kPageBytes / 8;
inline constexpr uint32_t kSectorWordsInPage = kSectorBytes / 8;

enum FolioFlag : uint32_t {
  kLocked = 1u << 0,
  kUptodate = 1u << 1,
  kDirty = 1u << 2,
  kWriteback = 1u << 3,
  kReadahead = 1u << 4,  // PG_readahead: hitting it starts async readahead
  kPunching = 1u << 5,   // a partial edge of a punch in progress: writeback waits (see Punch)
  // PAGECACHE_TAG_DIRTY, the xarray's mark that writeback's lockless walk
  // looks for: set with PG_dirty, and kept when folio_clear_dirty_for_io
  // clears PG_dirty, until folio_start_writeback (or the removal) drops it.
  // A sync writeback that finds it waits for the folio lock, and then sees
  // the writeback it must wait for: no window in which the folio looks
  // neither dirty nor under writeback.
  kDirtyTag = 1u << 6,
};

struct Folio {
  std::atomic<int32_t> refcount{0};
  std::atomic<int32_t> mapcount{0};      // PTEs mapping it (changed under the PTE lock)
  std::atomic<uint32_t> flags{0};
  std::atomic<Inode*> mapping{nullptr};  // null <=> removed from the cache
  uint32_t index = 0;                    // kept after removal, like the kernel's
  uint32_t file = 0;                     // likewise: the file it was added to
  // The blocks the filesystem mapped for the page (buffer heads): set under
  // the folio lock, used by writeback without a new lookup.
  bool blocks_valid = false;
  Backend::PageMap blocks;
  std::atomic<uint64_t> data[kPageWords];
};

// A PTE of the file's one shared mapping.
struct Pte {
  Folio* folio = nullptr;
  bool writable = false;
};

struct Inode {
  explicit Inode(uint32_t file)
      : id(file),
        i_rwsem("i_rwsem", file),
        invalidate_lock("invalidate_lock", file),
        i_data_sem("i_data_sem", file),
        xa_lock("xa_lock", file),
        ptl("ptl", file) {}
  uint32_t id;
  sched::RwSem i_rwsem;
  sched::RwSem invalidate_lock;
  sched::RwSem i_data_sem;  // the block map (ext4 i_data_sem, xfs ILOCK)
  sched::Mutex xa_lock;
  std::atomic<Folio*> pages[kFilePagesMax] = {};
  std::atomic<uint64_t> backend_written{0};  // bit per page the backend wrote or punched
  // i_size in sectors: written under i_rwsem (release), read locklessly
  // (acquire), as i_size_write/i_size_read since d8f899d13d72.
  std::atomic<uint32_t> i_size{0};
  // The file's shared mapping: its page table under the PTE lock. An access
  // through a PTE holds the lock for the copy, so a zap or write-protect
  // that returns has waited out every access through the old entry (the
  // TLB shootdown).
  sched::Mutex ptl;
  Pte ptes[kFilePagesMax];
};
static_assert(kFilePagesMax <= 64, "backend_written has a bit per page");

// Bounds on retry loops: reaching one is a livelock in the model.
inline constexpr uint32_t kRetriesMax = 1'000'000;

// A scheduling point before a transition that another thread can observe
// (sched.h): every access below to a folio's flags, references, mapping or
// data, and to the xarray's slots outside xa_lock, passes one first, so that
// the controlled scheduler reaches every interleaving of them that real
// threads can produce. Accesses under a lock the observers also take need
// none: the lock's acquire is the point.
inline void Observable() { sched::At(sched::Point::kState); }

inline bool TryGet(Folio* f) {
  Observable();
  int32_t r = f->refcount.load(std::memory_order_relaxed);
  while (r > 0)
    if (f->refcount.compare_exchange_weak(r, r + 1, std::memory_order_acquire)) return true;
  return false;
}

inline bool Has(Folio* f, uint32_t flag) {
  Observable();
  return (f->flags.load(std::memory_order_acquire) & flag) != 0;
}
inline void SetFlag(Folio* f, uint32_t flag) {
  Observable();
  f->flags.fetch_or(flag, std::memory_order_release);
}
inline void ClearFlag(Folio* f, uint32_t flag) {
  Observable();
  f->flags.fetch_and(~flag, std::memory_order_release);
}

// folio->mapping, re-checked after locking or waiting: null once truncated.
inline Inode* MappingOf(Folio* f) {
  Observable();
  return f->mapping.load(std::memory_order_acquire);
}

inline int32_t RefcountOf(Folio* f) {
  Observable();
  return f->refcount.load(std::memory_order_acquire);
}

inline int32_t MapcountOf(Folio* f) {
  Observable();
  return f->mapcount.load(std::memory_order_acquire);
}

inline bool TryLock(Folio* f) {
  Observable();
  return (f->flags.fetch_or(kLocked, std::memory_order_acquire) & kLocked) == 0;
}

// Page data moves word by word through relaxed atomics, so that
// ThreadSanitizer accepts the kernel's lockless copies between real threads.
// Under the controlled scheduler every logical thread runs on one OS thread
// and no copy can overlap another access, so a plain memcpy of the words
// (std::atomic<uint64_t> is a lock-free uint64_t) is exact and several times
// faster. These loops are the hottest code of a run and say nothing about the
// model, so the fuzzer's coverage skips them.
#if defined(__clang__)
#define PAGERACE_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define PAGERACE_NO_COVERAGE
#endif
static_assert(sizeof(std::atomic<uint64_t>) == sizeof(uint64_t) && std::atomic<uint64_t>::is_always_lock_free);

PAGERACE_NO_COVERAGE inline void CopyIn(std::atomic<uint64_t>* dst, const uint64_t* src, uint32_t words) {
  Observable();
  if (sched::Controlled()) {
    std::memcpy(static_cast<void*>(dst), src, size_t{words} * sizeof(uint64_t));
    return;
  }
  for (uint32_t w = 0; w < words; ++w) dst[w].store(src[w], std::memory_order_relaxed);
}

PAGERACE_NO_COVERAGE inline void CopyOut(uint64_t* dst, const std::atomic<uint64_t>* src, uint32_t words) {
  Observable();
  if (sched::Controlled()) {
    std::memcpy(dst, static_cast<const void*>(src), size_t{words} * sizeof(uint64_t));
    return;
  }
  for (uint32_t w = 0; w < words; ++w) dst[w] = src[w].load(std::memory_order_relaxed);
}

// The folio's words as plain memory, for the backend to fill or drain in
// place. Draining (writeback) does so only under the controlled scheduler
// (see above). Filling (->read_folio, readahead I/O) does so always: the
// folio is locked and not uptodate, so nobody else touches its data until it
// is marked uptodate (release) and unlocked, as the kernel's I/O owns a
// locked folio. Under real threads ThreadSanitizer then sees any fill that
// another access races with, which only a mutant allows (read-folio-unlocked:
// a fill without the folio lock, racing with a write's copy or another fill).
inline uint64_t* PlainWords(std::atomic<uint64_t>* data) { return reinterpret_cast<uint64_t*>(data); }

PAGERACE_NO_COVERAGE inline void Fill(std::atomic<uint64_t>* dst, uint64_t words, uint64_t value) {
  for (uint64_t w = 0; w < words; ++w) dst[w].store(value, std::memory_order_relaxed);
}

PAGERACE_NO_COVERAGE inline void Zero(std::atomic<uint64_t>* dst, uint64_t words) {
  Observable();
  Fill(dst, words, 0);
}

inline std::string PageName(uint32_t file, uint32_t index) {
  return "f" + std::to_string(file) + " p" + std::to_string(index);
}

// The xarray slot of page `index`, read locklessly (RCU).
inline Folio* Slot(Inode& ino, uint32_t index) {
  Observable();
  return ino.pages[index].load(std::memory_order_acquire);
}

// An insert into (or, null, a removal from) the xarray under xa_lock:
// lockless lookups see it at once, so the point comes right before the store.
inline void SetSlot(Inode& ino, uint32_t index, Folio* f) {
  Observable();
  ino.pages[index].store(f, std::memory_order_release);
}

// A PTE made writable or write-protected, under the PTE lock.
inline void SetPteWritable(Pte& pte, bool writable) {
  Observable();
  pte.writable = writable;
}

// Trace events (sched/trace.h): only formatted while a trace is recorded.
// A folio event carries the sector headers of `page` (kPageWords words) when
// given, so the trace can name the generations the page held.
template <typename Words>
inline void TracePage(sched::EventKind kind, const char* verb, uint32_t file, uint32_t index, const Words* page) {
  if (!sched::Tracing()) return;
  sched::Event& e = sched::Record(kind, std::string(verb) + " " + PageName(file, index));
  if (page == nullptr) return;
  for (uint32_t s = 0; s < kSectorsPerPage; ++s)
    for (uint32_t w = 0; w < 3; ++w) e.headers.push_back(page[s * kSectorWordsInPage + w]);
}

// Waits until none of `mask` is set in the folio's flags.
inline void WaitClear(Folio* f, uint32_t mask) {
  uint32_t v = f->flags.load(std::memory_order_acquire);
  if ((v & mask) == 0) return;
  std::string what;  // named only for the controlled scheduler, which reports waits
  if (sched::Controlled()) {
    const Inode* ino = f->mapping.load(std::memory_order_acquire);
    what = (ino == nullptr ? "p" + std::to_string(f->index) : PageName(ino->id, f->index)) +
           (mask & kWriteback ? " writeback" : mask & kPunching ? " punch" : " unlocked");
  }
  for (; v & mask; v = f->flags.load(std::memory_order_acquire)) sched::WaitWord(f->flags, v, what);
}

inline void Lock(Folio* f) {
  while (!TryLock(f)) WaitClear(f, kLocked);
}

inline void Unlock(Folio* f) {
  ClearFlag(f, kLocked);
  sched::WakeWord(f->flags);
}

// folio_start_writeback: PG_writeback set and the dirty tag dropped (moved to
// the writeback tag) in one atomic step, so that no thread, controlled or
// real, ever sees the tag gone before the writeback it stands for.
inline void MarkWriteback(Folio* f) {
  Observable();
  uint32_t v = f->flags.load(std::memory_order_relaxed);
  while (!f->flags.compare_exchange_weak(v, (v | kWriteback) & ~kDirtyTag, std::memory_order_release)) {
  }
}

inline void EndWriteback(Folio* f) {
  ClearFlag(f, kWriteback);
  sched::WakeWord(f->flags);
}

// Sector range [first, end) of the op clipped to page `index`, in words
// relative to the page and to the op's buffer.
struct Clip {
  uint32_t page_word;  // first word in the page
  uint32_t buf_word;   // first word in the op's buffer
  uint32_t words;
  bool whole_page;
};
inline Clip ClipToPage(uint32_t sector, uint32_t count, uint32_t index) {
  const uint32_t first = std::max(sector, index * kSectorsPerPage);
  const uint32_t end = std::min(sector + count, (index + 1) * kSectorsPerPage);
  return {(first - index * kSectorsPerPage) * kSectorWordsInPage, (first - sector) * kSectorWordsInPage,
          (end - first) * kSectorWordsInPage, end - first == kSectorsPerPage};
}

// Pages that hold some of a file of `size` sectors: DIV_ROUND_UP(i_size, PAGE_SIZE).
inline uint32_t PagesIn(uint32_t size) { return (size + kSectorsPerPage - 1) / kSectorsPerPage; }

// True if `map` (valid: looked up at all) has a block for each of sectors
// [first, end) of its page: buffer_mapped, so no get_block is needed.
inline bool Covers(bool valid, const Backend::PageMap& map, uint32_t first, uint32_t end) {
  for (uint32_t s = first; valid && s < end; ++s) valid = map.block[s] != Backend::kHole;
  return valid;
}

}  // namespace pagerace
