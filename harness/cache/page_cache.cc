#include "harness/cache/page_cache.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "harness/base/check.h"
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
};

struct Folio {
  std::atomic<int32_t> refcount{0};
  std::atomic<uint32_t> flags{0};
  std::atomic<Inode*> mapping{nullptr};  // null <=> removed from the cache
  uint32_t index = 0;                    // kept after removal, like the kernel's
  std::atomic<uint64_t> data[kPageWords];
};

struct Inode {
  explicit Inode(uint32_t file)
      : id(file), i_rwsem("i_rwsem", file), invalidate_lock("invalidate_lock", file), xa_lock("xa_lock", file) {}
  uint32_t id;
  sched::RwSem i_rwsem;
  sched::RwSem invalidate_lock;
  sched::Mutex xa_lock;
  std::atomic<Folio*> pages[kFilePagesMax] = {};
  std::atomic<uint64_t> backend_written{0};  // bit per page the backend wrote or punched
};
static_assert(kFilePagesMax <= 64, "backend_written has a bit per page");

namespace {

// Bounds on retry loops: reaching one is a livelock in the model.
constexpr uint32_t kRetriesMax = 1'000'000;

bool TryGet(Folio* f) {
  int32_t r = f->refcount.load(std::memory_order_relaxed);
  while (r > 0)
    if (f->refcount.compare_exchange_weak(r, r + 1, std::memory_order_acquire)) return true;
  return false;
}

bool Has(Folio* f, uint32_t flag) { return (f->flags.load(std::memory_order_acquire) & flag) != 0; }
void SetFlag(Folio* f, uint32_t flag) { f->flags.fetch_or(flag, std::memory_order_release); }
void ClearFlag(Folio* f, uint32_t flag) { f->flags.fetch_and(~flag, std::memory_order_release); }

bool TryLock(Folio* f) {
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
  if (sched::Controlled()) {
    std::memcpy(static_cast<void*>(dst), src, size_t{words} * sizeof(uint64_t));
    return;
  }
  for (uint32_t w = 0; w < words; ++w) dst[w].store(src[w], std::memory_order_relaxed);
}

PAGERACE_NO_COVERAGE void CopyOut(uint64_t* dst, const std::atomic<uint64_t>* src, uint32_t words) {
  if (sched::Controlled()) {
    std::memcpy(dst, static_cast<const void*>(src), size_t{words} * sizeof(uint64_t));
    return;
  }
  for (uint32_t w = 0; w < words; ++w) dst[w] = src[w].load(std::memory_order_relaxed);
}

// The folio's words as plain memory, for the backend to fill or drain in
// place: only under the controlled scheduler (see above).
uint64_t* PlainWords(std::atomic<uint64_t>* data) { return reinterpret_cast<uint64_t*>(data); }

PAGERACE_NO_COVERAGE void Zero(std::atomic<uint64_t>* dst, uint64_t words) {
  for (uint64_t w = 0; w < words; ++w) dst[w].store(0, std::memory_order_relaxed);
}

std::string PageName(uint32_t file, uint32_t index) {
  return "f" + std::to_string(file) + " p" + std::to_string(index);
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
           (mask & kWriteback ? " writeback" : " unlocked");
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

}  // namespace

PageCache::PageCache(Backend& backend) : backend_(backend) {}
PageCache::~PageCache() = default;

void PageCache::Reset(const CacheConfig& config) {
  config_ = config;
  // Fresh inodes: a controlled run abandoned at a deadlock leaves locks held.
  inodes_.clear();
  while (inodes_.size() < config.files)
    inodes_.push_back(std::make_unique<Inode>(static_cast<uint32_t>(inodes_.size())));
  free_.clear();
  for (auto& f : folios_) free_.push_back(f.get());
}

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
  f->flags.store(0, std::memory_order_relaxed);
  f->mapping.store(nullptr, std::memory_order_relaxed);
  return f;
}

void PageCache::Put(Folio* f) {
  const int32_t before = f->refcount.fetch_sub(1, std::memory_order_acq_rel);
  PR_CHECK_MSG(before > 0, "folio refcount underflow");
  // At zero the folio is garbage until Reset recycles it (the grace period).
}

