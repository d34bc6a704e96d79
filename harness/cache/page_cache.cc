#include "harness/cache/page_cache.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "harness/base/check.h"
#include "harness/oracle/tag.h"
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

namespace {

// Bounds on retry loops: reaching one is a livelock in the model.
constexpr uint32_t kRetriesMax = 1'000'000;

// A scheduling point before a transition that another thread can observe
// (sched.h): every access below to a folio's flags, references, mapping or
// data, and to the xarray's slots outside xa_lock, passes one first, so that
// the controlled scheduler reaches every interleaving of them that real
// threads can produce. Accesses under a lock the observers also take need
// none: the lock's acquire is the point.
void Observable() { sched::At(sched::Point::kState); }

bool TryGet(Folio* f) {
  Observable();
  int32_t r = f->refcount.load(std::memory_order_relaxed);
  while (r > 0)
    if (f->refcount.compare_exchange_weak(r, r + 1, std::memory_order_acquire)) return true;
  return false;
}

bool Has(Folio* f, uint32_t flag) {
  Observable();
  return (f->flags.load(std::memory_order_acquire) & flag) != 0;
}
void SetFlag(Folio* f, uint32_t flag) {
  Observable();
  f->flags.fetch_or(flag, std::memory_order_release);
}
void ClearFlag(Folio* f, uint32_t flag) {
  Observable();
  f->flags.fetch_and(~flag, std::memory_order_release);
}

// folio->mapping, re-checked after locking or waiting: null once truncated.
Inode* MappingOf(Folio* f) {
  Observable();
  return f->mapping.load(std::memory_order_acquire);
}

int32_t RefcountOf(Folio* f) {
  Observable();
  return f->refcount.load(std::memory_order_acquire);
}

int32_t MapcountOf(Folio* f) {
  Observable();
  return f->mapcount.load(std::memory_order_acquire);
}

bool TryLock(Folio* f) {
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

PAGERACE_NO_COVERAGE void CopyIn(std::atomic<uint64_t>* dst, const uint64_t* src, uint32_t words) {
  Observable();
  if (sched::Controlled()) {
    std::memcpy(static_cast<void*>(dst), src, size_t{words} * sizeof(uint64_t));
    return;
  }
  for (uint32_t w = 0; w < words; ++w) dst[w].store(src[w], std::memory_order_relaxed);
}

PAGERACE_NO_COVERAGE void CopyOut(uint64_t* dst, const std::atomic<uint64_t>* src, uint32_t words) {
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
uint64_t* PlainWords(std::atomic<uint64_t>* data) { return reinterpret_cast<uint64_t*>(data); }

PAGERACE_NO_COVERAGE void Fill(std::atomic<uint64_t>* dst, uint64_t words, uint64_t value) {
  for (uint64_t w = 0; w < words; ++w) dst[w].store(value, std::memory_order_relaxed);
}

PAGERACE_NO_COVERAGE void Zero(std::atomic<uint64_t>* dst, uint64_t words) {
  Observable();
  Fill(dst, words, 0);
}

std::string PageName(uint32_t file, uint32_t index) {
  return "f" + std::to_string(file) + " p" + std::to_string(index);
}

// The xarray slot of page `index`, read locklessly (RCU).
Folio* Slot(Inode& ino, uint32_t index) {
  Observable();
  return ino.pages[index].load(std::memory_order_acquire);
}

// An insert into (or, null, a removal from) the xarray under xa_lock:
// lockless lookups see it at once, so the point comes right before the store.
void SetSlot(Inode& ino, uint32_t index, Folio* f) {
  Observable();
  ino.pages[index].store(f, std::memory_order_release);
}

// A PTE made writable or write-protected, under the PTE lock.
void SetPteWritable(Pte& pte, bool writable) {
  Observable();
  pte.writable = writable;
}

// Trace events (sched/trace.h): only formatted while a trace is recorded.
// A folio event carries the sector headers of `page` (kPageWords words) when
// given, so the trace can name the generations the page held.
template <typename Words>
void TracePage(sched::EventKind kind, const char* verb, uint32_t file, uint32_t index, const Words* page) {
  if (!sched::Tracing()) return;
  sched::Event& e = sched::Record(kind, std::string(verb) + " " + PageName(file, index));
  if (page == nullptr) return;
  for (uint32_t s = 0; s < kSectorsPerPage; ++s)
    for (uint32_t w = 0; w < 3; ++w) e.headers.push_back(page[s * kSectorWordsInPage + w]);
}

// Waits until none of `mask` is set in the folio's flags.
void WaitClear(Folio* f, uint32_t mask) {
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

void Lock(Folio* f) {
  while (!TryLock(f)) WaitClear(f, kLocked);
}

void Unlock(Folio* f) {
  ClearFlag(f, kLocked);
  sched::WakeWord(f->flags);
}

// folio_start_writeback: PG_writeback set and the dirty tag dropped (moved to
// the writeback tag) in one atomic step, so that no thread, controlled or
// real, ever sees the tag gone before the writeback it stands for.
void MarkWriteback(Folio* f) {
  Observable();
  uint32_t v = f->flags.load(std::memory_order_relaxed);
  while (!f->flags.compare_exchange_weak(v, (v | kWriteback) & ~kDirtyTag, std::memory_order_release)) {
  }
}

void EndWriteback(Folio* f) {
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
Clip ClipToPage(uint32_t sector, uint32_t count, uint32_t index) {
  const uint32_t first = std::max(sector, index * kSectorsPerPage);
  const uint32_t end = std::min(sector + count, (index + 1) * kSectorsPerPage);
  return {(first - index * kSectorsPerPage) * kSectorWordsInPage, (first - sector) * kSectorWordsInPage,
          (end - first) * kSectorWordsInPage, end - first == kSectorsPerPage};
}

// Pages that hold some of a file of `size` sectors: DIV_ROUND_UP(i_size, PAGE_SIZE).
uint32_t PagesIn(uint32_t size) { return (size + kSectorsPerPage - 1) / kSectorsPerPage; }

// True if `map` (valid: looked up at all) has a block for each of sectors
// [first, end) of its page: buffer_mapped, so no get_block is needed.
bool Covers(bool valid, const Backend::PageMap& map, uint32_t first, uint32_t end) {
  for (uint32_t s = first; valid && s < end; ++s) valid = map.block[s] != Backend::kHole;
  return valid;
}

}  // namespace

PageCache::PageCache(Backend& backend) : backend_(backend) {}
PageCache::~PageCache() = default;

void PageCache::Reset(const CacheConfig& config) {
  config_ = config;
  // Fresh inodes: a controlled run abandoned at a deadlock leaves locks held.
  inodes_.clear();
  while (inodes_.size() < config.files) {
    inodes_.push_back(std::make_unique<Inode>(static_cast<uint32_t>(inodes_.size())));
    inodes_.back()->i_size.store(config.file_pages * kSectorsPerPage, std::memory_order_relaxed);
  }
  free_.clear();
  for (auto& f : folios_) free_.push_back(f.get());
  dirty_seq_.store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(assert_mu_);
  assertion_ = {};
}

bool PageCache::TakesInvalidateLock(Site site) const {
  switch (config_.mutant) {
    case Mutant::kNoInvalidateLockRead: return site != Site::kCreate;
    case Mutant::kNoInvalidateLockUpdate: return site != Site::kUpdate;
    case Mutant::kNoInvalidateLockReadahead:
      return site != Site::kReadahead && site != Site::kForcedReadahead;
    case Mutant::kNoInvalidateLockFault: return site != Site::kFault;
    case Mutant::kNoInvalidateLockMkwrite: return site != Site::kMkwrite;
    case Mutant::kFadviseBypass: return site != Site::kForcedReadahead;
    case Mutant::kPunchWithoutInvalidateLock: return site != Site::kPunch;
    case Mutant::kDoubleTruncate: return site == Site::kPunch;  // before invalidate_lock existed
    default: return true;
  }
}

// A kernel BUG_ON/WARN_ON about page `index` of `ino`: the first failure is
// kept, with the page and the time, and the model carries on.
void PageCache::ModelCheck(bool ok, const Inode& ino, uint32_t index, const char* what) {
  ModelCheck(ok, ino.id, index, what);
}

void PageCache::ModelCheck(bool ok, uint32_t file, uint32_t index, const char* what) {
  if (ok) return;
  sched::Note(sched::EventKind::kNote, [&] { return std::string("ASSERT ") + what + " (" + PageName(file, index) + ")"; });
  std::lock_guard<std::mutex> lock(assert_mu_);
  if (!assertion_.what.empty()) return;
  assertion_ = {what, file, index, config_.clock != nullptr ? config_.clock->load(std::memory_order_acquire) : 0};
}

PageCache::Assertion PageCache::assertion() const {
  std::lock_guard<std::mutex> lock(assert_mu_);
  return assertion_;
}

// i_size_read. A scheduling point only where the size can change.
uint32_t PageCache::SizeOf(const Inode& ino) const {
  if (config_.resizes) Observable();
  return ino.i_size.load(std::memory_order_acquire);
}

// i_size_write, under i_rwsem.
void PageCache::SetSize(Inode& ino, uint32_t size) {
  Observable();
  ino.i_size.store(size, std::memory_order_release);
  sched::Note(sched::EventKind::kFolio, [&] { return "size f" + std::to_string(ino.id) + " s" + std::to_string(size); });
}

uint32_t PageCache::Size(uint32_t file) const { return inodes_[file]->i_size.load(std::memory_order_acquire); }

Folio* PageCache::Alloc() {
  Folio* f;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (free_.empty()) {
      folios_.push_back(std::make_unique<Folio>());
      free_.push_back(folios_.back().get());
    }
    f = free_.back();
    free_.pop_back();
  }
  f->refcount.store(1, std::memory_order_relaxed);
  f->mapcount.store(0, std::memory_order_relaxed);
  f->flags.store(0, std::memory_order_relaxed);
  f->mapping.store(nullptr, std::memory_order_relaxed);
  f->blocks_valid = false;
  return f;
}

// folio_get: a reference to a folio the caller reached through a reference
// of its own or under a lock that pins one (a PTE under the PTL).
void PageCache::Get(Folio* f) {
  Observable();
  const int32_t before = f->refcount.fetch_add(1, std::memory_order_relaxed);
  ModelCheck(before > 0, f->file, f->index, "folio_get on a freed folio");
}

// folio_put. The last reference frees the folio, with the checks of the
// page allocator (free_pages_check: "bad page state") and its memory
// poisoned (PAGE_POISONING), so that whatever still reads it through a
// dropped reference sees bytes no write made. It goes back to the free list
// at once, as a page goes back to the page allocator: the next Alloc may
// hand it out for another page or file while a lockless lookup still holds
// its address (which is why filemap_get_entry re-checks the slot after its
// try-get). The list is last in, first out, so a controlled run reuses the
// same folios in the same order every time.
void PageCache::Put(Folio* f) {
  Observable();
  const int32_t before = f->refcount.fetch_sub(1, std::memory_order_acq_rel);
  PR_CHECK_MSG(before > 0, "folio refcount underflow");
  if (before != 1) return;
  const uint32_t flags = f->flags.load(std::memory_order_acquire);
  ModelCheck(!(flags & kLocked), f->file, f->index, "bad page state: freeing a locked folio");
  ModelCheck(!(flags & kWriteback), f->file, f->index, "bad page state: freeing a folio under writeback");
  ModelCheck(f->mapcount.load(std::memory_order_acquire) == 0, f->file, f->index,
             "bad page state: freeing a mapped folio");
  ModelCheck(f->mapping.load(std::memory_order_acquire) == nullptr, f->file, f->index,
             "bad page state: freeing a folio still in the page cache");
  Fill(f->data, kPageWords, kFreedPoison);
  std::lock_guard<std::mutex> lock(pool_mu_);
  free_.push_back(f);
}

// filemap_get_entry: lockless lookup + try_get + reload re-check.
Folio* PageCache::Lookup(Inode& ino, uint32_t index) {
  for (uint32_t i = 0; i < kRetriesMax; ++i) {
    Folio* f = Slot(ino, index);
    if (f == nullptr) return nullptr;
    if (!TryGet(f)) continue;
    if (f == Slot(ino, index)) return f;
    Put(f);
  }
  CheckFailed(__FILE__, __LINE__, "Lookup", "livelock in a lockless page-cache lookup");
}

// __filemap_get_folio(FGP_LOCK): the folio locked and still in the mapping.
Folio* PageCache::LookupLocked(Inode& ino, uint32_t index) {
  for (uint32_t i = 0; i < kRetriesMax; ++i) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr) return nullptr;
    Lock(f);
    if (MappingOf(f) == &ino) return f;
    Unlock(f);
    Put(f);
  }
  CheckFailed(__FILE__, __LINE__, "LookupLocked", "livelock in a locked page-cache lookup");
}

// __filemap_get_folio(FGP_CREAT | FGP_FOR_MMAP): a referenced folio, created
// (and left unlocked, !uptodate) when missing.
Folio* PageCache::GetOrCreate(Inode& ino, uint32_t index) {
  for (uint32_t i = 0; i < kRetriesMax; ++i) {
    if (Folio* f = Lookup(ino, index)) return f;
    Folio* f = Alloc();
    if (AddToPageCache(ino, f, index)) {
      Unlock(f);
      return f;
    }
  }
  CheckFailed(__FILE__, __LINE__, "GetOrCreate", "livelock in filemap_get_folio(FGP_CREAT)");
}

// filemap_add_folio: the folio (the caller's, from Alloc) enters the cache
// locked and !uptodate, with a reference added for the cache. False: the
// slot is taken, and the folio is freed.
bool PageCache::AddToPageCache(Inode& ino, Folio* f, uint32_t index) {
  // New memory holds the unfilled pattern of this page (tag.h), never what
  // the folio held before it was recycled: a bug that exposes it shows the
  // same bytes in every run of the program.
  for (uint32_t s = 0; s < kSectorsPerPage; ++s)
    FillUninit(ino.id, index * kSectorsPerPage + s, PlainWords(f->data) + s * kSectorWordsInPage);
  f->flags.store(kLocked, std::memory_order_relaxed);
  f->index = index;
  f->file = ino.id;
  f->mapping.store(&ino, std::memory_order_relaxed);
  // Added, not stored: a lookup that still held this folio's address from
  // its last life may hold a speculative reference (it drops it when its
  // slot re-check fails).
  f->refcount.fetch_add(1, std::memory_order_relaxed);
  ino.xa_lock.Lock();
  const bool free_slot = ino.pages[index].load(std::memory_order_relaxed) == nullptr;
  if (free_slot) SetSlot(ino, index, f);
  ino.xa_lock.Unlock();
  if (free_slot) TracePage<uint64_t>(sched::EventKind::kFolio, "insert", ino.id, index, nullptr);
  if (!free_slot) {
    // Never published: unlocked, out of the mapping, both references dropped.
    f->mapping.store(nullptr, std::memory_order_relaxed);
    f->flags.store(0, std::memory_order_relaxed);
    f->refcount.fetch_sub(1, std::memory_order_relaxed);
    Put(f);
  }
  return free_slot;
}

// filemap_remove_folio with the kernel's checks.
void PageCache::RemoveFolio(Inode& ino, Folio* f) {
  const uint32_t flags = f->flags.load(std::memory_order_acquire);
  ModelCheck(flags & kLocked, ino, f->index, "filemap_remove_folio: folio not locked");
  ModelCheck(!(flags & kDirty), ino, f->index, "filemap_remove_folio: loss of unwritten data (dirty folio)");
  ModelCheck(MapcountOf(f) == 0, ino, f->index,
             "filemap_unaccount_folio: page still mapped when deleted");
  ino.xa_lock.Lock();
  PR_CHECK_MSG(ino.pages[f->index].load(std::memory_order_relaxed) == f, "removing a folio not in its slot");
  SetSlot(ino, f->index, nullptr);
  f->mapping.store(nullptr, std::memory_order_release);
  ino.xa_lock.Unlock();
  TracePage<uint64_t>(sched::EventKind::kFolio, "remove", ino.id, f->index, nullptr);
  Put(f);  // the cache's reference
}

// truncate_inode_folio: truncate_cleanup_folio (unmap a folio mapped again
// since the range was unmapped, drop the block mapping, cancel dirty, drop
// the readahead mark), then remove. REQUIRES: f locked.
void PageCache::TruncateFolio(Inode& ino, Folio* f) {
  if (MappingOf(f) != &ino) return;
  if (MapcountOf(f) > 0) UnmapFolio(ino, f);
  f->blocks_valid = false;
  ClearFlag(f, kDirty | kDirtyTag | kReadahead);
  RemoveFolio(ino, f);
}

// The filesystem's get_block for the folio's page, under i_data_sem: look the
// blocks up (create: allocate the holes among sectors [first, end) of the
// page first) and keep them in the folio. REQUIRES: f locked.
void PageCache::MapBlocks(Inode& ino, Folio* f, bool create, uint32_t first, uint32_t end) {
  if (create) {
    ino.i_data_sem.Lock();
  } else {
    ino.i_data_sem.LockShared();
  }
  Observable();  // the block map (blockmap: a store-wide free list)
  backend_.MapPage(ino.id, f->index, create, first, end, f->blocks);
  f->blocks_valid = true;
  if (create) {
    ino.i_data_sem.Unlock();
  } else {
    ino.i_data_sem.UnlockShared();
  }
}

// write_begin's and page_mkwrite's get_block: allocate the blocks of sectors
// [first, end) of the folio's page unless the folio already has them (a
// block-mapped backend only: the others need no allocation). REQUIRES: f
// locked.
void PageCache::EnsureBlocks(Inode& ino, Folio* f, uint32_t first, uint32_t end) {
  if (backend_.BlockMapped() && !Covers(f->blocks_valid, f->blocks, first, end))
    MapBlocks(ino, f, /*create=*/true, first, end);
}

// ->read_folio, done synchronously: map the blocks, read them, mark
// uptodate, unlock (unless keep_locked, as write_begin reads a partial page).
Status PageCache::ReadFolio(Inode& ino, Folio* f, bool keep_locked) {
  const uint32_t flags = f->flags.load(std::memory_order_acquire);
  ModelCheck(flags & kLocked, ino, f->index, "->read_folio on an unlocked folio");
  ModelCheck(!(flags & kUptodate), ino, f->index, "->read_folio on an uptodate folio");
  MapBlocks(ino, f, /*create=*/false, 0, 0);
  sched::At(sched::Point::kReadFolioBeforeIo);
  uint64_t* words = PlainWords(f->data);
  const Backend::PageMap* map = &f->blocks;
  Status st = backend_.ReadMapped({&map, 1}, {&words, 1});
  TracePage<uint64_t>(sched::EventKind::kIo, "backend read", ino.id, f->index, nullptr);
  if (st.ok()) {
    SetFlag(f, kUptodate);
    TracePage(sched::EventKind::kFolio, "uptodate", ino.id, f->index, words);
  }
  if (!keep_locked) Unlock(f);
  return st;
}

// filemap_read, a page at a time: stop at the end of the file, checked
// before the lookup and again once the folio is uptodate ("i_size must be
// checked after we know the pages are Uptodate"), so that a read racing a
// truncate never returns what lies past the size it saw.
Status PageCache::Read(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words, uint32_t* done) {
  Inode& ino = *inodes_[file];
  const uint32_t end = sector + count;
  const uint32_t last = (end - 1) / kSectorsPerPage;
  uint32_t pos = sector;
  for (uint32_t index = sector / kSectorsPerPage; index <= last; ++index) {
    if (pos >= SizeOf(ino)) break;
    Result<Folio*> folio = GetReadFolio(ino, index, last - index + 1);
    if (!folio.ok()) return folio.status();
    Folio* f = *folio;
    const uint32_t page_end = std::min(end, (index + 1) * kSectorsPerPage);
    const uint32_t stop = std::min(page_end, SizeOf(ino));
    if (stop > pos) {
      const Clip c = ClipToPage(sector, stop - sector, index);
      CopyOut(words + c.buf_word, f->data + c.page_word, c.words);
      pos = stop;
    }
    Put(f);
    if (pos < page_end) break;
  }
  if (done != nullptr) *done = pos - sector;
  return Status::Ok();
}

// filemap_get_pages for one page: an uptodate folio with a reference.
Result<Folio*> PageCache::GetReadFolio(Inode& ino, uint32_t index, uint32_t req_pages) {
  for (uint32_t attempt = 0; attempt < kRetriesMax; ++attempt) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr && config_.ra_pages > 0) {
      // page_cache_sync_ra: a window of at least the request.
      const uint32_t nr = std::min(std::max(req_pages, config_.ra_pages), kRaPagesMax);
      PR_RETURN_IF_ERROR(ReadaheadRange(ino, index, nr, nr / 2, Site::kReadahead));
      f = Lookup(ino, index);
    }
    if (f == nullptr) {
      Result<Folio*> created = CreateFolio(ino, index);
      if (!created.ok() || *created != nullptr) return created;
      continue;  // AOP_TRUNCATED_PAGE / -EEXIST: retry
    }
    if (Has(f, kReadahead)) {
      // page_cache_async_ra on a PG_readahead hit: the next window.
      ClearFlag(f, kReadahead);
      PR_RETURN_IF_ERROR(
          ReadaheadRange(ino, index + 1, config_.ra_pages, config_.ra_pages / 2, Site::kReadahead));
    }
    if (Has(f, kUptodate)) return f;
    Result<Folio*> updated = UpdatePage(ino, f);
    if (!updated.ok() || *updated != nullptr) return updated;
  }
  CheckFailed(__FILE__, __LINE__, "GetReadFolio", "livelock in filemap_get_pages");
}

