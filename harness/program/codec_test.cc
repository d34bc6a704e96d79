// Tests the binary program codec: the byte layout is pinned by hand-written
// byte strings (header fields, the flusher, backend and io bits, record bit
// fields, modulo folding and count clamping), inputs from before the backend
// and io bits run on memory and pread as they did, Decode never rejects
// (empty, short and random inputs all give valid programs, every backend and
// io among them), every value of the 4-bit kind field
// decodes to a kind, records past kOpsMax and partial records are dropped,
// and Encode is canonical so that Decode(Encode(p)) == p. Binary program
// files are the magic and the same bytes: DecodeFuzzInput strips the magic
// and decodes anything else whole, as the fuzz targets do.
#include "harness/program/codec.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "harness/base/rng.h"
#include "harness/program/program.h"
#include "harness/program/program_testing.h"

namespace pagerace {
namespace {

std::vector<uint8_t> RandomBytes(Rng& rng, size_t max_size) {
  std::vector<uint8_t> bytes(rng.Below(max_size + 1));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.Next());
  return bytes;
}

// 2 threads, random schedule, pct depth 3, 2 files and the flusher (0x9d:
// backend 3 folds to memory, io pread, points every, bit 7 is ignored), 16
// pages (128 sectors), ra_pages 4, ra_fail 2, seed 0x010000000000002a.
const std::vector<uint8_t> kHeader = {0x41, 0x9d, 0x0f, 0x44, 0x2a, 0, 0, 0, 0, 0, 0, 0x01};

Program HandWrittenProgram() {
  Program p;
  p.files = 2;
  p.file_pages = 16;
  p.ra_pages = 4;
  p.ra_fail = 2;
  p.flusher = 1;
  p.seed = 0x010000000000002aULL;
  p.threads = {{Op{OpKind::kRead, 0, 0, 1}},
               {Op{OpKind::kWrite, 1, 10, 16}, Op{OpKind::kPunch, 0, 72, 56}}};
  return p;
}

TEST(CodecTest, EmptyInputDecodesToMinimalValidProgram) {
  const Program p = Decode({});
  ASSERT_TRUE(Validate(p).ok()) << Validate(p).message();
  EXPECT_EQ(p.threads.size(), 1u);
  EXPECT_TRUE(p.threads[0].empty());
  EXPECT_EQ(p.files, 1);
  EXPECT_EQ(p.file_pages, 1);
  EXPECT_EQ(p.ra_pages, 0);
  EXPECT_EQ(p.ra_fail, 0);
  EXPECT_EQ(p.flusher, 0);
  EXPECT_EQ(p.backend, BackendKind::kMemory);
  EXPECT_EQ(p.io, IoMode::kPread);
  EXPECT_EQ(p.seed, 0u);
}

TEST(CodecTest, MissingHeaderBytesReadAsZero) {
  const std::vector<uint8_t> bytes = {0x03, 0x02};
  const Program p = Decode(bytes);
  EXPECT_EQ(p.threads.size(), 4u);
  EXPECT_EQ(p.files, 3);
  EXPECT_EQ(p.flusher, 0);
  EXPECT_EQ(p.file_pages, 1);
  EXPECT_EQ(p.ra_pages, 0);
  EXPECT_EQ(p.seed, 0u);
  EXPECT_EQ(p.op_count(), 0u);
}

TEST(CodecTest, HeaderFieldsFoldModulo) {
  const std::vector<uint8_t> bytes = {0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8};
  const Program p = Decode(bytes);
  EXPECT_EQ(p.threads.size(), 8u);
  EXPECT_EQ(p.schedule.strategy, Strategy::kRandom);  // strategy 3 folds to random
  EXPECT_EQ(p.schedule.pct_depth, 8);
  EXPECT_EQ(p.files, 4);
  EXPECT_EQ(p.flusher, 1);
  EXPECT_EQ(p.backend, BackendKind::kMemory);  // backend 3 folds to memory
  EXPECT_EQ(p.io, IoMode::kUring);
  EXPECT_EQ(p.file_pages, 64);
  EXPECT_EQ(p.ra_pages, 31 % 17);  // low 5 bits, mod 17
  EXPECT_EQ(p.ra_fail, 3);         // bits 5-6
  EXPECT_EQ(p.prefill, 1);         // bit 7
  EXPECT_EQ(p.fuse, 7);            // bit 7 of the files byte, bits 6-7 of the file_pages byte
  EXPECT_EQ(p.seed, 0x0807060504030201ULL);
}

// The fuse mount's three bits share header bytes with files and file_pages
// and change neither.
TEST(CodecTest, FuseMountBitsRoundTripBesideFilesAndFilePages) {
  for (uint8_t mount = 0; mount < kFuseMounts; ++mount) {
    Program p;
    p.files = 3;
    p.file_pages = 37;
    p.fuse = mount;
    const Program q = Decode(Encode(p));
    EXPECT_EQ(q, p) << FuseMountName(mount);
    EXPECT_EQ(q.files, 3);
    EXPECT_EQ(q.file_pages, 37);
  }
  // Bytes from before the knob with those bits set decode as they did but
  // for it.
  const Program old = Decode(std::vector<uint8_t>{0x00, 0x80, 0x40 | 9});
  EXPECT_EQ(old.files, 1);
  EXPECT_EQ(old.file_pages, 10);
  EXPECT_EQ(old.fuse, kFuseWritebackCache | kFuseAutoInvalData);
}

TEST(CodecTest, HandWrittenBytesDecodeExactly) {
  std::vector<uint8_t> bytes = kHeader;
  // write t1 f1 s10 count 16, with the ignored bits 27-31 all set.
  bytes.insert(bytes.end(), {0x91, 0x14, 0x3c, 0xf8});
  // kind 20 (high bit 25) -> punch (mod 18), thread 3 -> 1, file 2 -> 0,
  // sector 200 -> 72, count 128 clamped to the 56 sectors left.
  static_assert(kOpKinds == 18, "the kind below folds by the number of kinds");
  bytes.insert(bytes.end(), {0x34, 0x91, 0xfd, 0x03});
  // read t0 f0 s0 count 1, then a partial record that is ignored.
  bytes.insert(bytes.end(), {0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff});
  const Program p = Decode(bytes);
  Program expected = HandWrittenProgram();
  expected.fuse = kFuseWritebackCache;  // bit 7 of the header's files byte (0x9d)
  EXPECT_EQ(p, expected);
}

// A size op keeps its size in the sector bits with the high bit 26, folded
// into [0, file_sectors]: the whole size of a 64-page file is 512.
// A direct op decodes to the pages that hold its sectors: the first sector
// rounds down to a page, the count up to whole pages, within the file.
TEST(CodecTest, DirectOpsDecodeToWholePages) {
  std::vector<uint8_t> bytes = {0x00, 0x00, 3};  // one thread, one file, 4 pages
  bytes.resize(kHeaderBytes);
  const uint32_t dio = static_cast<uint32_t>(OpKind::kDioWrite);
  const uint32_t kind = (dio & 15) | (dio >> 4) << 25;
  const uint32_t inside = kind | 11u << 9 | (3u - 1) << 18;   // s11+3 -> s8+8
  const uint32_t past = kind | 20u << 9 | (20u - 1) << 18;    // s20+20 -> s16+16 (the file ends at 32)
  for (uint32_t r : {inside, past})
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(r >> (8 * i)));
  const Program p = Decode(bytes);
  ASSERT_EQ(p.threads[0].size(), 2u);
  EXPECT_EQ(p.threads[0][0], (Op{OpKind::kDioWrite, 0, 8, 8}));
  EXPECT_EQ(p.threads[0][1], (Op{OpKind::kDioWrite, 0, 16, 16}));
  EXPECT_TRUE(Validate(p).ok());
  EXPECT_EQ(Decode(Encode(p)), p);
}

