#include "harness/cache/mutant.h"

#include <array>

namespace pagerace {
namespace {

constexpr std::array<MutantInfo, 24> kMutants = {{
    {Mutant::kNoInvalidateLockRead, "no-invalidate-lock-read",
     "730633f0b7f9 mm: Protect operations adding pages to page cache with invalidate_lock "
     "(filemap_create_folio)",
     "read(2) misses, adds a folio and maps the old blocks between the punch's "
     "truncate_inode_pages_range and the freeing of the blocks",
     "STALE: pre-punch data cached after the punch returned; FOREIGN on blockmap once the freed "
     "block is another file's"},
    {Mutant::kNoInvalidateLockUpdate, "no-invalidate-lock-update",
     "730633f0b7f9 mm: Protect operations adding pages to page cache with invalidate_lock "
     "(filemap_update_page)",
     "read(2) finds a !uptodate folio (failed readahead) at the punch's partial edge and reads it "
     "from the old blocks after the punch zeroed the edge in the cache",
     "STALE: pre-punch data in the punched sectors after the punch returned"},
    {Mutant::kNoInvalidateLockReadahead, "no-invalidate-lock-readahead",
     "730633f0b7f9 mm: Protect operations adding pages to page cache with invalidate_lock "
     "(page_cache_ra_unbounded); cf. 40144e49ff84 xfs: Fix stale data exposure when readahead "
     "races with hole punch",
     "fadvise(WILLNEED) or read readahead adds folios and reads the old blocks between the "
     "punch's truncate and the freeing of the blocks",
     "STALE: pre-punch data cached after the punch returned"},
    {Mutant::kNoInvalidateLockFault, "no-invalidate-lock-fault",
     "730633f0b7f9 mm: Protect operations adding pages to page cache with invalidate_lock "
     "(filemap_fault); before it ea3d7209ca01 ext4: fix races between page faults and hole punching",
     "a load faults on a hole being punched, creates the folio and reads the old blocks between the "
     "truncate and the freeing; the PTE stays, the punch's unmap has already run",
     "STALE: loads (and reads) see pre-punch data after the punch returned"},
    {Mutant::kNoInvalidateLockMkwrite, "no-invalidate-lock-mkwrite",
     "ea3d7209ca01 ext4: fix races between page faults and hole punching (ext4_page_mkwrite "
     "under i_mmap_sem, now invalidate_lock)",
     "a store's page_mkwrite on the punch's partial edge page maps the blocks the punch is about to "
     "free and keeps them in the folio; writeback later writes through that mapping",
     "FOREIGN/LOST on blockmap: the store lands in a block another file has reused"},
    {Mutant::kFadviseBypass, "fadvise-bypass",
     "40144e49ff84 xfs: Fix stale data exposure when readahead races with hole punch; "
     "692fe62433d4 mm: Handle MADV_WILLNEED through vfs_fadvise()",
     "fadvise(WILLNEED), madvise(WILLNEED) or readahead(2) force readahead without the lock that "
     "read(2) and faults take, and fill the hole after the punch evicted it",
     "STALE: pre-punch data cached after the punch returned"},
    {Mutant::kPunchWithoutInvalidateLock, "punch-without-invalidate-lock",
     "5.15 series: ceph/cifs \"Fix race between hole punch and page fault\" (the filesystem's "
     "punch must hold invalidate_lock exclusive)",
     "the punch truncates and frees blocks while readers, faults and readahead hold invalidate_lock "
     "shared, so they re-create pages from the old blocks in between",
     "STALE: pre-punch data cached after the punch returned"},
    {Mutant::kFaultNoMappingRecheck, "fault-no-mapping-recheck",
     "d00806b18315 mm: fix fault vs invalidate race for linear mappings",
     "filemap_fault locks a folio the punch has just removed and maps it without checking "
     "folio->mapping; the PTE then points at a page that is no longer the file's",
     "STALE (LEFT mapping): loads through the mapping see pre-punch data; LOST: stores through it"},
    {Mutant::kTruncateTrylockOnly, "truncate-trylock-only",
     "83eaea22bdfc Revert \"ceph: don't truncate dirty pages in invalidate work thread\" "
     "(truncate must not skip locked pages)",
     "truncate_inode_pages_range skips folios it cannot trylock (a read or readahead holds them) "
     "and never comes back for them",
     "STALE: a punched page stays cached with pre-punch data"},
    {Mutant::kTruncateNoWritebackWait, "truncate-no-writeback-wait",
     "design rule of truncate_inode_pages_range (folio_wait_writeback in PASS 2 and the partial "
     "folio path); docs/model.md, Mutants",
     "the punch removes a folio under writeback and frees its blocks; the late write-back puts the "
     "old data back after the punch",
     "STALE: pre-punch data in the backend after the punch returned"},
    {Mutant::kReadFolioUnlocked, "read-folio-unlocked",
     "design rule of filemap_update_page (->read_folio only under the folio lock); "
     "docs/model.md, Mutants",
     "filemap_update_page reads a folio whose lock another thread holds (readahead I/O in flight) "
     "and unlocks it at the end, so a punch zeroes the edge before the first I/O lands",
     "ASSERT: ->read_folio on a folio that is unlocked or already uptodate (the kernel's VM_BUG_ONs), "
     "or STALE at the punch's partial edge; ThreadSanitizer: the unlocked fill racing with a write into the folio"},
    {Mutant::kMkwriteUnlockBeforeDirty, "mkwrite-unlock-before-dirty",
     "b827e496c893 mm: close page_mkwrite races",
     "page_mkwrite returns with the folio unlocked; the punch removes it before the fault makes the "
     "PTE writable, and the store goes to a page that is no longer the file's",
     "LOST: a store that completed after the punch is nowhere; loads through the mapping see it"},
    {Mutant::kPunchLockInversion, "punch-data-sem-first",
     "lock order i_rwsem -> invalidate_lock -> folio lock -> i_data_sem (xfs_ilock comment; "
     "syzbot invalidate_lock inversions, e.g. ntfs3 ni_lock)",
     "the punch takes i_data_sem before invalidate_lock while ->read_folio takes i_data_sem under "
     "invalidate_lock shared",
     "DEADLOCK: punch and reader wait for each other"},
    {Mutant::kDoubleTruncate, "double-truncate-band-aid",
     "e251f9bca99c ext4: avoid exposure of stale data in ext4_punch_hole() (the band-aid before "
     "invalidate_lock)",
     "no invalidate_lock on any read path; the punch truncates the page cache again after freeing "
     "the blocks, which hides stale pages but not reads that map the old blocks first",
     "FOREIGN on blockmap: a read returns the data of the file that reused the block"},
    {Mutant::kFaultTakesIRwsem, "fault-takes-i-rwsem",
     "8e205f779d14 shmem: fix faulting into a hole, not taking i_mutex (the first fix of "
     "f00cdc6df7d7 took i_mutex in the fault)",
     "write(2) holds i_rwsem and prefaults its buffer, a shared mapping of the same file; the "
     "fault takes i_rwsem again",
     "DEADLOCK: the writer waits for itself"},
    {Mutant::kWritebackCleanAfterIo, "writeback-clean-after-io",
     "7658cc289288 VM: Fix nasty and subtle race in shared mmap'ed page writeback (the page is "
     "cleaned with clear_page_dirty_for_io before the I/O, not after)",
     "writeback clears the dirty bit after the device took the page's data; a write or store that "
     "lands between the transfer and the clear leaves a clean page newer than the disk",
     "LOST: the write never reaches the backend once the clean page is evicted; STALE if a read "
     "refills it first"},
    {Mutant::kPunchKeepsEdgeBlocks, "punch-keeps-edge-blocks",
     "block_invalidate_folio on a punch's partial edge (fs/buffer.c discard_buffer clears "
     "BH_Mapped; ext4_punch_hole relies on it through truncate_pagecache_range)",
     "the partial edge folio stays cached with the block mapping of the sectors the punch freed; a "
     "later write or writeback of it goes through that mapping into blocks another file reused",
     "FOREIGN or LOST on blockmap: the other file's sectors are overwritten"},
    {Mutant::kMapPagesNotUptodate, "map-pages-not-uptodate",
     "8c6e50b0290c mm: introduce vm_ops->map_pages() (fault-around maps only uptodate pages)",
     "fault-around maps a folio whose readahead I/O failed fast (or is still unfilled), so loads "
     "read memory no I/O or write has filled",
     "UNINIT: loads see the folio's unfilled memory"},
    {Mutant::kFaultNoSizeRecheck, "fault-no-size-recheck",
     "d00806b18315 mm: fix fault vs invalidate race for linear mappings (filemap_fault: \"We must "
     "recheck i_size under page lock\")",
     "a fault passes the size check, then waits for invalidate_lock while a truncate shrinks the "
     "file, unmaps and truncates the cache; it then creates and maps a page past the new end",
     "SIZE: a later load or store through that PTE succeeds past the end of the file, where it must "
     "raise SIGBUS"},
    {Mutant::kMapPagesPastEof, "map-pages-past-eof",
     "74207de2ba10 mm/memory: do not populate page table entries beyond i_size (filemap_map_pages's "
     "end of file and next_uptodate_folio's max_idx)",
     "fault-around maps every uptodate folio of its window, also one past the end of the file (a "
     "read or readahead that raced a truncate left it there)",
     "SIZE: a load through that PTE succeeds past the end of the file, where it must raise SIGBUS"},
    {Mutant::kExtendKeepsEofTail, "extend-keeps-eof-tail",
     "\"mm: zero range of eof folio exposed by inode size extension\" (pagecache_isize_extended "
     "zeroes the last folio past the old size; xfstests generic/363, fsx mapped writes past EOF)",
     "a store through the mapping writes the last page past the end of the file, which is never "
     "the file's; a truncate up or a write past the end then exposes those bytes",
     "STALE: a read after the extension sees a store's data, never the file's, where it must read "
     "zeros"},
    {Mutant::kDioReadNoWriteback, "dio-read-no-writeback",
     "the flush before a direct read in generic_file_read_iter (filemap_write_and_wait_range, now "
     "kiocb_write_and_wait), which every direct read path needs (FUSE's and NFS's have their own)",
     "a buffered write or store leaves the range dirty in the cache; a direct read that does not "
     "write it back first reads the storage under it",
     "STALE: the direct read misses a write that completed before it began"},
    {Mutant::kDioWriteNoInvalidateAfter, "dio-write-no-invalidate-after",
     "332391a9935d fs: Fix page cache inconsistency when mixing buffered and AIO DIO; c771c14baa33 "
     "iomap: invalidate page caches should be after iomap_dio_complete() in direct write (xfstests "
     "generic/418)",
     "a read or fault refills the range from the storage while the direct write's I/O runs (direct "
     "I/O takes no invalidate_lock); without the invalidation after the I/O the cache keeps the "
     "old data",
     "STALE: a buffered read after the direct write returns the data it replaced; LOST once a store "
     "dirties that page and writeback puts it over the write"},
    {Mutant::kShiftWithoutInvalidateLock, "shift-without-invalidate-lock",
     "32ebffd3bbb4 ext4: fix races between buffered IO and collapse / insert range (with ea3d7209ca01's "
     "i_mmap_sem, now invalidate_lock, 730633f0b7f9)",
     "collapse or insert writes back and truncates the cache from its offset, then moves the blocks; "
     "without invalidate_lock a fault or read refills a page from the blocks not yet moved, or a store "
     "dirties a page that the truncation then drops",
     "STALE: a page cached from before the move keeps what the blocks held at that offset; LOST: a "
     "store's data dropped instead of moved"},
}};

}  // namespace

std::span<const MutantInfo> MutantTable() { return kMutants; }

const MutantInfo* InfoOf(Mutant mutant) {
  for (const MutantInfo& m : kMutants)
    if (m.id == mutant) return &m;
  return nullptr;
}

std::optional<Mutant> MutantFromName(std::string_view name) {
  if (name.empty() || name == "none") return Mutant::kNone;
  for (const MutantInfo& m : kMutants)
    if (name == m.name) return m.id;
  return std::nullopt;
}

}  // namespace pagerace