// filemap_create_folio: add a new folio and read it, under invalidate_lock
// shared so that a punch cannot run between the add and the block lookup.
// Returns null when the slot was taken (retry).
Result<Folio*> PageCache::CreateFolio(Inode& ino, uint32_t index) {
  const bool lock = TakesInvalidateLock(Site::kCreate);
  Folio* f = Alloc();
  if (lock) ino.invalidate_lock.LockShared();
  if (!AddToPageCache(ino, f, index)) {
    if (lock) ino.invalidate_lock.UnlockShared();
    return static_cast<Folio*>(nullptr);
  }
  sched::At(sched::Point::kCreateAfterAdd);
  Status st = ReadFolio(ino, f, /*keep_locked=*/false);
  if (lock) ino.invalidate_lock.UnlockShared();
  if (!st.ok()) {
    Put(f);
    return st;
  }
  return f;
}

// filemap_update_page: bring a !uptodate folio uptodate. Consumes the
// caller's reference when it returns null (AOP_TRUNCATED_PAGE: retry).
Result<Folio*> PageCache::UpdatePage(Inode& ino, Folio* f) {
  const bool lock = TakesInvalidateLock(Site::kUpdate);
  if (lock) ino.invalidate_lock.LockShared();
  // The mutant reads a folio someone else holds locked (in-flight readahead)
  // as if it held the lock itself.
  if (!TryLock(f) && config_.mutant != Mutant::kReadFolioUnlocked) {
    if (lock) ino.invalidate_lock.UnlockShared();
    WaitClear(f, kLocked);  // folio_put_wait_locked
    Put(f);
    return static_cast<Folio*>(nullptr);
  }
  Status st;
  bool retry = false;
  if (MappingOf(f) == nullptr) {
    retry = true;  // truncated while we waited
    Unlock(f);
  } else if (Has(f, kUptodate)) {
    Unlock(f);  // someone else filled it
  } else {
    sched::At(sched::Point::kUpdateBeforeRead);
    st = ReadFolio(ino, f, /*keep_locked=*/false);
  }
  if (lock) ino.invalidate_lock.UnlockShared();
  if (retry || !st.ok()) {
    Put(f);
    if (!st.ok()) return st;
    return static_cast<Folio*>(nullptr);
  }
  return f;
}