TEST(CodecTest, SizeOpsCarryTheirSizeInTheSectorBits) {
  std::vector<uint8_t> bytes = {0x00, 0x00, 63};  // one thread, one file, 64 pages
  bytes.resize(kHeaderBytes);
  const uint32_t truncate = static_cast<uint32_t>(OpKind::kTruncate);
  const uint32_t to_end = (truncate & 15) | (truncate >> 4) << 25 | 1u << 26 | 0x7fu << 18;  // sector 512, count bits set
  const uint32_t mid = (truncate & 15) | (truncate >> 4) << 25 | 12u << 9;
  for (uint32_t r : {to_end, mid})
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(r >> (8 * i)));
  const Program p = Decode(bytes);
  ASSERT_EQ(p.threads[0].size(), 2u);
  EXPECT_EQ(p.threads[0][0], (Op{OpKind::kTruncate, 0, 512, 1}));
  EXPECT_EQ(p.threads[0][1], (Op{OpKind::kTruncate, 0, 12, 1}));
  EXPECT_EQ(Decode(Encode(p)), p);
  // In a 2-page file (16 sectors), 512 folds to 512 mod 17.
  bytes[2] = 1;
  EXPECT_EQ(Decode(bytes).threads[0][0].sector, 512 % 17);
}

TEST(CodecTest, EncodeWritesCanonicalBytes) {
  std::vector<uint8_t> expected = {0x41, 0x05, 0x0f, 0x44, 0x2a, 0, 0, 0, 0, 0, 0, 0x01};
  expected.insert(expected.end(), {0x00, 0x00, 0x00, 0x00,    // thread 0: read f0 s0+1
                                   0x91, 0x14, 0x3c, 0x00,    // thread 1: write f1 s10+16
                                   0x12, 0x90, 0xdc, 0x00});  // thread 1: punch f0 s72+56
  EXPECT_EQ(Encode(HandWrittenProgram()), expected);
}

