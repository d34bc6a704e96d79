// The binary program format that fuzzers mutate. Deterministic; safe from any
// thread.
//
// Two forms of the same bytes:
//   a binary program file (what `pagerace encode` writes, and the seed
//     corpus built from corpus/*.txt): the 4-byte magic kFileMagic,
//     "\x7fPGR" (0x7f 'P' 'G' 'R'), then the codec's bytes. The magic is
//     how `pagerace replay`, `explore` and `decode` tell a binary program
//     from text or from any other file.
//   a raw fuzzer input (libFuzzer's crash-*, AFL++'s id:* files): the codec's
//     bytes alone, as the engine made them. DecodeFuzzInput() is what the
//     fuzz targets and `--raw` decode them with: it strips the magic where
//     an input starts with it (so that seeds mean what they say) and is as
//     total as Decode().
//
// Layout (little endian):
//   header, 12 bytes: the schedule byte (bits 0-2: threads-1; bits 3-4:
//     strategy random/pct/directed, 3 folds to random; bits 5-7: pct depth-1),
//     the files byte (bits 0-1: files-1; bit 2: flusher; bits 3-4: backend
//     memory/file/blockmap, 3 folds to memory; bit 5: io pread/uring; bit 6:
//     points every/windows; bit 7: bit 0 of the fuse mount), the file_pages
//     byte (low 6 bits: file_pages-1; bits 6-7: bits 1-2 of the fuse
//     mount), ra byte (low 5 bits: ra_pages mod 17; bits 5-6: ra_fail; bit
//     7: prefill),
//     then seed as a 64-bit word. Missing header bytes read as zero.
//   then records of 4 bytes, one per op, r = uint32:
//     bits 0-3 and 25 (high) kind (mod kOpKinds), 4-6 thread (mod
//     threads), 7-8 file (mod files), 9-17 and 26 (high) sector (mod
//     file_sectors), 18-24 count-1, clamped so the op ends inside the file;
//     a size op (program.h) has its size in the sector bits, mod
//     file_sectors + 1, and ignores the count; bits 27-31 are ignored.
//     Inputs from before the high bits have zeros there and decode as they
//     did.
//   A trailing partial record and records past kOpsMax are ignored.
//   Directed schedules end with a trailer: preemption records of 3 bytes
//     (step as 16 bits, thread mod the logical threads: the flusher, if
//     any, is the one after the last program thread), then their count in the last
//     byte (mod 33, clamped to what fits); decoding sorts them by step. The
//     trailer sits at the end so that ops keep their alignment when the
//     fuzzer grows or shrinks it.
// Every byte string decodes to a valid program (nothing is rejected), and
// Decode(Encode(p)) == p for every valid p. Inputs from before the backend,
// io and points bits have zeros there: memory, pread and every point, what
// they were run with. The fuse mount's bits were ignored before it existed;
// only the FUSE target reads them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "harness/program/program.h"

namespace pagerace {

inline constexpr size_t kHeaderBytes = 12;
inline constexpr size_t kRecordBytes = 4;
inline constexpr size_t kPreemptionBytes = 3;

inline constexpr std::string_view kFileMagic{"\x7fPGR", 4};

// The largest binary program file of a valid program: the magic, the header,
// kOpsMax records and the longest trailer. Decode ignores what lies beyond.
inline constexpr size_t kBinaryFileMax =
    kFileMagic.size() + kHeaderBytes + kOpsMax * kRecordBytes + kPreemptionsMax * kPreemptionBytes + 1;

Program Decode(std::span<const uint8_t> bytes);

// The op that Decode makes of a record's fields, for p's files and size: each
// field folded into range (kind and file modulo their counts, the sector
// modulo the file, the count clamped to [1, kOpSectorsMax] and cut at the
// file's end, a whole-pages op widened to the pages it touches). Valid for p
// whatever the fields are; the mutators (mutate.h) fold their ops with it.
Op FoldOp(const Program& p, uint32_t kind, uint32_t file, uint32_t sector, uint32_t count);

// REQUIRES: Validate(program).ok()
std::vector<uint8_t> Encode(const Program& program);

// True if `bytes` start with kFileMagic.
bool HasFileMagic(std::span<const uint8_t> bytes);

// A binary program file: kFileMagic, then Encode(program).
// REQUIRES: Validate(program).ok()
std::vector<uint8_t> EncodeFile(const Program& program);

// A fuzzer input (or a binary program file): Decode of the bytes after the
// magic if they start with it, else of them all. Total, like Decode, and
// DecodeFuzzInput(EncodeFile(p)) == p.
Program DecodeFuzzInput(std::span<const uint8_t> bytes);

}  // namespace pagerace
