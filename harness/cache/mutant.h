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
  kMaxValue = kNoInvalidateLockReadahead,
};

struct MutantInfo {
  Mutant id;
  const char* name;
  const char* commit;   // the kernel commit whose fix this removes
  const char* race;     // the interleaving that goes wrong
  const char* symptom;  // what the oracle should report
};

// Every real mutant (kNone excluded), in enum order.
std::span<const MutantInfo> MutantTable();
const MutantInfo* InfoOf(Mutant mutant);  // null for kNone
std::optional<Mutant> MutantFromName(std::string_view name);  // "" and "none" give kNone

}  // namespace pagerace