TEST(CodecTest, FlusherIsBitTwoOfTheFilesByte) {
  for (uint8_t files_byte = 0; files_byte < 8; ++files_byte) {
    const std::vector<uint8_t> bytes = {0x00, files_byte};
    const Program p = Decode(bytes);
    EXPECT_EQ(p.files, (files_byte & 3) + 1) << int{files_byte};
    EXPECT_EQ(p.flusher, files_byte >> 2) << int{files_byte};
    EXPECT_EQ(Encode(p)[1], files_byte) << int{files_byte};
  }
}

// Bits 3-4 of the files byte are the backend (3 folds to memory), bit 5 the
// io, bit 6 the points; bit 7 is the fuse mount's bit 0. Encode writes the
// canonical code.
TEST(CodecTest, BackendIoAndPointsAreBitsThreeToSixOfTheFilesByte) {
  for (uint32_t files_byte = 0; files_byte < 256; ++files_byte) {
    const std::vector<uint8_t> bytes = {0x00, static_cast<uint8_t>(files_byte)};
    const Program p = Decode(bytes);
    const uint32_t code = files_byte >> 3 & 3;
    EXPECT_EQ(p.backend, code == 3 ? BackendKind::kMemory : static_cast<BackendKind>(code)) << files_byte;
    EXPECT_EQ(p.io, files_byte >> 5 & 1 ? IoMode::kUring : IoMode::kPread) << files_byte;
    EXPECT_EQ(p.points, files_byte >> 6 & 1 ? Points::kWindows : Points::kEvery) << files_byte;
    EXPECT_EQ(p.fuse, files_byte >> 7) << files_byte;
    const uint32_t canonical = files_byte & (code == 3 ? 0xe7 : 0xff);
    EXPECT_EQ(Encode(p)[1], canonical) << files_byte;
    EXPECT_EQ(Decode(Encode(p)), p) << files_byte;
  }
}

// Fuzz inputs and crash files written before the backend and io bits existed
// have zeros there, and the fuzz target ran them on memory with pread: they
// still do.
TEST(CodecTest, OldInputsDecodeToMemoryAndPread) {
  std::vector<uint8_t> bytes = {0x41, 0x05, 0x0f, 0x44, 0x2a, 0, 0, 0, 0, 0, 0, 0x01};
  bytes.insert(bytes.end(), {0x00, 0x00, 0x00, 0x00, 0x91, 0x14, 0x3c, 0x00, 0x12, 0x90, 0xdc, 0x00});
  const Program p = Decode(bytes);
  EXPECT_EQ(p.backend, BackendKind::kMemory);
  EXPECT_EQ(p.io, IoMode::kPread);
  EXPECT_EQ(p.points, Points::kEvery);
  EXPECT_EQ(p, HandWrittenProgram());
  EXPECT_EQ(Encode(p), bytes);
}

