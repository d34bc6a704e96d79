// The model's state and what every path uses: reset, i_size, the folio
// allocator and references (mm/page_alloc.c, mm/swap.c), the filesystem's
// block mapping (get_block), and the end-of-run calls.
#include "harness/cache/page_cache.h"

#include <memory>

#include "harness/base/check.h"
#include "harness/cache/folio.h"
#include "harness/oracle/tag.h"

namespace pagerace {

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
    case Mutant::kShiftWithoutInvalidateLock: return site != Site::kShift;
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
  if (sched::Tracing())
    sched::Record(sched::EventKind::kNote, std::string("ASSERT ") + what + " (" + PageName(file, index) + ")");
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
  if (sched::Tracing())
    sched::Record(sched::EventKind::kFolio, "size f" + std::to_string(ino.id) + " s" + std::to_string(size));
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
