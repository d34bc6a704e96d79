#include "harness/oracle/tag.h"

#include "harness/base/rng.h"

namespace pagerace {
namespace {
// Body words are base + k * kStride: one keyed hash per sector, so filling
// and verifying a sector is a cheap, vectorizable loop, while words of
// different writes (different bases) still never coincide.
constexpr uint64_t kStride = 0x9e3779b97f4a7c15ULL;

uint64_t Base(uint32_t file, uint32_t sector, uint64_t gen) {
  return Mix64(Mix64(Mix64(file + 0x1234567ULL) ^ sector) ^ gen);
}

// Unfilled memory: header words of its own, and a body keyed apart from every
// write's (writes' generations are never 0).
uint64_t UninitBase(uint32_t file, uint32_t sector) { return ~Base(file, sector, 0); }
}  // namespace

uint64_t TagWord(uint32_t file, uint32_t sector, uint64_t gen, uint32_t k) {
  switch (k) {
    case 0: return (kTagMagic32 << 32) | file;
    case 1: return sector;
    case 2: return gen;
    default: return Base(file, sector, gen) + k * kStride;
  }
}

void FillSector(uint32_t file, uint32_t sector, uint64_t gen, uint64_t* words) {
  words[0] = TagWord(file, sector, gen, 0);
  words[1] = sector;
  words[2] = gen;
  const uint64_t base = Base(file, sector, gen);
  for (uint32_t k = 3; k < kSectorWords; ++k) words[k] = base + k * kStride;
}

uint64_t UninitWord(uint32_t file, uint32_t sector, uint32_t k) {
  switch (k) {
    case 0: return (kUninitMagic32 << 32) | file;
    case 1: return sector;
    case 2: return UninitBase(file, sector);
    default: return UninitBase(file, sector) + k * kStride;
  }
}

void FillUninit(uint32_t file, uint32_t sector, uint64_t* words) {
  // Every new folio is filled: one hash per sector, as FillSector.
  const uint64_t base = UninitBase(file, sector);
  words[0] = (kUninitMagic32 << 32) | file;
  words[1] = sector;
  words[2] = base;
  for (uint32_t k = 3; k < kSectorWords; ++k) words[k] = base + k * kStride;
}

SectorTag ClassifySector(const uint64_t* words) {
  uint64_t any = 0;
  for (uint32_t k = 0; k < kSectorWords; ++k) any |= words[k];
  if (any == 0) return {};
  if ((words[0] >> 32) == kTagMagic32 && words[1] <= UINT32_MAX && words[2] != 0) {
    const auto file = static_cast<uint32_t>(words[0]);
    const auto sector = static_cast<uint32_t>(words[1]);
    const uint64_t base = Base(file, sector, words[2]);
    uint64_t diff = 0;
    for (uint32_t k = 3; k < kSectorWords; ++k) diff |= words[k] ^ (base + k * kStride);
    if (diff == 0) return {SectorTag::kWhole, file, sector, words[2]};
  }
  if ((words[0] >> 32) == kUninitMagic32 && words[1] <= UINT32_MAX) {
    const auto file = static_cast<uint32_t>(words[0]);
    const auto sector = static_cast<uint32_t>(words[1]);
    uint64_t diff = 0;
    for (uint32_t k = 2; k < kSectorWords; ++k) diff |= words[k] ^ UninitWord(file, sector, k);
    if (diff == 0) return {SectorTag::kUninit, file, sector, 0};
  }
  return {SectorTag::kMixed, 0, 0, 0};
}

}  // namespace pagerace
