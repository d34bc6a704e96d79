#include "harness/backend/backend.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "harness/base/check.h"

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

Status Backend::Shift(uint32_t file, uint32_t page, uint32_t pages, uint32_t file_pages, bool insert) {
  PR_CHECK(page + pages <= file_pages);
  const uint32_t moved = file_pages - page - pages;
  if (moved > 0) {
    std::vector<uint64_t> words(size_t{moved} * kPageBytes / 8);
    PR_RETURN_IF_ERROR(ReadPages(file, insert ? page : page + pages, moved, words.data()));
    PR_RETURN_IF_ERROR(WritePages(file, insert ? page + pages : page, moved, words.data()));
  }
  const uint32_t left = insert ? page : file_pages - pages;
  return Punch(file, uint64_t{left} * kPageBytes, uint64_t{pages} * kPageBytes);
}

// Without a block map the mapping only names the page: block[] stays 0 (not
// kHole, which would skip the I/O), and the I/O goes to (file, page).
void Backend::MapPage(uint32_t file, uint32_t page, bool /*create*/, uint32_t /*first*/, uint32_t /*end*/,
                      PageMap& out) {
  out.file = file;
  out.page = page;
  std::fill(std::begin(out.block), std::end(out.block), 0u);
}

Status Backend::ReadMapped(std::span<const PageMap* const> maps, std::span<uint64_t* const> words) {
  PR_CHECK(maps.size() == words.size());
  for (size_t i = 0; i < maps.size(); ++i) PR_RETURN_IF_ERROR(ReadPages(maps[i]->file, maps[i]->page, 1, words[i]));
  return Status::Ok();
}

Status Backend::WriteMapped(const PageMap& map, const uint64_t* words) {
  return WritePages(map.file, map.page, 1, words);
}

}  // namespace pagerace