// page_cache_ra_unbounded: under invalidate_lock shared, add up to `nr`
// folios from `index` (skipping present ones; the folio at nr - lookahead
// gets PG_readahead) and submit their reads: the blocks are mapped now, the
// I/O completes after the lock is dropped, and the folios stay locked until
// it does.
Status PageCache::ReadaheadRange(Inode& ino, uint32_t index, uint32_t nr, uint32_t lookahead, Site site) {
  // do_page_cache_ra: no page at or past the end of the file, as the size
  // reads before the lock is taken (a truncate may then shrink it first).
  const uint32_t size_pages = PagesIn(SizeOf(ino));
  if (index >= size_pages) return Status::Ok();
  const bool lock = TakesInvalidateLock(site);
  std::vector<Folio*> batch;
  batch.reserve(nr);
  if (lock) ino.invalidate_lock.LockShared();
  for (uint32_t i = 0; i < nr && index + i < size_pages; ++i) {
    if (Slot(ino, index + i) != nullptr) continue;
    Folio* f = Alloc();
    if (!AddToPageCache(ino, f, index + i)) continue;
    sched::At(sched::Point::kReadaheadAfterAdd);
    if (lookahead > 0 && i == nr - lookahead) SetFlag(f, kReadahead);
    batch.push_back(f);
  }
  // read_pages: ->readahead maps every folio's blocks at submission.
  for (Folio* f : batch) MapBlocks(ino, f, /*create=*/false, 0, 0);
  if (lock) ino.invalidate_lock.UnlockShared();
  return ReadPages(ino, batch);
}