TEST(CodecTest, EveryBackendIoAndPointsRoundTrips) {
  Program p = HandWrittenProgram();
  for (uint32_t b = 0; b < kBackendKinds; ++b) {
    for (uint32_t io = 0; io < kIoModes; ++io) {
      for (uint32_t points = 0; points < kPointsKinds; ++points) {
        p.backend = static_cast<BackendKind>(b);
        p.io = static_cast<IoMode>(io);
        p.points = static_cast<Points>(points);
        ASSERT_TRUE(Validate(p).ok());
        EXPECT_EQ(Decode(Encode(p)), p) << BackendName(p.backend) << " " << IoModeName(p.io) << " "
                                        << PointsName(p.points);
      }
    }
  }
}

// The kind field has 16 values for kOpKinds kinds: every value decodes to
// kind (value mod kOpKinds), so each kind is reachable, and the canonical
// encoding is the value itself.
TEST(CodecTest, EveryKindValueDecodes) {
  std::vector<uint8_t> bytes = kHeader;
  for (uint8_t kind = 0; kind < 16; ++kind) bytes.insert(bytes.end(), {kind, 0x00, 0x00, 0x00});
  const Program p = Decode(bytes);
  ASSERT_TRUE(Validate(p).ok());
  ASSERT_EQ(p.threads[0].size(), 16u);
  for (uint32_t kind = 0; kind < 16; ++kind)
    EXPECT_EQ(p.threads[0][kind].kind, static_cast<OpKind>(kind % kOpKinds)) << kind;
  const std::vector<uint8_t> encoded = Encode(p);
  for (uint32_t kind = 0; kind < 16; ++kind)
    EXPECT_EQ(encoded[kHeaderBytes + kind * kRecordBytes], kind % kOpKinds) << kind;
  EXPECT_EQ(Decode(encoded), p);
}

TEST(CodecTest, EveryKindRoundTrips) {
  Program p;
  p.files = 2;
  p.file_pages = 4;
  p.flusher = 1;
  p.threads.assign(2, {});
  for (const OpInfo& info : OpTable()) {
    const uint16_t k = static_cast<uint16_t>(info.kind);
    // A size op: its size in the sector field, count 1; a direct op, a
    // collapse and an insert: whole pages.
    uint16_t sector = k, count = SetsSize(info.kind) ? 1 : static_cast<uint16_t>(k + 1);
    if (WholePages(info.kind)) sector = 8, count = 16;
    p.threads[k % 2].push_back(Op{info.kind, static_cast<uint8_t>(k % 2), sector, count});
  }
  ASSERT_TRUE(Validate(p).ok());
  EXPECT_EQ(Decode(Encode(p)), p);
}

TEST(CodecTest, DirectedTrailerHoldsPreemptionsSortedByStep) {
  std::vector<uint8_t> bytes = kHeader;
  bytes[0] = 0x01 | 2 << 3 | 4 << 5;  // 2 threads, directed, depth 5
  bytes.insert(bytes.end(), {0x00, 0x00, 0x00, 0x00});  // read t0 f0 s0+1
  // Two preemptions: step 0x0102 to thread 5 -> 2 (mod 3: 2 threads and the
  // flusher), step 7 to thread 0; count.
  bytes.insert(bytes.end(), {0x02, 0x01, 0x05, 0x07, 0x00, 0x00, 0x02});
  const Program p = Decode(bytes);
  EXPECT_EQ(p.schedule.strategy, Strategy::kDirected);
  EXPECT_EQ(p.schedule.pct_depth, 5);
  const std::vector<Preemption> expected = {{7, 0}, {0x0102, 2}};
  EXPECT_EQ(p.schedule.preemptions, expected);
  EXPECT_EQ(p.op_count(), 1u);
  EXPECT_TRUE(Validate(p).ok());
  // Canonical: the trailer comes back in step order.
  const std::vector<uint8_t> encoded = Encode(p);
  EXPECT_EQ(std::vector<uint8_t>(encoded.end() - 7, encoded.end()),
            (std::vector<uint8_t>{0x07, 0x00, 0x00, 0x02, 0x01, 0x02, 0x02}));
  EXPECT_EQ(Decode(encoded), p);
}

