// mm/memory.c and mm/rmap.c: loads and stores through the shared mapping,
// the fault (with fault-around, map_pages), page_mkwrite, and the zap and
// write-protect of PTEs.
#include "harness/cache/page_cache.h"

#include "harness/cache/folio.h"

namespace pagerace {

// folio_mkclean: write-protect the folio's PTE so that the next store
// faults (and runs page_mkwrite) again.
void PageCache::MkClean(Inode& ino, Folio* f) {
  ino.ptl.Lock();
  if (ino.ptes[f->index].folio == f) SetPteWritable(ino.ptes[f->index], false);
  ino.ptl.Unlock();
}

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
      if (sched::Tracing()) sched::Record(sched::EventKind::kFolio, "SIGBUS at " + PageName(ino.id, index));
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
    // do_wp_page -> wp_page_shared: page_mkwrite (which dirties), then make
    // the PTE writable if it still maps this folio (finish_mkwrite_fault),
    // unlock.
    const Mkwrite mk = PageMkwrite(ino, present);
    if (mk == Mkwrite::kLocked || mk == Mkwrite::kUnlocked) {
      ino.ptl.Lock();
      Pte& pte = ino.ptes[index];
      const bool same = pte.folio == present;
      if (same) SetPteWritable(pte, true);
      ino.ptl.Unlock();
      if (same && mk == Mkwrite::kUnlocked) MarkDirty(present);
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
  // page_mkwrite, which returns it locked (VM_FAULT_LOCKED) and dirty after
  // re-checking the mapping; install the PTE, unlock.
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
  if (FinishFault(ino, index, f, /*writable=*/true) && mk == Mkwrite::kUnlocked) MarkDirty(f);
  if (mk == Mkwrite::kLocked) Unlock(f);
  Put(f);
  return Fault::kRetry;
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
  if (config_.mutant == Mutant::kMkwriteUnlockBeforeDirty) {
    WaitClear(f, kWriteback);
    if (lock) ino.invalidate_lock.UnlockShared();
    Unlock(f);  // before b827e496c893: the caller dirties and maps it unlocked
    return Mkwrite::kUnlocked;
  }
  // block_page_mkwrite: dirty, then wait for writeback (stable pages), all
  // before the PTE becomes writable, so that no store lands on a clean page
  // that a writeback or a direct read's flush would pass over.
  MarkDirty(f);
  WaitClear(f, kWriteback);
  if (lock) ino.invalidate_lock.UnlockShared();
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

}  // namespace pagerace