// Readahead I/O completion for a batch whose blocks are mapped: one batched
// read. Readahead I/O is REQ_RAHEAD and may fail fast (ra_fail): that folio
// is unlocked !uptodate, for a later filemap_update_page to read.
Status PageCache::ReadPages(Inode& ino, std::vector<Folio*>& batch) {
  if (batch.empty()) return Status::Ok();
  std::vector<Folio*> io;
  io.reserve(batch.size());
  for (Folio* f : batch) {
    if (config_.ra_fail > 0 && sched::ThreadRng().Chance(config_.ra_fail, 4)) {
      TracePage<uint64_t>(sched::EventKind::kIo, "readahead I/O fails fast:", ino.id, f->index, nullptr);
      ClearFlag(f, kReadahead);
      Unlock(f);
      Put(f);
    } else {
      io.push_back(f);
    }
  }
  Status st;
  if (!io.empty()) {
    sched::At(sched::Point::kReadFolioBeforeIo);
    std::vector<const Backend::PageMap*> maps;
    std::vector<uint64_t*> words;
    for (size_t i = 0; i < io.size(); ++i) {
      maps.push_back(&io[i]->blocks);
      words.push_back(PlainWords(io[i]->data));
    }
    st = backend_.ReadMapped(maps, words);
    for (size_t i = 0; i < io.size(); ++i) {
      Folio* f = io[i];
      TracePage<uint64_t>(sched::EventKind::kIo, "backend read", ino.id, f->index, nullptr);
      if (st.ok()) {
        SetFlag(f, kUptodate);
        TracePage(sched::EventKind::kFolio, "uptodate", ino.id, f->index, words[i]);
      }
      Unlock(f);
      Put(f);
    }
  }
  batch.clear();
  return st;
}

// force_page_cache_ra over the op's pages (fadvise/madvise WILLNEED,
// readahead(2)).
Status PageCache::ForceReadahead(Inode& ino, uint32_t sector, uint32_t count) {
  const uint32_t first = sector / kSectorsPerPage;
  const uint32_t last = (sector + count - 1) / kSectorsPerPage;
  return ReadaheadRange(ino, first, last - first + 1, 0, Site::kForcedReadahead);
}

Status PageCache::Readahead(uint32_t file, uint32_t sector, uint32_t count) {
  sched::At(sched::Point::kBackendIo);
  PR_RETURN_IF_ERROR(backend_.Advise(file, uint64_t{sector} * kSectorBytes, uint64_t{count} * kSectorBytes,
                                     POSIX_FADV_WILLNEED));
  return ForceReadahead(*inodes_[file], sector, count);
}

Status PageCache::Madvise(uint32_t file, uint32_t sector, uint32_t count) {
  return ForceReadahead(*inodes_[file], sector, count);  // vfs_fadvise since 692fe62433d4
}

Status PageCache::SysReadahead(uint32_t file, uint32_t sector, uint32_t count) {
  return ForceReadahead(*inodes_[file], sector, count);
}

// __filemap_get_folio(FGP_WRITEBEGIN) minus FGP_STABLE: locked, created if
// missing. No invalidate_lock: the caller holds i_rwsem, which punch takes.
Result<Folio*> PageCache::GetWriteFolio(Inode& ino, uint32_t index) {
  for (uint32_t attempt = 0; attempt < kRetriesMax; ++attempt) {
    if (Folio* f = LookupLocked(ino, index)) return f;
    Folio* f = Alloc();
    if (AddToPageCache(ino, f, index)) return f;
  }
  CheckFailed(__FILE__, __LINE__, "GetWriteFolio", "livelock in write_begin");
}

void PageCache::MarkDirty(Folio* f) {
  SetFlag(f, kDirty | kDirtyTag);
  BumpDirtySeq();
  if (config_.flusher) sched::WakeWord(dirty_seq_);
}

// The flusher's sequence moves on: its scheduling point travels with the
// store, wherever the store is, so that no order of the statements around it
// hides the store from the flusher's wait.
void PageCache::BumpDirtySeq() {
  Observable();
  dirty_seq_.fetch_add(1, std::memory_order_acq_rel);
}

// One page of generic_perform_write: write_begin (map or allocate the
// blocks of the written sectors unless the folio has them, read a partial
// !uptodate page first), copy, mark uptodate and dirty, write_end.
Status PageCache::WritePage(Inode& ino, uint32_t index, uint32_t sector, uint32_t count, const uint64_t* words) {
  Result<Folio*> folio = GetWriteFolio(ino, index);
  if (!folio.ok()) return folio.status();
  Folio* f = *folio;
  const Clip c = ClipToPage(sector, count, index);
  Status st;
  if (!c.whole_page && !Has(f, kUptodate)) st = ReadFolio(ino, f, /*keep_locked=*/true);
  if (st.ok()) {
    const uint32_t first = c.page_word / kSectorWordsInPage;
    EnsureBlocks(ino, f, first, first + c.words / kSectorWordsInPage);
  }
  if (st.ok()) {
    CopyIn(f->data + c.page_word, words + c.buf_word, c.words);
    SetFlag(f, kUptodate);
    MarkDirty(f);
    TracePage(sched::EventKind::kFolio, "dirty", ino.id, index, f->data);
    // write_end: the size grows under the folio lock, to the end of what
    // this page took.
    const uint32_t stop = std::min(sector + count, (index + 1) * kSectorsPerPage);
    if (config_.resizes && stop > SizeOf(ino)) SetSize(ino, stop);
  }
  Unlock(f);
  Put(f);
  return st;
}

// pagecache_isize_extended, with the zeroing of the range it exposes: before
// the size grows past `old_size` (under i_rwsem), the part of the folio at
// the old end of the file past it is zeroed and write-protected. Stores
// through the mapping may have put data there, which was never the file's;
// the next store faults, and page_mkwrite maps its blocks.
void PageCache::ZeroPastEof(Inode& ino, uint32_t old_size) {
  if (old_size % kSectorsPerPage == 0 || config_.mutant == Mutant::kExtendKeepsEofTail) return;
  Folio* f = LookupLocked(ino, old_size / kSectorsPerPage);
  if (f == nullptr) return;
  const uint32_t from = old_size % kSectorsPerPage;
  Zero(f->data + from * kSectorWordsInPage, (kSectorsPerPage - from) * kSectorWordsInPage);
  TracePage(sched::EventKind::kFolio, "zero past the end of", ino.id, f->index, f->data);
  MkClean(ino, f);
  Unlock(f);
  Put(f);
}

// generic_perform_write under i_rwsem.
Status PageCache::Write(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words) {
  Inode& ino = *inodes_[file];
  const uint32_t last = (sector + count - 1) / kSectorsPerPage;
  Status st;
  ino.i_rwsem.Lock();
  if (config_.resizes && sector > SizeOf(ino)) ZeroPastEof(ino, SizeOf(ino));
  for (uint32_t index = sector / kSectorsPerPage; index <= last && st.ok(); ++index)
    st = WritePage(ino, index, sector, count, words);
  ino.i_rwsem.Unlock();
  return st;
}

