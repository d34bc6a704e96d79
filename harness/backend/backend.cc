#include "harness/backend/backend.h"

namespace pagerace {

Status Backend::ResetWith(uint32_t files, uint32_t file_pages, std::span<const Initial> initial) {
  PR_RETURN_IF_ERROR(Reset(files, file_pages));
  for (uint32_t file = 0; file < initial.size(); ++file) {
    const Initial& in = initial[file];
    if (in.first < in.end)
      PR_RETURN_IF_ERROR(WritePages(file, in.first, in.end - in.first, in.words + size_t{in.first} * kPageBytes / 8));
  }
  return Status::Ok();
}

const char* IoModeName(IoMode mode) { return mode == IoMode::kPread ? "pread" : "uring"; }

std::optional<IoMode> IoModeFromName(std::string_view name) {
  for (IoMode m : {IoMode::kPread, IoMode::kUring})
    if (name == IoModeName(m)) return m;
  return std::nullopt;
}

const char* BackendName(BackendKind kind) { return kind == BackendKind::kFile ? "file" : "memory"; }

std::optional<BackendKind> BackendFromName(std::string_view name) {
  for (BackendKind k : {BackendKind::kFile, BackendKind::kMemory})
    if (name == BackendName(k)) return k;
  return std::nullopt;
}

}  // namespace pagerace
