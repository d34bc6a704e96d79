// The history of one run: every operation with its invoke and response stamps
// (from one global counter), what writes wrote and what reads observed, sector
// by sector. Each worker thread appends to its own History; they are merged
// after the threads are joined. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/oracle/tag.h"
#include "harness/program/program.h"

namespace pagerace {

// Stamp 0 is "before everything" (the initial all-zero files); operations get
// stamps >= 1. A write that failed may or may not have taken effect: its
// response is kStampNever.
inline constexpr uint64_t kStampNever = UINT64_MAX;

// The end-of-run check's reads carry this thread number, and the write that
// prefills the files (Program::prefill) this one.
inline constexpr uint16_t kFinalThread = 0xffff;
inline constexpr uint16_t kSetupThread = 0xfffe;

// The passes of the end-of-run check, as the index of its reads.
enum class FinalPass : uint16_t {
  kCached,    // the pages left in the cache, read through it
  kMapped,    // the pages left mapped, loaded through the mapping
  kBackend,   // after write-back and eviction, every page read straight from the backend
};
const char* FinalPassName(FinalPass pass);

struct OpRecord {
  uint16_t thread = 0;    // program thread, or kFinalThread
  uint16_t index = 0;     // op index within its thread (FinalPass for kFinalThread)
  OpKind kind = OpKind::kRead;
  uint8_t file = 0;
  // The op's sectors. A size op (truncate): `sector` is the size it set,
  // and [sector, sector + count) what it cut off, to the end of the
  // largest file (it reads as zeros from then on).
  uint32_t sector = 0;
  uint32_t count = 0;
  // Sectors from `sector` that the op covered (OpOutcome::done): a read's
  // length, short at the end of the file; a mapped access's, or a write's
  // from a mapped buffer, before the page where it stopped. observed has
  // this many; the rest was neither read nor written. Reached() reads it;
  // the default is the whole op.
  uint32_t reached = UINT32_MAX;
  // A mapped access stopped on SIGBUS at the page holding sector + reached.
  bool sigbus = false;
  // A collapse or insert that moved data: the size it set, where the target
  // says (the model); kSizeUnknown on the host kernel.
  static constexpr uint32_t kSizeUnknown = UINT32_MAX;
  uint32_t size = kSizeUnknown;
  uint64_t invoke = 0;
  uint64_t response = 0;
  uint64_t gen = 0;                  // write and punch: their generation
  std::vector<SectorTag> observed;   // read: one per sector
  std::vector<uint64_t> raw;         // read: the words of each kMixed sector, in order

  // Ops that put data in the file (punch: zeros) and ops that observe it:
  // reads and loads, and fsync, which observes its range of the durable
  // file (the storage under the cache) as it returns, where the target can
  // see it. Its promise is then checked as a read's: every write that
  // completed before it began, or a newer one.
  uint32_t Reached() const { return reached < count ? reached : count; }
  bool Writes() const { return WritesData(kind) || WritesZeros(kind); }
  bool Reads() const {
    return kind == OpKind::kRead || kind == OpKind::kDioRead || kind == OpKind::kLoad || Syncs(kind);
  }
  static bool Syncs(OpKind k) { return k == OpKind::kFsync || k == OpKind::kFdatasync; }
  static bool WritesData(OpKind k) {
    return k == OpKind::kWrite || k == OpKind::kStore || k == OpKind::kWriteMapped || k == OpKind::kDioWrite;
  }
  static bool WritesZeros(OpKind k) { return k == OpKind::kPunch || k == OpKind::kZeroRange || SetsSize(k); }
  // "t1#4 read f0 s8+16" or "final/cached f0 s0+128".
  std::string Describe() const;
};

using History = std::vector<OpRecord>;

// What a sector read as at (file, sector): "zeros", "gen 5", "gen 5 of f1 s3"
// (another place's data) or "torn/garbage".
std::string DescribeTag(const SectorTag& tag, uint32_t file, uint32_t sector);

// An op's result for traces: "saw s8-15 gen 5, s16 zeros", "wrote gen 7".
std::string DescribeResult(const OpRecord& rec);

// Appends a read's observation of `count` sectors held in `words`
// (count * kSectorWords words) to `record`.
void ObserveSectors(const uint64_t* words, uint32_t count, OpRecord& record);

}  // namespace pagerace