// write(2) whose user buffer is a shared mapping of the same range: under
// i_rwsem, each chunk first faults its buffer page in
// (fault_in_iov_iter_readable, a read fault), then copies. The data copied
// stands for the buffer's: the op writes its own generation. A buffer page
// at or past the end of the file cannot be faulted in (SIGBUS): the write
// stops short there (-EFAULT after what it copied).
Status PageCache::WriteMapped(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words,
                              uint32_t* done) {
  Inode& ino = *inodes_[file];
  const uint32_t last = (sector + count - 1) / kSectorsPerPage;
  Status st;
  uint32_t pos = sector;
  ino.i_rwsem.Lock();
  if (config_.resizes && sector > SizeOf(ino)) ZeroPastEof(ino, SizeOf(ino));
  for (uint32_t index = sector / kSectorsPerPage; index <= last && st.ok(); ++index) {
    ino.ptl.Lock();
    const bool present = ino.ptes[index].folio != nullptr;
    ino.ptl.Unlock();
    if (!present) {
      Result<Fault> fault = HandleFault(ino, index, /*write=*/false);
      if (!fault.ok()) st = fault.status();
      if (st.ok() && *fault == Fault::kSigbus) break;
    }
    if (st.ok()) st = WritePage(ino, index, sector, count, words);
    if (st.ok()) pos = std::min(sector + count, (index + 1) * kSectorsPerPage);
  }
  ino.i_rwsem.Unlock();
  if (done != nullptr) *done = pos - sector;
  return st;
}

// ext4_punch_hole with block size = sector: write back the range, then under
// i_rwsem and invalidate_lock (both exclusive) unmap and truncate the page
// cache, and free the blocks under i_data_sem. Write-back of the partial edge
// folios, which stay in the cache, waits until the blocks are freed, so it
// can neither map blocks the punch is about to free nor write data that the
// punch then zeroes in the backend (a model simplification of the buffer
// states and journal ordering that protect ext4 here).
Status PageCache::Punch(uint32_t file, uint32_t sector, uint32_t count) {
  Inode& ino = *inodes_[file];
  const uint64_t lstart = uint64_t{sector} * kSectorBytes;
  uint64_t lend = lstart + uint64_t{count} * kSectorBytes - 1;
  const bool lock = TakesInvalidateLock(Site::kPunch);
  const bool inversion = config_.mutant == Mutant::kPunchLockInversion;
  PR_RETURN_IF_ERROR(WritebackRange(ino, lstart / kPageBytes, lend / kPageBytes, /*sync=*/true));
  ino.i_rwsem.Lock();
  if (config_.resizes) {
    // Nothing past the end of the file but the rest of its last page.
    const uint32_t size = SizeOf(ino);
    if (sector >= size) {
      ino.i_rwsem.Unlock();
      return Status::Ok();
    }
    const uint64_t size_end = (uint64_t{size} * kSectorBytes + kPageBytes - 1) / kPageBytes * kPageBytes;
    lend = std::min(lend, size_end - 1);
  }
  if (inversion) ino.i_data_sem.Lock();
  if (lock) ino.invalidate_lock.Lock();
  // truncate_pagecache_range: unmap the whole pages once, then truncate.
  ZapRange(ino, static_cast<uint32_t>((lstart + kPageBytes - 1) / kPageBytes),
           static_cast<uint32_t>((lend + 1) / kPageBytes));
  std::vector<Folio*> edges;
  TruncateRange(ino, lstart, lend, &edges);
  sched::At(sched::Point::kPunchAfterTruncate);
  if (!inversion) ino.i_data_sem.Lock();
  Status st = FreeBlocks(ino, lstart, lend, edges);
  if (config_.mutant == Mutant::kDoubleTruncate) TruncateRange(ino, lstart, lend, nullptr);
  if (lock) ino.invalidate_lock.Unlock();
  ino.i_rwsem.Unlock();
  return st;
}

// The filesystem frees the blocks of bytes [lstart, lend] under i_data_sem
// (the caller's, released here), then lets the write-back of the partial
// edge folios (kPunching, with a reference each) go on.
Status PageCache::FreeBlocks(Inode& ino, uint64_t lstart, uint64_t lend, std::vector<Folio*>& edges) {
  for (uint64_t p = lstart / kPageBytes; p <= lend / kPageBytes; ++p)
    ino.backend_written.fetch_or(uint64_t{1} << p, std::memory_order_relaxed);
  Observable();
  Status st = backend_.Punch(ino.id, lstart, lend - lstart + 1);
  sched::Note(sched::EventKind::kIo, [&] {
    return "backend punch f" + std::to_string(ino.id) + " s" + std::to_string(lstart / kSectorBytes) + "+" +
           std::to_string((lend + 1 - lstart) / kSectorBytes);
  });
  Observable();
  backend_.CommitFreed(ino.id);
  ino.i_data_sem.Unlock();
  for (Folio* f : edges) {
    ClearFlag(f, kPunching);
    sched::WakeWord(f->flags);
    Put(f);
  }
  return st;
}

// ext4_setattr's size change (truncate_setsize, then ext4_truncate), under
// i_rwsem and invalidate_lock, both exclusive. Extending: what the folio at
// the old end of the file holds past it is zeroed (ZeroPastEof), then the
// size grows. Shrinking: the size first, so that reads and faults from then
// on stop there; then truncate_pagecache (unmap the pages past the end,
// truncate the cache from the new size, which zeroes the rest of its last
// page, unmap again) and the blocks past the end are freed under i_data_sem.
// The last page stays cached; its write-back waits until those blocks are
// freed, as a punch's partial edges do.
Status PageCache::Truncate(uint32_t file, uint32_t size) {
  Inode& ino = *inodes_[file];
  ino.i_rwsem.Lock();
  ino.invalidate_lock.Lock();
  const uint32_t old = SizeOf(ino);
  Status st;
  if (size > old) {
    ZeroPastEof(ino, old);
    SetSize(ino, size);
  } else if (size < old) {
    SetSize(ino, size);
    const uint64_t lstart = uint64_t{size} * kSectorBytes;
    const uint64_t lend = uint64_t{config_.file_pages} * kPageBytes - 1;
    const uint32_t hole = static_cast<uint32_t>((lstart + kPageBytes - 1) / kPageBytes);
    ZapRange(ino, hole, config_.file_pages);
    std::vector<Folio*> edges;
    TruncateRange(ino, lstart, lend, &edges);
    ZapRange(ino, hole, config_.file_pages);
    ino.i_data_sem.Lock();
    st = FreeBlocks(ino, lstart, lend, edges);
  }
  ino.invalidate_lock.Unlock();
  ino.i_rwsem.Unlock();
  return st;
}

// truncate_inode_pages_range: PASS 1 (trylock), the partial edge folios,
// PASS 2 (blocking, restarts until the range is empty). With `edges`, the
// partial folios that stay in the cache are marked kPunching and left there
// with a reference.
void PageCache::TruncateRange(Inode& ino, uint64_t lstart, uint64_t lend, std::vector<Folio*>* edges) {
  const bool wait_writeback = config_.mutant != Mutant::kTruncateNoWritebackWait;
  uint32_t start = static_cast<uint32_t>((lstart + kPageBytes - 1) / kPageBytes);
  uint32_t end = static_cast<uint32_t>((lend + 1) / kPageBytes);
  for (uint32_t index = start; index < end; ++index) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr) continue;
    if (TryLock(f)) {
      if (!wait_writeback || !Has(f, kWriteback)) TruncateFolio(ino, f);
      Unlock(f);
    }
    Put(f);
  }
  const bool same_folio = lstart / kPageBytes == lend / kPageBytes;
  for (uint64_t edge : {lstart, lend}) {
    if (edge == lend && same_folio) break;
    if (Folio* f = LookupLocked(ino, static_cast<uint32_t>(edge / kPageBytes))) {
      TruncatePartial(ino, f, lstart, lend);
      const bool keep = edges != nullptr && MappingOf(f) == &ino;
      if (keep) {
        SetFlag(f, kPunching);
        edges->push_back(f);  // with the reference
      }
      Unlock(f);
      if (!keep) Put(f);
    }
  }
  if (config_.mutant == Mutant::kTruncateTrylockOnly) return;
  uint32_t index = start;
  for (uint32_t pass = 0; index < end; ++pass) {
    PR_CHECK_MSG(pass < kRetriesMax, "truncate_inode_pages_range: PASS 2 livelock");
    std::vector<Folio*> batch;
    for (uint32_t i = index; i < end && batch.size() < 16; ++i)
      if (Folio* f = Lookup(ino, i)) batch.push_back(f);
    if (batch.empty()) {
      if (index == start) break;  // all gone from start onwards
      index = start;              // otherwise restart to make sure all gone
      continue;
    }
    for (Folio* f : batch) {
      Lock(f);
      if (wait_writeback) WaitClear(f, kWriteback);
      TruncateFolio(ino, f);
      Unlock(f);
    }
    index = batch.back()->index + 1;
    for (Folio* f : batch) Put(f);
  }
}

