// Direct I/O: mm/filemap.c's kiocb_write_and_wait and kiocb_invalidate_pages
// around fs/iomap/direct-io.c's __iomap_dio_rw, as ext4 and xfs run it for
// whole, aligned pages. The I/O moves between the caller's buffer and the
// storage; the page cache is written back before it, and, for a write,
// invalidated before and after it. Direct I/O takes no invalidate_lock: a
// fault or read may refill the range while the I/O runs, which is what the
// invalidation after it is for.
#include "harness/cache/page_cache.h"

#include "harness/cache/folio.h"

namespace pagerace {

// filemap_write_and_wait_range over pages [first, last] (fsync's too).
Status PageCache::WriteAndWait(Inode& ino, uint32_t first, uint32_t last) {
  Status st = WritebackRange(ino, first, last, /*sync=*/true);
  for (uint32_t index = first; index <= last; ++index) {
    if (Folio* f = Lookup(ino, index)) {
      WaitClear(f, kWriteback);
      Put(f);
    }
  }
  return st;
}

// invalidate_inode_pages2_range over pages [first, last]: each cached folio
// is locked, its writeback waited for, its PTE zapped, and it is removed
// unless it is dirty (a store dirtied it since the range was written back:
// invalidate_complete_folio2 fails, -EBUSY). False if one could not go.
bool PageCache::InvalidatePages2(Inode& ino, uint32_t first, uint32_t last) {
  bool all = true;
  for (uint32_t index = first; index <= last; ++index) {
    Folio* f = LookupLocked(ino, index);
    if (f == nullptr) continue;
    WaitClear(f, kWriteback);
    if (MapcountOf(f) > 0) UnmapFolio(ino, f);
    if (Has(f, kDirty)) {
      all = false;
    } else {
      f->blocks_valid = false;
      ClearFlag(f, kReadahead);
      RemoveFolio(ino, f);
    }
    Unlock(f);
    Put(f);
  }
  return all;
}

// One page of a direct I/O up to its data transfer: map its blocks (a write
// allocates the holes, under i_data_sem exclusive on a block-mapped
// backend), with room for other threads after the submission and before the
// transfer, which the caller makes.
Backend::PageMap PageCache::DirectMap(Inode& ino, uint32_t index, bool write) {
  Backend::PageMap map;
  const bool create = write && backend_.BlockMapped();
  if (create) {
    ino.i_data_sem.Lock();
  } else {
    ino.i_data_sem.LockShared();
  }
  Observable();
  backend_.MapPage(ino.id, index, create, 0, kSectorsPerPage, map);
  if (create) {
    ino.i_data_sem.Unlock();
  } else {
    ino.i_data_sem.UnlockShared();
  }
  sched::At(sched::Point::kDirectBeforeIo);
  Observable();
  return map;
}

// read(2) with O_DIRECT (generic_file_read_iter's IOCB_DIRECT branch, then
// iomap_dio_rw) under i_rwsem shared: stop at the end of the file, write the
// range back and wait, then read the storage.
Status PageCache::DioRead(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words, uint32_t* done) {
  Inode& ino = *inodes_[file];
  ino.i_rwsem.LockShared();
  const uint32_t end = std::min(sector + count, SizeOf(ino));
  Status st;
  if (sector < end) {
    const uint32_t first = sector / kSectorsPerPage, last = (end - 1) / kSectorsPerPage;
    if (config_.mutant != Mutant::kDioReadNoWriteback) st = WriteAndWait(ino, first, last);
    for (uint32_t index = first; index <= last && st.ok(); ++index) {
      const Backend::PageMap map = DirectMap(ino, index, /*write=*/false);
      const Backend::PageMap* maps[1] = {&map};
      uint64_t* pages[1] = {words + size_t{index - first} * kPageWords};
      st = backend_.ReadMapped(maps, pages);
    }
  }
  ino.i_rwsem.UnlockShared();
  if (done != nullptr) *done = sector < end ? end - sector : 0;
  return st;
}

// write(2) with O_DIRECT (xfs_file_dio_write_aligned, ext4_dio_write_iter):
// i_rwsem shared inside the file, exclusive to extend it (the gap from the
// old end is zeroed first, as a buffered write does); write back and wait,
// invalidate; the I/O; the new size; invalidate again. A folio dirtied
// before the first invalidation makes the write fall back to a buffered one
// (-ENOTBLK). One dirtied before the second stays, with what it held before
// the I/O: the kernel warns ("Page cache invalidation failure on direct
// I/O. Possible data corruption due to collision with buffered I/O!",
// dio_warn_stale_pagecache), and so does the trace here.
Status PageCache::DioWrite(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words) {
  Inode& ino = *inodes_[file];
  const uint32_t first = sector / kSectorsPerPage, last = (sector + count - 1) / kSectorsPerPage;
  const uint32_t end = sector + count;
  bool exclusive = config_.resizes && end > SizeOf(ino);
  if (exclusive) {
    ino.i_rwsem.Lock();
  } else {
    ino.i_rwsem.LockShared();
    if (config_.resizes && end > SizeOf(ino)) {  // a truncate cut the file since: extend it
      ino.i_rwsem.UnlockShared();
      ino.i_rwsem.Lock();
      exclusive = true;
    }
  }
  auto unlock = [&] {
    if (exclusive) {
      ino.i_rwsem.Unlock();
    } else {
      ino.i_rwsem.UnlockShared();
    }
  };
  if (exclusive && sector > SizeOf(ino)) ZeroPastEof(ino, SizeOf(ino));
  Status st = WriteAndWait(ino, first, last);
  if (st.ok() && !InvalidatePages2(ino, first, last)) {
    unlock();
    TracePage<uint64_t>(sched::EventKind::kFolio, "direct write falls back to buffered at", ino.id, first, nullptr);
    return Write(file, sector, count, words);
  }
  for (uint32_t index = first; index <= last && st.ok(); ++index) {
    const Backend::PageMap map = DirectMap(ino, index, /*write=*/true);
    const uint64_t* page = words + size_t{index - first} * kPageWords;
    ino.backend_written.fetch_or(uint64_t{1} << index, std::memory_order_relaxed);
    st = backend_.WriteMapped(map, page);
    TracePage(sched::EventKind::kIo, "direct write", ino.id, index, page);
  }
  if (st.ok() && exclusive && end > SizeOf(ino)) SetSize(ino, end);
  if (st.ok() && config_.mutant != Mutant::kDioWriteNoInvalidateAfter && !InvalidatePages2(ino, first, last))
    TracePage<uint64_t>(sched::EventKind::kFolio, "direct write: page cache invalidation failure from", ino.id,
                        first, nullptr);
  unlock();
  return st;
}

}  // namespace pagerace
