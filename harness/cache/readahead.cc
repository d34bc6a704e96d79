// mm/readahead.c and mm/fadvise.c: readahead windows, their batched I/O
// and the ways to start one (a read miss, PG_readahead, readahead(2),
// fadvise and madvise WILLNEED).
#include "harness/cache/page_cache.h"

#include <fcntl.h>

#include "harness/cache/folio.h"

namespace pagerace {

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

}  // namespace pagerace
