#include "harness/backend/backend.h"

namespace pagerace {

const char* BackendName(BackendKind kind) { return kind == BackendKind::kFile ? "file" : "memory"; }

std::optional<BackendKind> BackendFromName(std::string_view name) {
  for (BackendKind k : {BackendKind::kFile, BackendKind::kMemory})
    if (name == BackendName(k)) return k;
  return std::nullopt;
}

}  // namespace pagerace
