// mm/truncate.c and the filesystem's truncate and hole-punch paths: punch
// (FALLOC_FL_PUNCH_HOLE and ZERO_RANGE), truncate and the file's size,
// truncate_inode_pages_range with its partial pages, the freeing of blocks,
// and invalidate_mapping_pages (fadvise DONTNEED).
#include "harness/cache/page_cache.h"

#include "harness/base/check.h"
#include "harness/cache/folio.h"

namespace pagerace {

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
  if (sched::Tracing())
    sched::Record(sched::EventKind::kIo, "backend punch f" + std::to_string(ino.id) + " s" +
                                             std::to_string(lstart / kSectorBytes) + "+" +
                                             std::to_string((lend + 1 - lstart) / kSectorBytes));
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

// ext4_collapse_range and ext4_insert_range (xfs_collapse_file_space and
// xfs_insert_file_space alike) over whole pages, under i_rwsem exclusive
// (inode_dio_wait: the model's direct I/O holds i_rwsem shared, so none
// runs) and invalidate_lock exclusive. The kernel's checks against the size
// come first: a collapse must end before the end of the file, an insert
// start before it and keep the file within its largest size. Then write
// back from the offset to the end of the file and wait, and
// truncate_pagecache from the offset (unmap, truncate the cache, unmap
// again): no cached page may keep the data of the offset it had before the
// move. An insert grows the size first (ext4 does, so that an error in the
// middle loses nothing); then the blocks move under i_data_sem; a collapse
// shrinks the size last.
Status PageCache::Shift(uint32_t file, uint32_t sector, uint32_t count, bool insert, bool* refused,
                        uint32_t* new_size) {
  Inode& ino = *inodes_[file];
  const uint32_t capacity = config_.file_pages * kSectorsPerPage;
  ino.i_rwsem.Lock();
  const uint32_t size = SizeOf(ino);
  if (insert ? sector >= size || size + count > capacity : sector + count >= size) {
    ino.i_rwsem.Unlock();
    *refused = true;
    return Status::Ok();
  }
  const bool lock = TakesInvalidateLock(Site::kShift);
  if (lock) ino.invalidate_lock.Lock();
  const uint32_t page = sector / kSectorsPerPage, pages = count / kSectorsPerPage;
  Status st = WriteAndWait(ino, page, config_.file_pages - 1);
  ZapRange(ino, page, config_.file_pages);
  TruncateRange(ino, uint64_t{sector} * kSectorBytes, uint64_t{capacity} * kSectorBytes - 1, nullptr);
  ZapRange(ino, page, config_.file_pages);
  *new_size = insert ? size + count : size - count;
  if (insert) SetSize(ino, *new_size);
  sched::At(sched::Point::kShiftBeforeMove);
  ino.i_data_sem.Lock();
  for (uint32_t p = page; p < config_.file_pages; ++p)
    ino.backend_written.fetch_or(uint64_t{1} << p, std::memory_order_relaxed);
  Observable();
  if (Status moved = backend_.Shift(file, page, pages, config_.file_pages, insert); st.ok()) st = moved;
  if (sched::Tracing())
    sched::Record(sched::EventKind::kIo, std::string("backend ") + (insert ? "insert" : "collapse") + " f" +
                                             std::to_string(file) + " s" + std::to_string(sector) + "+" +
                                             std::to_string(count));
  Observable();
  backend_.CommitFreed(file);
  if (!insert) SetSize(ino, *new_size);
  ino.i_data_sem.Unlock();
  if (lock) ino.invalidate_lock.Unlock();
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

}  // namespace pagerace