// truncate_inode_partial_folio (order 0): wait for writeback, then remove the
// folio if the range covers it, else zero the covered part in the cache and
// drop its block mapping (block_invalidate_folio).
void PageCache::TruncatePartial(Inode& ino, Folio* f, uint64_t lstart, uint64_t lend) {
  const uint64_t pos = uint64_t{f->index} * kPageBytes;
  const uint64_t offset = pos < lstart ? lstart - pos : 0;
  const uint64_t length = pos + kPageBytes <= lend ? kPageBytes - offset : lend + 1 - pos - offset;
  if (config_.mutant != Mutant::kTruncateNoWritebackWait) WaitClear(f, kWriteback);
  if (length == kPageBytes) {
    TruncateFolio(ino, f);
    return;
  }
  Zero(f->data + offset / 8, length / 8);
  if (config_.mutant != Mutant::kPunchKeepsEdgeBlocks) f->blocks_valid = false;
  TracePage(sched::EventKind::kFolio, "zero part of", ino.id, f->index, f->data);
}

// folio_mkclean: write-protect the folio's PTE so that the next store
// faults (and runs page_mkwrite) again.
void PageCache::MkClean(Inode& ino, Folio* f) {
  ino.ptl.Lock();
  if (ino.ptes[f->index].folio == f) SetPteWritable(ino.ptes[f->index], false);
  ino.ptl.Unlock();
}

// One dirty folio's writeback. REQUIRES: f locked, referenced; returns with
// it unlocked (the reference stays the caller's).
Status PageCache::WritebackFolio(Inode& ino, Folio* f) {
  const bool clean_late = config_.mutant == Mutant::kWritebackCleanAfterIo;
  // folio_clear_dirty_for_io: write-protect first, then clear. From here no
  // store reaches the folio until it is unlocked: the next one faults, and
  // page_mkwrite waits for the lock. So the size read below holds for the
  // zeroing and for the sectors the I/O writes.
  MkClean(ino, f);
  if (!clean_late) ClearFlag(f, kDirty);
  // block_write_full_folio and the end of the file: a page wholly past it
  // is being truncated and is not written; one that straddles it has the
  // part past it zeroed ("it may be mmapped") and only the blocks before it
  // written.
  uint32_t valid = kSectorsPerPage;
  if (config_.resizes) {
    const uint32_t first = f->index * kSectorsPerPage, size = SizeOf(ino);
    valid = size <= first ? 0 : std::min(kSectorsPerPage, size - first);
    if (valid == 0) {
      ClearFlag(f, kDirty | kDirtyTag);
      Unlock(f);
      return Status::Ok();
    }
    if (valid < kSectorsPerPage)
      Zero(f->data + valid * kSectorWordsInPage, (kSectorsPerPage - valid) * kSectorWordsInPage);
  }
  MarkWriteback(f);
  Backend::PageMap map = f->blocks;
  const bool mapped = Covers(f->blocks_valid, map, 0, valid);
  Unlock(f);
  sched::At(sched::Point::kWritebackBeforeIo);
  if (!mapped) {
    // Map (allocate) the blocks at submission; not kept in the folio, which
    // is no longer locked.
    const bool create = backend_.BlockMapped();
    if (create) ino.i_data_sem.Lock();
    Observable();
    backend_.MapPage(ino.id, f->index, create, 0, valid, map);
    if (create) ino.i_data_sem.Unlock();
  }
  uint64_t buf[kPageWords];
  const bool in_place = sched::Controlled() && valid == kSectorsPerPage;
  if (!in_place) CopyOut(buf, f->data, kPageWords);
  for (uint32_t s = valid; s < kSectorsPerPage; ++s) {
    map.block[s] = Backend::kHole;  // a block map writes nothing there
    std::fill_n(buf + s * kSectorWordsInPage, kSectorWordsInPage, uint64_t{0});  // the others write zeros
  }
  const uint64_t* words = in_place ? PlainWords(f->data) : buf;
  ino.backend_written.fetch_or(uint64_t{1} << f->index, std::memory_order_relaxed);
  // The I/O's data transfer, with room for other threads before it (after
  // submission) and after it (before completion): a store or write racing
  // writeback lands before or after the device takes the page's data.
  Observable();
  Status st = backend_.WriteMapped(map, words);
  TracePage(sched::EventKind::kIo, "backend write", ino.id, f->index, words);
  if (clean_late) ClearFlag(f, kDirty);
  EndWriteback(f);
  return st;
}

// Writeback of the dirty folios of pages [first, last]. sync waits for
// writeback already in flight (WB_SYNC_ALL); otherwise such folios are
// skipped.
Status PageCache::WritebackRange(Inode& ino, uint32_t first, uint32_t last, bool sync) {
  Status st;
  for (uint32_t index = first; index <= last && index < config_.file_pages; ++index) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr) continue;
    if (!Has(f, kDirtyTag)) {
      Put(f);
      continue;
    }
    Lock(f);
    while (Has(f, kPunching)) {
      Unlock(f);
      WaitClear(f, kPunching);
      Lock(f);
    }
    if (MappingOf(f) != &ino || !Has(f, kDirty) ||
        (!sync && Has(f, kWriteback))) {
      Unlock(f);
      Put(f);
      continue;
    }
    WaitClear(f, kWriteback);
    Status one = WritebackFolio(ino, f);
    if (st.ok()) st = one;
    Put(f);
  }
  return st;
}

// fsync(2): file_write_and_wait_range over the whole file: write back every
// dirty folio, then wait for all writeback in flight.
Status PageCache::Fsync(uint32_t file) {
  Inode& ino = *inodes_[file];
  Status st = WritebackRange(ino, 0, config_.file_pages - 1, /*sync=*/true);
  for (uint32_t index = 0; index < config_.file_pages; ++index) {
    if (Folio* f = Lookup(ino, index)) {
      WaitClear(f, kWriteback);
      Put(f);
    }
  }
  return st;
}

Status PageCache::Flush() {
  Status st;
  for (uint32_t file = 0; file < config_.files; ++file) {
    Status one = WritebackRange(*inodes_[file], 0, config_.file_pages - 1, /*sync=*/false);
    if (st.ok()) st = one;
  }
  return st;
}

void PageCache::WaitDirty(uint32_t seen) {
  sched::WaitWord(dirty_seq_, seen, "flusher: nothing dirty");
}

uint32_t PageCache::DirtySeq() const {
  Observable();
  return dirty_seq_.load(std::memory_order_acquire);
}

void PageCache::Kick() {
  BumpDirtySeq();
  sched::WakeWord(dirty_seq_);
}

// generic_fadvise(POSIX_FADV_DONTNEED): start writeback of the range, then
// invalidate_mapping_pages over the pages fully inside it: drop folios that
// are clean, unlocked, unmapped, not under writeback and otherwise unused.
Status PageCache::Evict(uint32_t file, uint32_t sector, uint32_t count) {
  Inode& ino = *inodes_[file];
  const uint64_t offset = uint64_t{sector} * kSectorBytes;
  const uint64_t end_byte = offset + uint64_t{count} * kSectorBytes;  // exclusive
  PR_RETURN_IF_ERROR(WritebackRange(ino, offset / kPageBytes, (end_byte - 1) / kPageBytes, /*sync=*/false));
  const uint32_t first = static_cast<uint32_t>((offset + kPageBytes - 1) / kPageBytes);
  const uint32_t end = static_cast<uint32_t>(end_byte / kPageBytes);
  for (uint32_t index = first; index < end; ++index) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr) continue;
    if (TryLock(f)) {
      const bool busy = Has(f, kDirty | kWriteback) || MapcountOf(f) > 0 ||
                        RefcountOf(f) > 2;
      if (!busy) TruncateFolio(ino, f);
      Unlock(f);
    }
    Put(f);
  }
  return Status::Ok();
}

