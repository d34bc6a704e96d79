// Mutants: switchable recreations of real historical page-cache bugs. Each
// removes one piece of synchronization from the model at one site and cites
// the kernel commit that added it. Chosen by the runner (flag or
// PAGERACE_MUTANT), never by the fuzz input. The table is the only place
// mutant names are spelled.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace pagerace {

enum class Mutant : uint8_t {
  kNone,
  kNoInvalidateLockRead,       // filemap_create_folio without invalidate_lock
  kNoInvalidateLockUpdate,     // filemap_update_page without invalidate_lock
  kNoInvalidateLockReadahead,  // page_cache_ra_unbounded without invalidate_lock
  kNoInvalidateLockFault,      // filemap_fault without invalidate_lock
  kNoInvalidateLockMkwrite,    // ext4_page_mkwrite without invalidate_lock
  kFadviseBypass,              // forced readahead (fadvise/madvise/readahead(2)) without invalidate_lock
  kPunchWithoutInvalidateLock, // punch truncates without invalidate_lock exclusive
  kFaultNoMappingRecheck,      // filemap_fault trusts a folio without re-checking ->mapping
  kTruncateTrylockOnly,        // truncate_inode_pages_range without its blocking PASS 2
  kTruncateNoWritebackWait,    // truncate does not wait for writeback
  kReadFolioUnlocked,          // filemap_update_page reads a folio it could not lock
  kMkwriteUnlockBeforeDirty,   // page_mkwrite unlocks before the fault dirties and maps
  kPunchLockInversion,         // punch takes i_data_sem before invalidate_lock (ABBA)
  kDoubleTruncate,             // no invalidate_lock anywhere; punch truncates again after freeing
  kFaultTakesIRwsem,           // the fault path takes i_rwsem (deadlocks write() from a mapping)
  kWritebackCleanAfterIo,      // writeback clears dirty after the I/O took the page's data
  kPunchKeepsEdgeBlocks,       // a punch's partial edge folio keeps its block mapping
  kMapPagesNotUptodate,        // fault-around maps folios that are not uptodate
  kFaultNoSizeRecheck,         // filemap_fault does not re-check i_size under the folio lock
  kMapPagesPastEof,            // fault-around maps folios past the end of the file
  kExtendKeepsEofTail,         // a size extension exposes the last folio's bytes past the old end
  kDioReadNoWriteback,         // a direct read does not write the range back first
  kDioWriteNoInvalidateAfter,  // a direct write does not invalidate the cache after its I/O
  kShiftWithoutInvalidateLock, // collapse and insert move the blocks without invalidate_lock
  kMaxValue = kShiftWithoutInvalidateLock,
};

struct MutantInfo {
  Mutant id;
  const char* name;
  const char* commit;   // the kernel commit whose fix this removes
  const char* race;     // the interleaving that goes wrong
  const char* symptom;  // what the oracle should report (some only on blockmap: the program says so)
};

// Every real mutant (kNone excluded), in enum order.
std::span<const MutantInfo> MutantTable();
const MutantInfo* InfoOf(Mutant mutant);  // null for kNone
std::optional<Mutant> MutantFromName(std::string_view name);  // "" and "none" give kNone

}  // namespace pagerace
