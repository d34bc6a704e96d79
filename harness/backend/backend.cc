#include "harness/backend/backend.h"

#include <algorithm>
#include <array>
#include <iterator>

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
  // A page at a time, in the order that never overwrites a page before it
  // moved: from the end for an insert (the data moves up), from the start
  // for a collapse. One page on the stack, not the tail's size on the heap.
  std::array<uint64_t, kPageBytes / 8> words;
  for (uint32_t i = 0; i < moved; ++i) {
    const uint32_t at = insert ? page + moved - 1 - i : page + pages + i;
    const uint32_t to = insert ? at + pages : at - pages;
    PR_RETURN_IF_ERROR(ReadPages(file, at, 1, words.data()));
    PR_RETURN_IF_ERROR(WritePages(file, to, 1, words.data()));
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