// ---- mmap ----

Status PageCache::Load(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words, uint32_t* done,
                       bool* sigbus) {
  return Access(*inodes_[file], sector, count, words, nullptr, done, sigbus);
}

Status PageCache::Store(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words, uint32_t* done,
                        bool* sigbus) {
  return Access(*inodes_[file], sector, count, nullptr, words, done, sigbus);
}

// Loads or stores through the shared mapping, page by page: the access runs
// under the PTE lock through a present (for a store: writable) PTE, and a
// missing or read-only one faults first, as often as it takes. A fault on a
// page at or past the end of the file raises SIGBUS, which ends the access.
Status PageCache::Access(Inode& ino, uint32_t sector, uint32_t count, uint64_t* load, const uint64_t* store,
                         uint32_t* done, bool* sigbus) {
  const bool write = store != nullptr;
  const uint32_t last = (sector + count - 1) / kSectorsPerPage;
  uint32_t pos = sector;
  if (sigbus != nullptr) *sigbus = false;
  for (uint32_t index = sector / kSectorsPerPage; index <= last; ++index) {
    const Clip c = ClipToPage(sector, count, index);
    bool bus = false;
    for (uint32_t attempt = 0;; ++attempt) {
      if (attempt == kRetriesMax) {  // e.g. page_mkwrite refusing a PTE's page for good
        ModelCheck(false, ino, index, "handle_mm_fault: the access faults forever (livelock)");
        break;
      }
      ino.ptl.Lock();
      const Pte& pte = ino.ptes[index];
      if (pte.folio != nullptr && (!write || pte.writable)) {
        if (write) {
          CopyIn(pte.folio->data + c.page_word, store + c.buf_word, c.words);
          TracePage(sched::EventKind::kFolio, "store to", ino.id, index, pte.folio->data);
        } else {
          CopyOut(load + c.buf_word, pte.folio->data + c.page_word, c.words);
        }
        ino.ptl.Unlock();
        break;
      }
      ino.ptl.Unlock();
      Result<Fault> fault = HandleFault(ino, index, write);
      if (!fault.ok()) return fault.status();
      if (*fault == Fault::kSigbus) {
        bus = true;
        break;
      }
    }
    if (bus) {
      if (sigbus != nullptr) *sigbus = true;
      sched::Note(sched::EventKind::kFolio, [&] { return "SIGBUS at " + PageName(ino.id, index); });
      break;
    }
    pos = std::min(sector + count, (index + 1) * kSectorsPerPage);
  }
  if (done != nullptr) *done = pos - sector;
  return Status::Ok();
}

// handle_mm_fault for one page of the file's shared mapping: kRetry means
// "try the access again" (the fault may have been retried or raced); kSigbus
// that the page is at or past the end of the file.
Result<PageCache::Fault> PageCache::HandleFault(Inode& ino, uint32_t index, bool write) {
  ino.ptl.Lock();
  Folio* present = ino.ptes[index].folio;
  const bool writable = ino.ptes[index].writable;
  if (present != nullptr) Get(present);  // under the PTL: the PTE's reference pins it
  ino.ptl.Unlock();
  if (present != nullptr) {
    if (!write || writable) {
      Put(present);
      return Fault::kRetry;
    }
    // do_wp_page -> wp_page_shared: page_mkwrite, then make the PTE writable
    // if it still maps this folio (finish_mkwrite_fault), dirty, unlock.
    const Mkwrite mk = PageMkwrite(ino, present);
    if (mk == Mkwrite::kLocked || mk == Mkwrite::kUnlocked) {
      ino.ptl.Lock();
      Pte& pte = ino.ptes[index];
      const bool same = pte.folio == present;
      if (same) SetPteWritable(pte, true);
      ino.ptl.Unlock();
      if (same) MarkDirty(present);
      if (mk == Mkwrite::kLocked) Unlock(present);
    }
    Put(present);
    return mk == Mkwrite::kPastEof ? Fault::kSigbus : Fault::kRetry;
  }
  if (!write) {
    // do_read_fault: fault-around first; it never creates folios.
    if (MapPages(ino, index)) return Fault::kRetry;
    Result<Folio*> folio = FilemapFault(ino, index);
    if (!folio.ok()) return folio.status();
    if (*folio == nullptr) return Fault::kSigbus;
    FinishFault(ino, index, *folio, /*writable=*/false);
    Unlock(*folio);
    Put(*folio);
    return Fault::kRetry;
  }
  // do_shared_fault: ->fault returns the folio locked; unlock for
  // page_mkwrite, which returns it locked again (VM_FAULT_LOCKED) after
  // re-checking the mapping; install the PTE, dirty, unlock.
  Result<Folio*> folio = FilemapFault(ino, index);
  if (!folio.ok()) return folio.status();
  Folio* f = *folio;
  if (f == nullptr) return Fault::kSigbus;
  Unlock(f);
  const Mkwrite mk = PageMkwrite(ino, f);
  if (mk == Mkwrite::kNoPage || mk == Mkwrite::kPastEof) {
    Put(f);
    return mk == Mkwrite::kPastEof ? Fault::kSigbus : Fault::kRetry;
  }
  if (FinishFault(ino, index, f, /*writable=*/true)) MarkDirty(f);
  if (mk == Mkwrite::kLocked) Unlock(f);
  Put(f);
  return Fault::kRetry;
}

// filemap_fault (docs/model.md §3, mmap): returns the folio locked, uptodate,
// referenced, after re-checking that it is still the file's. invalidate_lock
// (shared) is taken before a folio is created or read: (a) a miss, (c) a hit
// on a !uptodate folio, (d) a folio found uptodate that is not once locked.
Result<Folio*> PageCache::FilemapFault(Inode& ino, uint32_t index) {
  if (index >= PagesIn(SizeOf(ino))) return static_cast<Folio*>(nullptr);  // SIGBUS
  const bool lock = TakesInvalidateLock(Site::kFault);
  const bool i_rwsem = config_.mutant == Mutant::kFaultTakesIRwsem;
  if (i_rwsem) ino.i_rwsem.LockShared();
  bool mapping_locked = false;
  auto lock_mapping = [&] {
    if (lock) ino.invalidate_lock.LockShared();
    mapping_locked = true;
  };
  auto unlock_mapping = [&] {
    if (mapping_locked && lock) ino.invalidate_lock.UnlockShared();
    mapping_locked = false;
    if (i_rwsem) ino.i_rwsem.UnlockShared();
  };
  Folio* f = Lookup(ino, index);
  if (f != nullptr) {
    if (Has(f, kReadahead)) {
      // do_async_mmap_readahead
      ClearFlag(f, kReadahead);
      Status st = ReadaheadRange(ino, index + 1, config_.ra_pages, config_.ra_pages / 2, Site::kReadahead);
      if (!st.ok()) {
        Put(f);
        unlock_mapping();
        return st;
      }
    }
    if (!Has(f, kUptodate)) lock_mapping();
  } else if (config_.ra_pages > 0) {
    // do_sync_mmap_readahead: a window around the fault.
    const uint32_t start = index - std::min(index, config_.ra_pages / 2);
    Status st = ReadaheadRange(ino, start, config_.ra_pages, config_.ra_pages / 4, Site::kReadahead);
    if (!st.ok()) {
      unlock_mapping();
      return st;
    }
  }
  for (uint32_t attempt = 0;; ++attempt) {
    PR_CHECK_MSG(attempt < kRetriesMax, "livelock in filemap_fault");
    if (f == nullptr) {  // retry_find
      if (!mapping_locked) lock_mapping();
      f = GetOrCreate(ino, index);
    }
    Lock(f);
    if (config_.mutant != Mutant::kFaultNoMappingRecheck && MappingOf(f) != &ino) {
      Unlock(f);  // truncated
      Put(f);
      f = nullptr;
      continue;
    }
    if (!Has(f, kUptodate)) {
      if (!mapping_locked) {  // was uptodate, now is not: retry with the lock
        Unlock(f);
        Put(f);
        f = nullptr;
        continue;
      }
      // page_not_uptodate
      Status st = ReadFolio(ino, f, /*keep_locked=*/false);
      Put(f);
      f = nullptr;
      if (!st.ok()) {
        unlock_mapping();
        return st;  // SIGBUS
      }
      continue;
    }
    unlock_mapping();
    // "We must recheck i_size under page lock": a truncate may have shrunk
    // the file since the check above, and its unmap has then run already.
    if (config_.mutant != Mutant::kFaultNoSizeRecheck && index >= PagesIn(SizeOf(ino))) {
      Unlock(f);
      Put(f);
      return static_cast<Folio*>(nullptr);  // SIGBUS
    }
    return f;
  }
}

