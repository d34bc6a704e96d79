// mm/page-writeback.c and the writeback of dirty folios: dirtying,
// one folio's I/O (submit, data transfer, completion), ranges, fsync and
// the flusher's passes.
#include "harness/cache/page_cache.h"

#include "harness/cache/folio.h"

namespace pagerace {

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
Status PageCache::Fsync(uint32_t file) { return WriteAndWait(*inodes_[file], 0, config_.file_pages - 1); }

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

}  // namespace pagerace