// The flusher is a logical thread after the program's: a preemption may
// switch to it.
TEST(CodecTest, DirectedPreemptionMayRunTheFlusher) {
  std::vector<uint8_t> bytes = kHeader;  // 2 threads and the flusher
  bytes[0] = 0x01 | 2 << 3;
  bytes.insert(bytes.end(), {0x05, 0x00, 0x02, 0x06, 0x00, 0x05, 0x02});  // to thread 2, to thread 5 -> 2
  const Program p = Decode(bytes);
  ASSERT_EQ(p.logical_threads(), 3u);
  const std::vector<Preemption> expected = {{5, 2}, {6, 2}};
  EXPECT_EQ(p.schedule.preemptions, expected);
  EXPECT_TRUE(Validate(p).ok());
  EXPECT_EQ(Decode(Encode(p)), p);
}

TEST(CodecTest, DirectedCountClampsToWhatFits) {
  std::vector<uint8_t> bytes = kHeader;
  bytes[0] = 0x01 | 2 << 3;
  bytes.insert(bytes.end(), {0x03, 0x00, 0x01, 0x20});  // count 32, but one record fits
  const Program p = Decode(bytes);
  ASSERT_EQ(p.schedule.preemptions.size(), 1u);
  EXPECT_EQ(p.schedule.preemptions[0], (Preemption{3, 1}));
  EXPECT_EQ(p.op_count(), 0u);
}

TEST(CodecTest, CountClampedAtFileEnd) {
  // One page: 8 sectors. Sector 6 with count field 127 (count 128) -> 2.
  // Sector field 13 wraps to 5; count 4 is clamped to the 3 sectors left.
  std::vector<uint8_t> bytes(kHeaderBytes, 0);
  bytes.insert(bytes.end(), {0x00, 0x0c, 0xfc, 0x01, 0x00, 0x1a, 0x0c, 0x00});
  const Program p = Decode(bytes);
  ASSERT_EQ(p.file_sectors(), 8u);
  ASSERT_EQ(p.threads.size(), 1u);
  const std::vector<Op> expected = {Op{OpKind::kRead, 0, 6, 2}, Op{OpKind::kRead, 0, 5, 3}};
  EXPECT_EQ(p.threads[0], expected);
  EXPECT_TRUE(Validate(p).ok());
}

TEST(CodecTest, RecordsPastOpsMaxIgnored) {
  Rng rng(11);
  std::vector<uint8_t> bytes = kHeader;
  for (size_t i = 0; i < (kOpsMax + 44) * kRecordBytes; ++i) bytes.push_back(static_cast<uint8_t>(rng.Next()));
  const Program all = Decode(bytes);
  EXPECT_EQ(all.op_count(), kOpsMax);
  EXPECT_TRUE(Validate(all).ok());
  // Exactly kOpsMax records decode to the same program: the rest are ignored.
  bytes.resize(kHeaderBytes + kOpsMax * kRecordBytes);
  EXPECT_EQ(Decode(bytes), all);
}

TEST(CodecTest, RandomBytesDecodeValidAndRoundTrip) {
  Rng rng(20240611);
  uint32_t kinds_seen = 0, flushers_seen = 0;  // bit per kind, per flusher value
  uint32_t backends_seen = 0, ios_seen = 0;    // bit per backend, per io mode
  for (int i = 0; i < 2000; ++i) {
    const std::vector<uint8_t> bytes = RandomBytes(rng, 1200);
    const Program p = Decode(bytes);
    flushers_seen |= 1u << p.flusher;
    backends_seen |= 1u << static_cast<uint32_t>(p.backend);
    ios_seen |= 1u << static_cast<uint32_t>(p.io);
    for (const auto& ops : p.threads)
      for (const Op& op : ops) kinds_seen |= 1u << static_cast<uint32_t>(op.kind);
    const Status valid = Validate(p);
    ASSERT_TRUE(valid.ok()) << "input " << i << ": " << valid.message();
    const std::vector<uint8_t> encoded = Encode(p);
    const size_t trailer = p.schedule.strategy == Strategy::kDirected
                               ? p.schedule.preemptions.size() * kPreemptionBytes + 1
                               : 0;
    ASSERT_EQ(encoded.size(), kHeaderBytes + p.op_count() * kRecordBytes + trailer);
    ASSERT_EQ(Decode(encoded), p) << "input " << i;
    ASSERT_EQ(Encode(Decode(encoded)), encoded) << "input " << i;
  }
  EXPECT_EQ(kinds_seen, (1u << kOpKinds) - 1);
  EXPECT_EQ(flushers_seen, 3u);
  EXPECT_EQ(backends_seen, (1u << kBackendKinds) - 1);
  EXPECT_EQ(ios_seen, (1u << kIoModes) - 1);
}