// filemap_get_entry: lockless lookup + try_get + reload re-check.
Folio* PageCache::Lookup(Inode& ino, uint32_t index) {
  for (uint32_t i = 0; i < kRetriesMax; ++i) {
    Folio* f = ino.pages[index].load(std::memory_order_acquire);
    if (f == nullptr) return nullptr;
    if (!TryGet(f)) continue;
    if (f == ino.pages[index].load(std::memory_order_acquire)) return f;
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
    if (f->mapping.load(std::memory_order_acquire) == &ino) return f;
    Unlock(f);
    Put(f);
  }
  CheckFailed(__FILE__, __LINE__, "LookupLocked", "livelock in a locked page-cache lookup");
}

// filemap_add_folio: the folio enters the cache locked and !uptodate, with a
// reference for the cache and one for the caller. False: the slot is taken.
bool PageCache::AddToPageCache(Inode& ino, Folio* f, uint32_t index) {
  f->flags.store(kLocked, std::memory_order_relaxed);
  f->index = index;
  f->mapping.store(&ino, std::memory_order_relaxed);
  f->refcount.store(2, std::memory_order_relaxed);
  ino.xa_lock.Lock();
  const bool free_slot = ino.pages[index].load(std::memory_order_relaxed) == nullptr;
  if (free_slot) ino.pages[index].store(f, std::memory_order_release);
  ino.xa_lock.Unlock();
  if (free_slot) TracePage<uint64_t>(sched::EventKind::kFolio, "insert", ino.id, index, nullptr);
  if (!free_slot) {
    // Never published: hand it straight back.
    f->mapping.store(nullptr, std::memory_order_relaxed);
    f->refcount.store(0, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(pool_mu_);
    free_.push_back(f);
  }
  return free_slot;
}

// filemap_remove_folio with the kernel's assertions.
void PageCache::RemoveFolio(Inode& ino, Folio* f) {
  const uint32_t flags = f->flags.load(std::memory_order_acquire);
  PR_CHECK_MSG(flags & kLocked, "filemap_remove_folio: folio not locked");
  PR_CHECK_MSG(!(flags & kDirty), "filemap_remove_folio: loss of unwritten data (dirty folio)");
  PR_CHECK_MSG(!(flags & kWriteback), "filemap_remove_folio: folio under writeback");
  ino.xa_lock.Lock();
  PR_CHECK_MSG(ino.pages[f->index].load(std::memory_order_relaxed) == f, "removing a folio not in its slot");
  ino.pages[f->index].store(nullptr, std::memory_order_release);
  f->mapping.store(nullptr, std::memory_order_release);
  ino.xa_lock.Unlock();
  TracePage<uint64_t>(sched::EventKind::kFolio, "remove", ino.id, f->index, nullptr);
  Put(f);  // the cache's reference
}

// truncate_inode_folio: cleanup (cancel dirty, drop readahead mark) + remove.
// REQUIRES: f locked, not under writeback.
void PageCache::TruncateFolio(Inode& ino, Folio* f) {
  if (f->mapping.load(std::memory_order_acquire) != &ino) return;
  ClearFlag(f, kDirty | kReadahead);
  RemoveFolio(ino, f);
}

// ->read_folio, done synchronously: map, read the backend, mark uptodate,
// unlock (unless keep_locked, as write_begin reads a partial page).
Status PageCache::ReadFolio(Inode& ino, Folio* f, bool keep_locked) {
  const uint32_t flags = f->flags.load(std::memory_order_acquire);
  PR_CHECK_MSG(flags & kLocked, "->read_folio on an unlocked folio");
  PR_CHECK_MSG(!(flags & kUptodate), "->read_folio on an uptodate folio");
  sched::At(sched::Point::kReadFolioBeforeIo);
  uint64_t buf[kPageWords];
  const bool in_place = sched::Controlled();
  uint64_t* words = in_place ? PlainWords(f->data) : buf;
  Status st = backend_.ReadPages(ino.id, f->index, 1, words);
  TracePage<uint64_t>(sched::EventKind::kIo, "backend read", ino.id, f->index, nullptr);
  if (st.ok()) {
    if (!in_place) CopyIn(f->data, buf, kPageWords);
    SetFlag(f, kUptodate);
    TracePage(sched::EventKind::kFolio, "uptodate", ino.id, f->index, words);
  }
  if (!keep_locked) Unlock(f);
  return st;
}

Status PageCache::Read(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words) {
  Inode& ino = *inodes_[file];
  const uint32_t last = (sector + count - 1) / kSectorsPerPage;
  for (uint32_t index = sector / kSectorsPerPage; index <= last; ++index) {
    Result<Folio*> folio = GetReadFolio(ino, index, last - index + 1);
    if (!folio.ok()) return folio.status();
    Folio* f = *folio;
    const Clip c = ClipToPage(sector, count, index);
    CopyOut(words + c.buf_word, f->data + c.page_word, c.words);
    Put(f);
  }
  return Status::Ok();
}

// filemap_get_pages for one page: an uptodate folio with a reference.
Result<Folio*> PageCache::GetReadFolio(Inode& ino, uint32_t index, uint32_t req_pages) {
  for (uint32_t attempt = 0; attempt < kRetriesMax; ++attempt) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr && config_.ra_pages > 0) {
      // page_cache_sync_ra: a window of at least the request.
      const uint32_t nr = std::min(std::max(req_pages, config_.ra_pages), kRaPagesMax);
      PR_RETURN_IF_ERROR(ReadaheadRange(ino, index, nr, nr / 2));
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
      PR_RETURN_IF_ERROR(ReadaheadRange(ino, index + 1, config_.ra_pages, config_.ra_pages / 2));
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
  const bool lock = config_.mutant != Mutant::kNoInvalidateLockRead;
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
  const bool lock = config_.mutant != Mutant::kNoInvalidateLockUpdate;
  if (lock) ino.invalidate_lock.LockShared();
  if (!TryLock(f)) {
    if (lock) ino.invalidate_lock.UnlockShared();
    WaitClear(f, kLocked);  // folio_put_wait_locked
    Put(f);
    return static_cast<Folio*>(nullptr);
  }
  Status st;
  bool retry = false;
  if (f->mapping.load(std::memory_order_acquire) == nullptr) {
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

// page_cache_ra_unbounded: add up to `nr` folios from `index` (skipping
// present ones) and read them, under invalidate_lock shared. The folio at
// nr - lookahead gets PG_readahead.
Status PageCache::ReadaheadRange(Inode& ino, uint32_t index, uint32_t nr, uint32_t lookahead) {
  const bool lock = config_.mutant != Mutant::kNoInvalidateLockReadahead;
  std::vector<Folio*> batch;
  batch.reserve(nr);
  Status st;
  if (lock) ino.invalidate_lock.LockShared();
  for (uint32_t i = 0; i < nr && index + i < config_.file_pages && st.ok(); ++i) {
    if (ino.pages[index + i].load(std::memory_order_acquire) != nullptr) {
      st = ReadPages(ino, batch);
      continue;
    }
    Folio* f = Alloc();
    if (!AddToPageCache(ino, f, index + i)) {
      st = ReadPages(ino, batch);
      continue;
    }
    sched::At(sched::Point::kReadaheadAfterAdd);
    if (lookahead > 0 && i == nr - lookahead) SetFlag(f, kReadahead);
    batch.push_back(f);
  }
  Status rest = ReadPages(ino, batch);
  if (lock) ino.invalidate_lock.UnlockShared();
  return st.ok() ? rest : st;
}

// read_pages: submit the batch. Readahead I/O is REQ_RAHEAD and may fail
// fast (ra_fail): that folio is unlocked !uptodate, for a later
// filemap_update_page to read.
Status PageCache::ReadPages(Inode& ino, std::vector<Folio*>& batch) {
  Status st;
  for (Folio* f : batch) {
    if (config_.ra_fail > 0 && sched::ThreadRng().Chance(config_.ra_fail, 4)) {
      TracePage<uint64_t>(sched::EventKind::kIo, "readahead I/O fails fast:", ino.id, f->index, nullptr);
      ClearFlag(f, kReadahead);
      Unlock(f);
    } else {
      Status one = ReadFolio(ino, f, /*keep_locked=*/false);
      if (st.ok()) st = one;
    }
    Put(f);
  }
  batch.clear();
  return st;
}

Status PageCache::Readahead(uint32_t file, uint32_t sector, uint32_t count) {
  Inode& ino = *inodes_[file];
  const uint32_t first = sector / kSectorsPerPage;
  const uint32_t last = (sector + count - 1) / kSectorsPerPage;
  sched::At(sched::Point::kBackendIo);
  PR_RETURN_IF_ERROR(backend_.Advise(file, uint64_t{sector} * kSectorBytes, uint64_t{count} * kSectorBytes,
                                     POSIX_FADV_WILLNEED));
  return ReadaheadRange(ino, first, last - first + 1, 0);  // force_page_cache_ra
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

// generic_perform_write under i_rwsem: write_begin (read a partial
// !uptodate page first), copy, mark uptodate and dirty, write_end.
Status PageCache::Write(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words) {
  Inode& ino = *inodes_[file];
  const uint32_t last = (sector + count - 1) / kSectorsPerPage;
  Status st;
  ino.i_rwsem.Lock();
  for (uint32_t index = sector / kSectorsPerPage; index <= last && st.ok(); ++index) {
    Result<Folio*> folio = GetWriteFolio(ino, index);
    if (!folio.ok()) {
      st = folio.status();
      break;
    }
    Folio* f = *folio;
    const Clip c = ClipToPage(sector, count, index);
    if (!c.whole_page && !Has(f, kUptodate)) st = ReadFolio(ino, f, /*keep_locked=*/true);
    if (st.ok()) {
      CopyIn(f->data + c.page_word, words + c.buf_word, c.words);
      SetFlag(f, kUptodate | kDirty);
      TracePage(sched::EventKind::kFolio, "dirty", ino.id, index, f->data);
    }
    Unlock(f);
    Put(f);
  }
  ino.i_rwsem.Unlock();
  return st;
}

// ext4_punch_hole with block size = sector: write back the range, then under
// i_rwsem and invalidate_lock (both exclusive) truncate the page cache and
// free the blocks.
Status PageCache::Punch(uint32_t file, uint32_t sector, uint32_t count) {
  Inode& ino = *inodes_[file];
  const uint64_t lstart = uint64_t{sector} * kSectorBytes;
  const uint64_t lend = lstart + uint64_t{count} * kSectorBytes - 1;
  PR_RETURN_IF_ERROR(WritebackRange(ino, lstart / kPageBytes, lend / kPageBytes, /*sync=*/true));
  ino.i_rwsem.Lock();
  ino.invalidate_lock.Lock();
  TruncateRange(ino, lstart, lend);
  sched::At(sched::Point::kPunchAfterTruncate);
  for (uint64_t p = lstart / kPageBytes; p <= lend / kPageBytes; ++p)
    ino.backend_written.fetch_or(uint64_t{1} << p, std::memory_order_relaxed);
  Status st = backend_.Punch(file, lstart, lend - lstart + 1);
  sched::Note(sched::EventKind::kIo, [&] {
    return "backend punch f" + std::to_string(file) + " s" + std::to_string(sector) + "+" + std::to_string(count);
  });
  ino.invalidate_lock.Unlock();
  ino.i_rwsem.Unlock();
  return st;
}

// truncate_inode_pages_range: PASS 1 (trylock), the partial edge folios,
// PASS 2 (blocking, restarts until the range is empty).
void PageCache::TruncateRange(Inode& ino, uint64_t lstart, uint64_t lend) {
  uint32_t start = static_cast<uint32_t>((lstart + kPageBytes - 1) / kPageBytes);
  uint32_t end = static_cast<uint32_t>((lend + 1) / kPageBytes);
  for (uint32_t index = start; index < end; ++index) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr) continue;
    if (TryLock(f)) {
      if (!Has(f, kWriteback)) TruncateFolio(ino, f);
      Unlock(f);
    }
    Put(f);
  }
  const bool same_folio = lstart / kPageBytes == lend / kPageBytes;
  if (Folio* f = LookupLocked(ino, static_cast<uint32_t>(lstart / kPageBytes))) {
    TruncatePartial(ino, f, lstart, lend);
    Unlock(f);
    Put(f);
  }
  if (!same_folio) {
    if (Folio* f = LookupLocked(ino, static_cast<uint32_t>(lend / kPageBytes))) {
      TruncatePartial(ino, f, lstart, lend);
      Unlock(f);
      Put(f);
    }
  }
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
      WaitClear(f, kWriteback);
      TruncateFolio(ino, f);
      Unlock(f);
    }
    index = batch.back()->index + 1;
    for (Folio* f : batch) Put(f);
  }
}