// filemap_map_pages (fault-around): map the uptodate, unlocked folios of the
// aligned 16-page window around `index` that have no PTE yet, read-only.
// True if `index` is mapped afterwards.
bool PageCache::MapPages(Inode& ino, uint32_t index) {
  constexpr uint32_t kWindow = 16;  // fault_around_bytes = 64 KiB
  const uint32_t first = index / kWindow * kWindow;
  const bool any_state = config_.mutant == Mutant::kMapPagesNotUptodate;  // maps !uptodate folios too
  const bool past_eof = config_.mutant == Mutant::kMapPagesPastEof;  // maps folios past the end of the file
  // The window stops at the file's last page (file_end), and each folio is
  // checked again under its lock (next_uptodate_folio's max_idx).
  const uint32_t end = std::min(first + kWindow, past_eof ? config_.file_pages : PagesIn(SizeOf(ino)));
  for (uint32_t i = first; i < end; ++i) {
    Folio* f = Lookup(ino, i);
    if (f == nullptr) continue;
    if (Has(f, kLocked | kReadahead) || !(any_state || Has(f, kUptodate)) || !TryLock(f)) {
      Put(f);
      continue;
    }
    if (MappingOf(f) == &ino && (any_state || Has(f, kUptodate)) && (past_eof || i < PagesIn(SizeOf(ino))))
      FinishFault(ino, i, f, /*writable=*/false);
    Unlock(f);
    Put(f);
  }
  ino.ptl.Lock();
  const bool mapped = ino.ptes[index].folio != nullptr;
  ino.ptl.Unlock();
  return mapped;
}

// The ->page_mkwrite of ext4 (docs/model.md §3, mmap): under invalidate_lock
// shared, lock the folio, give up (NOPAGE: retry the fault) if it was
// truncated, map or allocate its blocks, wait for writeback (stable pages);
// returns with the folio locked (VM_FAULT_LOCKED).
PageCache::Mkwrite PageCache::PageMkwrite(Inode& ino, Folio* f) {
  const bool lock = TakesInvalidateLock(Site::kMkwrite);
  if (lock) ino.invalidate_lock.LockShared();
  Lock(f);
  if (MappingOf(f) != &ino) {
    Unlock(f);
    if (lock) ino.invalidate_lock.UnlockShared();
    return Mkwrite::kNoPage;
  }
  // block_page_mkwrite: a folio at or past the end of the file is being
  // truncated. The kernel returns NOPAGE and the fault retries until the
  // truncate's unmap leaves it to filemap_fault, whose SIGBUS is then the
  // only outcome; the model raises it at once.
  const uint32_t size = SizeOf(ino);
  if (f->index >= PagesIn(size)) {
    Unlock(f);
    if (lock) ino.invalidate_lock.UnlockShared();
    return Mkwrite::kPastEof;
  }
  // block_page_mkwrite's get_block, up to the end of the file: no block
  // past it (the last page's rest is never the file's).
  EnsureBlocks(ino, f, 0, std::min(kSectorsPerPage, size - f->index * kSectorsPerPage));
  sched::At(sched::Point::kMkwriteBeforeDirty);
  WaitClear(f, kWriteback);
  if (lock) ino.invalidate_lock.UnlockShared();
  if (config_.mutant == Mutant::kMkwriteUnlockBeforeDirty) {
    Unlock(f);  // before b827e496c893: the caller dirties and maps it unlocked
    return Mkwrite::kUnlocked;
  }
  return Mkwrite::kLocked;
}

// finish_fault: install a PTE for the folio unless the slot is taken.
bool PageCache::FinishFault(Inode& ino, uint32_t index, Folio* f, bool writable) {
  ino.ptl.Lock();
  Pte& pte = ino.ptes[index];
  const bool install = pte.folio == nullptr;
  if (install) {
    Observable();  // the PTE change, right before the store (SetSlot says why)
    pte.folio = f;
    pte.writable = writable;
    f->mapcount.fetch_add(1, std::memory_order_relaxed);
    Get(f);  // the PTE's reference
  }
  ino.ptl.Unlock();
  if (install) TracePage<uint64_t>(sched::EventKind::kFolio, writable ? "map rw" : "map ro", ino.id, index, nullptr);
  return install;
}

// unmap_mapping_range over pages [first, end): zap the PTEs. An access in
// progress holds the PTE lock, so it has finished when this returns.
void PageCache::ZapRange(Inode& ino, uint32_t first, uint32_t end) {
  for (uint32_t i = first; i < end; ++i) {
    ino.ptl.Lock();
    Folio* f = ino.ptes[i].folio;
    Observable();
    ino.ptes[i] = {};
    if (f != nullptr) f->mapcount.fetch_sub(1, std::memory_order_relaxed);
    ino.ptl.Unlock();
    if (f != nullptr) {
      TracePage<uint64_t>(sched::EventKind::kFolio, "unmap", ino.id, i, nullptr);
      Put(f);
    }
  }
}

// unmap_mapping_folio: zap the PTE if it maps this folio.
void PageCache::UnmapFolio(Inode& ino, Folio* f) {
  ino.ptl.Lock();
  const bool mapped = ino.ptes[f->index].folio == f;
  if (mapped) {
    Observable();
    ino.ptes[f->index] = {};
    f->mapcount.fetch_sub(1, std::memory_order_relaxed);
  }
  ino.ptl.Unlock();
  if (mapped) {
    TracePage<uint64_t>(sched::EventKind::kFolio, "unmap", ino.id, f->index, nullptr);
    Put(f);
  }
}

// ---- end of run ----

Status PageCache::WritebackAll() {
  Status st;
  for (uint32_t file = 0; file < config_.files; ++file) {
    Status one = WritebackRange(*inodes_[file], 0, config_.file_pages - 1, /*sync=*/true);
    if (st.ok()) st = one;
  }
  return st;
}

void PageCache::UnmapAll() {
  for (uint32_t file = 0; file < config_.files; ++file) ZapRange(*inodes_[file], 0, config_.file_pages);
}

void PageCache::EvictAll() {
  for (uint32_t file = 0; file < config_.files; ++file) {
    Inode& ino = *inodes_[file];
    for (uint32_t index = 0; index < config_.file_pages; ++index) {
      if (Folio* f = LookupLocked(ino, index)) {
        TruncateFolio(ino, f);  // checks the folio is clean
        Unlock(f);
        Put(f);
      }
    }
  }
}

uint64_t PageCache::CachedMask(uint32_t file) const {
  uint64_t mask = 0;
  for (uint32_t i = 0; i < config_.file_pages; ++i)
    if (inodes_[file]->pages[i].load(std::memory_order_acquire) != nullptr) mask |= uint64_t{1} << i;
  return mask;
}

uint64_t PageCache::MappedMask(uint32_t file) const {
  uint64_t mask = 0;
  for (uint32_t i = 0; i < config_.file_pages; ++i)
    if (inodes_[file]->ptes[i].folio != nullptr) mask |= uint64_t{1} << i;
  return mask;
}

uint64_t PageCache::BackendWritten(uint32_t file) const {
  return inodes_[file]->backend_written.load(std::memory_order_relaxed);
}

}  // namespace pagerace
