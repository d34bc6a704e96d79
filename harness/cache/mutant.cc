#include "harness/cache/mutant.h"

#include <array>

namespace pagerace {
namespace {

constexpr std::array<MutantInfo, 3> kMutants = {{
    {Mutant::kNoInvalidateLockRead, "no-invalidate-lock-read",
     "730633f0b7f9 mm: Protect operations adding pages to page cache with invalidate_lock "
     "(filemap_create_folio)",
     "read(2) misses, adds a folio and reads the old data between the punch's "
     "truncate_inode_pages_range and the freeing of the blocks",
     "STALE: pre-punch data cached after the punch returned"},
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