// truncate_inode_partial_folio (order 0): wait for writeback, then remove the
// folio if the range covers it, else zero the covered part in the cache.
void PageCache::TruncatePartial(Inode& ino, Folio* f, uint64_t lstart, uint64_t lend) {
  const uint64_t pos = uint64_t{f->index} * kPageBytes;
  const uint64_t offset = pos < lstart ? lstart - pos : 0;
  const uint64_t length = pos + kPageBytes <= lend ? kPageBytes - offset : lend + 1 - pos - offset;
  WaitClear(f, kWriteback);
  if (length == kPageBytes) {
    TruncateFolio(ino, f);
    return;
  }
  Zero(f->data + offset / 8, length / 8);
  TracePage(sched::EventKind::kFolio, "zero part of", ino.id, f->index, f->data);
}

// Writeback of the dirty folios of pages [first, last]. sync waits for
// writeback already in flight (WB_SYNC_ALL); otherwise such folios are
// skipped.
Status PageCache::WritebackRange(Inode& ino, uint32_t first, uint32_t last, bool sync) {
  Status st;
  for (uint32_t index = first; index <= last && index < config_.file_pages; ++index) {
    Folio* f = Lookup(ino, index);
    if (f == nullptr) continue;
    if (!Has(f, kDirty)) {
      Put(f);
      continue;
    }
    Lock(f);
    if (f->mapping.load(std::memory_order_acquire) != &ino || !Has(f, kDirty) ||
        (!sync && Has(f, kWriteback))) {
      Unlock(f);
      Put(f);
      continue;
    }
    WaitClear(f, kWriteback);
    ClearFlag(f, kDirty);  // folio_clear_dirty_for_io
    SetFlag(f, kWriteback);
    Unlock(f);
    sched::At(sched::Point::kWritebackBeforeIo);
    uint64_t buf[kPageWords];
    const bool in_place = sched::Controlled();
    if (!in_place) CopyOut(buf, f->data, kPageWords);
    const uint64_t* words = in_place ? PlainWords(f->data) : buf;
    ino.backend_written.fetch_or(uint64_t{1} << index, std::memory_order_relaxed);
    Status one = backend_.WritePages(ino.id, index, 1, words);
    TracePage(sched::EventKind::kIo, "backend write", ino.id, index, words);
    if (st.ok()) st = one;
    EndWriteback(f);
    Put(f);
  }
  return st;
}