TEST(CodecTest, MostRandomInputsGiveNonEmptyPrograms) {
  Rng rng(5);
  int non_empty = 0;
  const int kInputs = 1000;
  for (int i = 0; i < kInputs; ++i) non_empty += Decode(RandomBytes(rng, 256)).op_count() > 0;
  EXPECT_GT(non_empty, kInputs * 8 / 10);
}

TEST(CodecTest, ExtremeProgramRoundTrips) {
  Program p = WidestKnobs();
  const uint16_t last = static_cast<uint16_t>(p.file_sectors() - 1);
  p.threads[7] = {Op{OpKind::kEvict, 3, last, 1},
                  Op{OpKind::kReadahead, 2, static_cast<uint16_t>(last + 1 - kOpSectorsMax), kOpSectorsMax}};
  p.threads[0] = {Op{OpKind::kWrite, 0, 0, kOpSectorsMax},
                  Op{OpKind::kWriteMapped, 3, static_cast<uint16_t>(last + 1 - kOpSectorsMax), kOpSectorsMax}};
  ASSERT_TRUE(Validate(p).ok());
  EXPECT_EQ(Decode(Encode(p)), p);
}

TEST(CodecTest, FileMagicIsPinned) {
  EXPECT_EQ(kFileMagic, std::string_view("\x7f" "PGR", 4));
  const std::vector<uint8_t> file = EncodeFile(HandWrittenProgram());
  std::vector<uint8_t> want = {0x7f, 'P', 'G', 'R'};
  const std::vector<uint8_t> body = Encode(HandWrittenProgram());
  want.insert(want.end(), body.begin(), body.end());
  EXPECT_EQ(file, want);
  EXPECT_TRUE(HasFileMagic(file));
  EXPECT_FALSE(HasFileMagic(body));
  EXPECT_FALSE(HasFileMagic(std::vector<uint8_t>{0x7f, 'P', 'G'}));
  EXPECT_FALSE(HasFileMagic(std::vector<uint8_t>{0x7f, 'P', 'G', 'r'}));
}

TEST(CodecTest, FileRoundTripsThroughDecodeFuzzInput) {
  Rng rng(11);
  for (int i = 0; i < 500; ++i) {
    const Program p = Decode(RandomBytes(rng, 200));
    EXPECT_EQ(DecodeFuzzInput(EncodeFile(p)), p);
    // Without the magic, a fuzzer input decodes whole, as Decode does.
    const std::vector<uint8_t> raw = Encode(p);
    if (!HasFileMagic(raw)) {
      EXPECT_EQ(DecodeFuzzInput(raw), Decode(raw));
    }
  }
  EXPECT_EQ(DecodeFuzzInput(EncodeFile(LargestProgram())), LargestProgram());
  // The magic alone is an empty input, and a program file is never read whole
  // by DecodeFuzzInput: it would be another program.
  const std::vector<uint8_t> magic(kFileMagic.begin(), kFileMagic.end());
  EXPECT_EQ(DecodeFuzzInput(magic), Decode({}));
  const std::vector<uint8_t> file = EncodeFile(HandWrittenProgram());
  EXPECT_NE(Decode(file), HandWrittenProgram());
}

TEST(CodecTest, LargestProgramFileIsBinaryFileMax) {
  const Program p = LargestProgram();
  ASSERT_TRUE(Validate(p).ok()) << Validate(p).message();
  EXPECT_EQ(EncodeFile(p).size(), kBinaryFileMax);
}

}  // namespace
}  // namespace pagerace
