// The page-cache model: a user-space copy of Linux's mm/filemap.c,
// mm/readahead.c, mm/truncate.c and mm/memory.c paths (docs/model.md §3),
// with mapping->invalidate_lock, over a Backend. Each model file is an inode
// with i_rwsem, invalidate_lock, i_data_sem, an xarray of folios and one
// shared mapping (a VMA with a software page table under its PTE lock);
// folios have a refcount, a map count, atomic flags (locked, uptodate,
// dirty, writeback, readahead), the block mapping the filesystem looked up
// for them (the buffer_head analogue) and their contents in relaxed atomic
// words (the kernel copies page data without the folio lock by design), so
// the correct model is ThreadSanitizer-clean. A Mutant removes or reorders
// one piece of synchronization (mutant.h).
//
// The definitions are split as mm/ is, one path a file (filemap.cc,
// readahead.cc, truncate.cc, memory.cc, page_writeback.cc, direct_io.cc;
// docs/model.md).
//
// The kernel's BUG_ON/WARN_ON checks (docs/model.md §5) do not stop the
// model: like a production kernel it carries on, and the first failure is
// kept for the run's report (assertion()).
//
// Thread-safety: the operations (Read ... WriteMapped, Flush) may run
// concurrently from any number of threads; Reset and the end-of-run calls
// (WritebackAll ... assertion) require that no operation is in progress.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
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
  bool flusher = false;   // a flusher thread waits in WaitDirty: wake it on every dirtying
  // The program has size ops (truncate): i_size changes, so every read of it
  // is a scheduling point. Without them it never changes, and its reads
  // pass none (they could not see another thread's transition).
  bool resizes = false;
  Mutant mutant = Mutant::kNone;
  // The run's stamp counter (the executor's), read to date an assertion; may
  // be null.
  const std::atomic<uint64_t>* clock = nullptr;
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

  // The operations. Ranges are in sectors and lie inside the largest file
  // (CacheConfig::file_pages); each file starts that large. `words` holds
  // count * kSectorBytes / 8 words. *done: the sectors from the first that
  // the op covered: a read stops at the end of the file; a load or store
  // stops at a page at or past it, with *sigbus set (an outcome of the op,
  // not an error).
  Status Read(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words, uint32_t* done = nullptr);
  Status Write(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words);
  Status Punch(uint32_t file, uint32_t sector, uint32_t count);
  Status Readahead(uint32_t file, uint32_t sector, uint32_t count);      // fadvise(WILLNEED)
  Status Evict(uint32_t file, uint32_t sector, uint32_t count);
  Status Load(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words, uint32_t* done = nullptr,
              bool* sigbus = nullptr);
  Status Store(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words, uint32_t* done = nullptr,
               bool* sigbus = nullptr);
  Status Fsync(uint32_t file);
  Status Madvise(uint32_t file, uint32_t sector, uint32_t count);       // madvise(MADV_WILLNEED)
  Status SysReadahead(uint32_t file, uint32_t sector, uint32_t count);  // readahead(2)
  Status WriteMapped(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words,
                     uint32_t* done = nullptr);
  Status Truncate(uint32_t file, uint32_t size);  // ftruncate(2) to `size` sectors
  // fallocate(COLLAPSE_RANGE) or, with `insert`, INSERT_RANGE of whole pages;
  // `refused` when the file's size at the time forbids it (EINVAL, EFBIG);
  // else `new_size` is the size it set.
  Status Shift(uint32_t file, uint32_t sector, uint32_t count, bool insert, bool* refused, uint32_t* new_size);
  // O_DIRECT, whole pages (direct_io.cc). A read stops at the end of the file.
  Status DioRead(uint32_t file, uint32_t sector, uint32_t count, uint64_t* words, uint32_t* done = nullptr);
  Status DioWrite(uint32_t file, uint32_t sector, uint32_t count, const uint64_t* words);

  // The flusher thread: one pass writes back what is dirty now (without
  // waiting for writeback in flight); between passes it waits until a folio
  // is dirtied or Kick is called. DirtySeq is the value to wait on.
  Status Flush();
  uint32_t DirtySeq() const;
  void WaitDirty(uint32_t seen);
  void Kick();

  // End of run: write back every dirty folio, unmap every page, then drop
  // every folio.
  Status WritebackAll();
  void UnmapAll();
  void EvictAll();
  // The file's size in sectors now.
  uint32_t Size(uint32_t file) const;
  // Bit i set: page i of `file` is in the cache now.
  uint64_t CachedMask(uint32_t file) const;
  // Bit i set: page i of `file` is mapped (its PTE is present) now.
  uint64_t MappedMask(uint32_t file) const;
  // The first model assertion that failed since Reset (`what` empty if
  // none): the kernel's check, the page it was about, and the clock's value
  // then (CacheConfig::clock; 0 without one).
  struct Assertion {
    std::string what;
    uint32_t file = 0;
    uint32_t page = 0;
    uint64_t stamp = 0;
  };
  Assertion assertion() const;
  // Bit i set: the cache has written or punched page i of `file` in the
  // backend since Reset.
  uint64_t BackendWritten(uint32_t file) const;

 private:
  // Folio allocation. A freed folio is reused at once (Put), while lockless
  // lookups may still hold its address, as struct pages are.
  Folio* Alloc();
  void Get(Folio* f);
  void Put(Folio* f);

  // Where the model takes invalidate_lock; a mutant may drop it at one.
  enum class Site : uint8_t { kCreate, kUpdate, kReadahead, kForcedReadahead, kFault, kMkwrite, kPunch, kShift };
  bool TakesInvalidateLock(Site site) const;
  void ModelCheck(bool ok, const Inode& ino, uint32_t index, const char* what);
  void ModelCheck(bool ok, uint32_t file, uint32_t index, const char* what);

  Folio* Lookup(Inode& ino, uint32_t index);
  Folio* LookupLocked(Inode& ino, uint32_t index);
  Folio* GetOrCreate(Inode& ino, uint32_t index);
  bool AddToPageCache(Inode& ino, Folio* f, uint32_t index);
  void RemoveFolio(Inode& ino, Folio* f);
  void TruncateFolio(Inode& ino, Folio* f);

  void MapBlocks(Inode& ino, Folio* f, bool create, uint32_t first, uint32_t end);
  void EnsureBlocks(Inode& ino, Folio* f, uint32_t first, uint32_t end);
  Status ReadFolio(Inode& ino, Folio* f, bool keep_locked);
  Result<Folio*> GetReadFolio(Inode& ino, uint32_t index, uint32_t req_pages);
  Result<Folio*> CreateFolio(Inode& ino, uint32_t index);
  Result<Folio*> UpdatePage(Inode& ino, Folio* f);
  Status ForceReadahead(Inode& ino, uint32_t sector, uint32_t count);
  Status ReadaheadRange(Inode& ino, uint32_t index, uint32_t nr, uint32_t lookahead, Site site);
  Status ReadPages(Inode& ino, std::vector<Folio*>& batch);
  Result<Folio*> GetWriteFolio(Inode& ino, uint32_t index);
  Status WritePage(Inode& ino, uint32_t index, uint32_t sector, uint32_t count, const uint64_t* words);
  uint32_t SizeOf(const Inode& ino) const;
  void SetSize(Inode& ino, uint32_t size);
  void ZeroPastEof(Inode& ino, uint32_t old_size);
  void MarkDirty(Folio* f);
  void BumpDirtySeq();
  void TruncateRange(Inode& ino, uint64_t lstart, uint64_t lend, std::vector<Folio*>* edges);
  void TruncatePartial(Inode& ino, Folio* f, uint64_t lstart, uint64_t lend);
  Status FreeBlocks(Inode& ino, uint64_t lstart, uint64_t lend, std::vector<Folio*>& edges);
  Status WritebackRange(Inode& ino, uint32_t first, uint32_t last, bool sync);
  Status WritebackFolio(Inode& ino, Folio* f);

  // mmap (mm/memory.c and filemap_fault).
  Status Access(Inode& ino, uint32_t sector, uint32_t count, uint64_t* load, const uint64_t* store, uint32_t* done,
                bool* sigbus);
  // Ok: try the access again; kSigbus: the page is at or past the end of the file.
  enum class Fault : uint8_t { kRetry, kSigbus };
  Result<Fault> HandleFault(Inode& ino, uint32_t index, bool write);
  Result<Folio*> FilemapFault(Inode& ino, uint32_t index);  // null: SIGBUS
  bool MapPages(Inode& ino, uint32_t index);
  enum class Mkwrite : uint8_t { kLocked, kUnlocked, kNoPage, kPastEof };
  Mkwrite PageMkwrite(Inode& ino, Folio* f);
  bool FinishFault(Inode& ino, uint32_t index, Folio* f, bool writable);
  void ZapRange(Inode& ino, uint32_t first, uint32_t end);
  void UnmapFolio(Inode& ino, Folio* f);
  void MkClean(Inode& ino, Folio* f);

  // Direct I/O (direct_io.cc).
  Status WriteAndWait(Inode& ino, uint32_t first, uint32_t last);
  bool InvalidatePages2(Inode& ino, uint32_t first, uint32_t last);
  Backend::PageMap DirectMap(Inode& ino, uint32_t index, bool write);

  Backend& backend_;
  CacheConfig config_;
  std::vector<std::unique_ptr<Inode>> inodes_;

  std::atomic<uint32_t> dirty_seq_{0};
  mutable std::mutex assert_mu_;
  Assertion assertion_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Folio>> folios_;  // every folio ever made
  std::vector<Folio*> free_;                    // freed, reusable (last in, first out)
};

}  // namespace pagerace