// generic_fadvise(POSIX_FADV_DONTNEED): start writeback of the range, then
// invalidate_mapping_pages over the pages fully inside it: drop folios that
// are clean, unlocked, not under writeback and otherwise unused.
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
      const bool busy = Has(f, kDirty | kWriteback) || f->refcount.load(std::memory_order_acquire) > 2;
      if (!busy) TruncateFolio(ino, f);
      Unlock(f);
    }
    Put(f);
  }
  return Status::Ok();
}

Status PageCache::WritebackAll() {
  Status st;
  for (uint32_t file = 0; file < config_.files; ++file) {
    Status one = WritebackRange(*inodes_[file], 0, config_.file_pages - 1, /*sync=*/true);
    if (st.ok()) st = one;
  }
  return st;
}

void PageCache::EvictAll() {
  for (uint32_t file = 0; file < config_.files; ++file) {
    Inode& ino = *inodes_[file];
    for (uint32_t index = 0; index < config_.file_pages; ++index) {
      if (Folio* f = LookupLocked(ino, index)) {
        TruncateFolio(ino, f);  // asserts the folio is clean
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

uint64_t PageCache::BackendWritten(uint32_t file) const {
  return inodes_[file]->backend_written.load(std::memory_order_relaxed);
}

}  // namespace pagerace
