// The page-cache model: a user-space copy of Linux's mm/filemap.c,
// mm/readahead.c and mm/truncate.c paths (KERNEL_MODEL.md §1), with
// mapping->invalidate_lock, over a Backend. Each model file is an inode with
// i_rwsem, invalidate_lock and an xarray of folios; folios have a refcount,
// atomic flags (locked, uptodate, dirty, writeback, readahead) and their
// contents in relaxed atomic words (the kernel copies page data without the
// folio lock by design), so the correct model is ThreadSanitizer-clean.
// A Mutant removes one piece of synchronization at one site.
//
// Thread-safety: the operations (Read ... Evict) may run concurrently from
// any number of threads; Reset, WritebackAll, EvictAll, CachedMask and BackendWritten
// require that no operation is in progress.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "harness/backend/backend.h"
#include "harness/base/status.h"
#include "harness/cache/mutant.h"
#include "harness/program/program.h"

namespace pagerace {

struct CacheConfig {
  uint32_t files = 1;
  uint32_t file_pages = 16;
  uint32_t ra_pages = 4;  // sync readahead window on a read miss; 0: none
  uint32_t ra_fail = 0;   // quarters of readahead I/O that fail fast
  Mutant mutant = Mutant::kNone;
};

struct Folio;
struct Inode;

class PageCache {
 public:
  explicit PageCache(Backend& backend);
  ~PageCache();
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;

  // Empties the cache and applies `config`. Does not touch the backend.
  void Reset(const CacheConfig& config);

  // The operations. Ranges are in sectors and lie inside the file.
  // `words` holds count * kSectorBytes / 8 words.
  Status Read(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words);
  Status Write(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words);
  Status Punch(uint32_t file, uint32_t sector, uint32_t count);
  Status Readahead(uint32_t file, uint32_t sector, uint32_t count);
  Status Evict(uint32_t file, uint32_t sector, uint32_t count);

  // End of run: write back every dirty folio, then drop every folio.
  Status WritebackAll();
  void EvictAll();
  // Bit i set: page i of `file` is in the cache now.
  uint64_t CachedMask(uint32_t file) const;
  // Bit i set: the cache has written or punched page i of `file` in the
  // backend since Reset.
  uint64_t BackendWritten(uint32_t file) const;

 private:
  // Folio allocation. Freed folios are reused only after Reset, which stands
  // in for the RCU grace period that protects lockless lookups.
  Folio* Alloc();
  void Put(Folio* f);

  Folio* Lookup(Inode& ino, uint32_t index);
  Folio* LookupLocked(Inode& ino, uint32_t index);
  bool AddToPageCache(Inode& ino, Folio* f, uint32_t index);
  void RemoveFolio(Inode& ino, Folio* f);
  void TruncateFolio(Inode& ino, Folio* f);

  Status ReadFolio(Inode& ino, Folio* f, bool keep_locked);
  Result<Folio*> GetReadFolio(Inode& ino, uint32_t index, uint32_t req_pages);
  Result<Folio*> CreateFolio(Inode& ino, uint32_t index);
  Result<Folio*> UpdatePage(Inode& ino, Folio* f);
  Status ReadaheadRange(Inode& ino, uint32_t index, uint32_t nr, uint32_t lookahead);
  Status ReadPages(Inode& ino, std::vector<Folio*>& batch);
  Result<Folio*> GetWriteFolio(Inode& ino, uint32_t index);
  void TruncateRange(Inode& ino, uint64_t lstart, uint64_t lend);
  void TruncatePartial(Inode& ino, Folio* f, uint64_t lstart, uint64_t lend);
  Status WritebackRange(Inode& ino, uint32_t first, uint32_t last, bool sync);

  Backend& backend_;
  CacheConfig config_;
  std::vector<std::unique_ptr<Inode>> inodes_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Folio>> folios_;  // every folio ever made
  std::vector<Folio*> free_;                    // reusable (filled by Reset)
};

}  // namespace pagerace
