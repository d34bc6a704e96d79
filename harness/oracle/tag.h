// Generation-tagged sectors: every written 512-byte sector describes itself.
//
//   word 0   kTagMagic32 << 32 | file id
//   word 1   sector index within the file
//   word 2   generation (unique per write in a run; 0 is never written)
//   word k   base + k * stride for k in [3, 64), base = hash(file, sector, gen)
//
// So every 8-byte word can be attributed to exactly one write, a whole
// sector from elsewhere names its origin (FOREIGN), and an all-zero sector is
// a hole. Page-cache memory that nothing has filled yet holds a pattern of its
// own, with kUninitMagic32 in word 0 and the page's file and sector in words
// 0-1 (no generation): whatever a run sees of it is a function of the run
// alone, never of what earlier runs left in recycled memory, and the oracle
// names it (UNINIT). Pure functions; safe from any thread.
#pragma once

#include <cstdint>

#include "harness/program/program.h"

namespace pagerace {

inline constexpr uint32_t kSectorWords = kSectorBytes / 8;
inline constexpr uint64_t kTagMagic32 = 0x70677263;  // "pgrc"
inline constexpr uint64_t kUninitMagic32 = 0x70677569;  // "pgui"
// Every word of a freed folio (the kernel's PAGE_POISON bytes): no write's,
// so a read through a dropped reference is GARBAGE that says where it came from.
inline constexpr uint64_t kFreedPoison = 0xaaaaaaaaaaaaaaaaULL;

// Word k of the sector written by generation `gen` at (file, sector).
uint64_t TagWord(uint32_t file, uint32_t sector, uint64_t gen, uint32_t k);

// Fills `words` (kSectorWords) with the tagged content of one sector.
void FillSector(uint32_t file, uint32_t sector, uint64_t gen, uint64_t* words);

// Word k of the pattern that unfilled page-cache memory holds at (file,
// sector), and the whole sector of it.
uint64_t UninitWord(uint32_t file, uint32_t sector, uint32_t k);
void FillUninit(uint32_t file, uint32_t sector, uint64_t* words);

// What one observed sector holds.
struct SectorTag {
  enum Kind : uint8_t {
    kZero,   // all zero: a hole or never written
    kWhole,  // one write's sector, self-consistent: file/sector/gen name it
    kMixed,  // anything else: torn between writes, or garbage
    kUninit, // the unfilled-memory pattern of (file, sector): no write's data
  };
  Kind kind = kZero;
  uint32_t file = 0;
  uint32_t sector = 0;
  uint64_t gen = 0;
};

SectorTag ClassifySector(const uint64_t* words);

}  // namespace pagerace
