// mm/filemap.c: the lookup, insertion and removal of folios, the read path
// (filemap_read, create, update, ->read_folio), the buffered write path
// (generic_perform_write) and filemap_fault.
#include "harness/cache/page_cache.h"

#include "harness/base/check.h"
#include "harness/cache/folio.h"
#include "harness/oracle/tag.h"

namespace pagerace {

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

}  // namespace pagerace
