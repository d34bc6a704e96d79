#include "harness/program/codec.h"

#include <algorithm>
#include <array>

#include "harness/base/check.h"

namespace pagerace {
namespace {

// Record bit fields (see codec.h). The widths are fixed by the format, so the
// limits in program.h must fit them: a change there has to change the format.
constexpr uint32_t kKindShift = 0, kKindBits = 4;
constexpr uint32_t kThreadShift = 4, kThreadBits = 3;
constexpr uint32_t kFileShift = 7, kFileBits = 2;
constexpr uint32_t kSectorShift = 9, kSectorBits = 9;
constexpr uint32_t kCountShift = 18, kCountBits = 7;
// The high bits of kind and sector, added after the format's first ops and
// files: zero in every input from before, which therefore decodes as it did.
constexpr uint32_t kKindHighShift = 25, kSectorHighShift = 26;
constexpr uint8_t kRaPagesMask = 0x1f;
constexpr uint32_t kRaFailShift = 5;
constexpr uint8_t kRaFailMask = 0x3;
constexpr uint32_t kPrefillShift = 7;
constexpr uint8_t kFilesMask = 0x3;
constexpr uint32_t kFlusherShift = 2;
constexpr uint32_t kBackendShift = 3;
constexpr uint8_t kBackendMask = 0x3;
constexpr uint32_t kIoShift = 5;
constexpr uint8_t kIoMask = 0x1;
constexpr uint32_t kPointsShift = 6;
constexpr uint8_t kPointsMask = 0x1;
// The fuse mount: its bit 0 is bit 7 of the files byte, bits 1-2 the top
// bits of the file_pages byte (which file_pages reads mod 64).
constexpr uint32_t kFuseLowShift = 7, kFuseHighShift = 6;
constexpr uint8_t kThreadsMask = 0x7;
constexpr uint32_t kStrategyShift = 3;
constexpr uint8_t kStrategyMask = 0x3;
constexpr uint32_t kDepthShift = 5;
constexpr uint8_t kDepthMask = 0x7;

static_assert(kOpKinds <= (2u << kKindBits));
static_assert(kFilePagesMax * kSectorsPerPage + 1 <= (2u << kSectorBits), "a size op's size fits");
static_assert(kThreadsMax <= (1u << kThreadBits));
static_assert(kFilesMax <= (1u << kFileBits));
static_assert(kFilePagesMax * kSectorsPerPage <= (1u << kSectorBits));
static_assert(kOpSectorsMax <= (1u << kCountBits));
static_assert(kRaPagesMax <= kRaPagesMask);
static_assert(kRaFailMax == kRaFailMask, "ra_fail is stored raw in two bits");
static_assert(kFilePagesMax <= 256, "file_pages-1 is one header byte");
static_assert(kThreadsMax == kThreadsMask + 1);
static_assert(kFilesMax == kFilesMask + 1);
static_assert(kFlusherMax == 1, "flusher is one bit");
static_assert(kStrategies <= kStrategyMask + 1);
static_assert(kBackendKinds <= kBackendMask + 1);
static_assert(kIoModes == kIoMask + 1, "io is one bit");
static_assert(kPointsKinds == kPointsMask + 1, "points is one bit");
static_assert(Points{} == Points::kEvery, "code 0 is what inputs without the bit ran with");
static_assert(BackendKind{} == BackendKind::kMemory && IoMode{} == IoMode::kPread,
              "code 0 is what inputs without the bits were run on");
static_assert(kFuseMounts == 8 && kFilePagesMax == 64, "the fuse mount's three bits are free header bits");
static_assert(kPctDepthMax == kDepthMask + 1);
static_assert(kPreemptionsMax < 256 && kPreemptStepMax == 0xffff);

constexpr uint32_t Field(uint32_t record, uint32_t shift, uint32_t bits) {
  return (record >> shift) & ((1u << bits) - 1);
}

uint64_t LoadLe(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

void StoreLe(std::vector<uint8_t>& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Builds the program's knobs from the (zero padded) header; no ops yet.
Program DecodeHeader(const std::array<uint8_t, kHeaderBytes>& h) {
  Program p;
  p.threads.assign((h[0] & kThreadsMask) + 1, {});
  p.schedule.strategy = static_cast<Strategy>(((h[0] >> kStrategyShift) & kStrategyMask) % kStrategies);
  p.schedule.pct_depth = static_cast<uint8_t>(((h[0] >> kDepthShift) & kDepthMask) + 1);
  p.files = static_cast<uint8_t>((h[1] & kFilesMask) + 1);
  p.flusher = static_cast<uint8_t>((h[1] >> kFlusherShift) & 1);
  p.backend = static_cast<BackendKind>(((h[1] >> kBackendShift) & kBackendMask) % kBackendKinds);
  p.io = static_cast<IoMode>((h[1] >> kIoShift) & kIoMask);
  p.points = static_cast<Points>((h[1] >> kPointsShift) & kPointsMask);
  p.file_pages = static_cast<uint16_t>(h[2] % kFilePagesMax + 1);
  p.fuse = static_cast<uint8_t>((h[1] >> kFuseLowShift) | (h[2] >> kFuseHighShift) << 1);
  p.ra_pages = static_cast<uint8_t>((h[3] & kRaPagesMask) % (kRaPagesMax + 1));
  p.ra_fail = static_cast<uint8_t>((h[3] >> kRaFailShift) & kRaFailMask);
  p.prefill = static_cast<uint8_t>(h[3] >> kPrefillShift);
  p.seed = LoadLe(&h[4], 8);
  return p;
}

// Every field is folded into range rather than rejected, so that any mutation
// the fuzzer makes still yields a runnable program.
void DecodeRecord(uint32_t r, Program& p) {
  const uint32_t kind = Field(r, kKindShift, kKindBits) | Field(r, kKindHighShift, 1) << kKindBits;
  const uint32_t sector = Field(r, kSectorShift, kSectorBits) | Field(r, kSectorHighShift, 1) << kSectorBits;
  const Op op = FoldOp(p, kind, Field(r, kFileShift, kFileBits), sector, Field(r, kCountShift, kCountBits) + 1);
  const uint32_t thread = Field(r, kThreadShift, kThreadBits) % p.threads.size();
  p.threads[thread].push_back(op);
}

}  // namespace

Op FoldOp(const Program& p, uint32_t kind, uint32_t file, uint32_t sector, uint32_t count) {
  const uint32_t sectors = p.file_sectors();
  Op op;
  op.kind = static_cast<OpKind>(kind % kOpKinds);
  op.file = static_cast<uint8_t>(file % p.files);
  if (SetsSize(op.kind)) {
    op.sector = static_cast<uint16_t>(sector % (sectors + 1));
    op.count = 1;
    return op;
  }
  op.sector = static_cast<uint16_t>(sector % sectors);
  count = std::clamp<uint32_t>(count, 1, kOpSectorsMax);
  if (WholePages(op.kind)) {  // whole pages: the first one holding the sector, on
    op.sector = static_cast<uint16_t>(op.sector / kSectorsPerPage * kSectorsPerPage);
    count = (count + kSectorsPerPage - 1) / kSectorsPerPage * kSectorsPerPage;
  }
  op.count = static_cast<uint16_t>(std::min(count, sectors - op.sector));
  return op;
}

Program Decode(std::span<const uint8_t> bytes) {
  std::array<uint8_t, kHeaderBytes> header{};
  const size_t header_size = std::min(bytes.size(), kHeaderBytes);
  std::copy_n(bytes.begin(), header_size, header.begin());
  Program p = DecodeHeader(header);

  std::span<const uint8_t> body = bytes.subspan(header_size);
  if (p.schedule.strategy == Strategy::kDirected && !body.empty()) {
    // The trailer: preemption records, then their count in the last byte.
    const size_t n = std::min<size_t>(body.back() % (kPreemptionsMax + 1), (body.size() - 1) / kPreemptionBytes);
    const size_t at = body.size() - 1 - n * kPreemptionBytes;
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* r = &body[at + i * kPreemptionBytes];
      p.schedule.preemptions.push_back(
          {static_cast<uint16_t>(LoadLe(r, 2)), static_cast<uint8_t>(r[2] % p.logical_threads())});
    }
    std::stable_sort(p.schedule.preemptions.begin(), p.schedule.preemptions.end(),
                     [](const Preemption& a, const Preemption& b) { return a.step < b.step; });
    body = body.first(at);
  }
  const size_t records = std::min<size_t>(body.size() / kRecordBytes, kOpsMax);
  for (size_t i = 0; i < records; ++i)
    DecodeRecord(static_cast<uint32_t>(LoadLe(&body[i * kRecordBytes], kRecordBytes)), p);
  return p;
}

std::vector<uint8_t> Encode(const Program& p) {
  const Status valid = Validate(p);
  PR_CHECK_MSG(valid.ok(), "Encode of an invalid program: " + valid.message());

  std::vector<uint8_t> out;
  out.reserve(kHeaderBytes + p.op_count() * kRecordBytes);
  out.push_back(static_cast<uint8_t>((p.threads.size() - 1) |
                                     static_cast<uint32_t>(p.schedule.strategy) << kStrategyShift |
                                     (p.schedule.pct_depth - 1u) << kDepthShift));
  out.push_back(static_cast<uint8_t>((p.files - 1) | p.flusher << kFlusherShift |
                                     static_cast<uint32_t>(p.backend) << kBackendShift |
                                     static_cast<uint32_t>(p.io) << kIoShift |
                                     static_cast<uint32_t>(p.points) << kPointsShift |
                                     (p.fuse & 1u) << kFuseLowShift));
  out.push_back(static_cast<uint8_t>((p.file_pages - 1) | (p.fuse >> 1) << kFuseHighShift));
  out.push_back(static_cast<uint8_t>(p.ra_pages | (p.ra_fail << kRaFailShift) | (p.prefill << kPrefillShift)));
  StoreLe(out, p.seed, 8);

  // Ops thread by thread: decoding appends each record to its thread, so this
  // order reproduces every thread's op order exactly.
  for (size_t t = 0; t < p.threads.size(); ++t) {
    for (const Op& op : p.threads[t]) {
      const uint32_t kind = static_cast<uint32_t>(op.kind), sector = op.sector;
      const uint32_t low_kind = kind & ((1u << kKindBits) - 1), low_sector = sector & ((1u << kSectorBits) - 1);
      const uint32_t r = low_kind << kKindShift | static_cast<uint32_t>(t) << kThreadShift |
                         uint32_t{op.file} << kFileShift | low_sector << kSectorShift |
                         (uint32_t{op.count} - 1) << kCountShift | (kind >> kKindBits) << kKindHighShift |
                         (sector >> kSectorBits) << kSectorHighShift;
      StoreLe(out, r, kRecordBytes);
    }
  }
  if (p.schedule.strategy == Strategy::kDirected) {
    for (const Preemption& pr : p.schedule.preemptions) {
      StoreLe(out, pr.step, 2);
      out.push_back(pr.thread);
    }
    out.push_back(static_cast<uint8_t>(p.schedule.preemptions.size()));
  }
  return out;
}

bool HasFileMagic(std::span<const uint8_t> bytes) {
  return bytes.size() >= kFileMagic.size() && std::equal(kFileMagic.begin(), kFileMagic.end(), bytes.begin(),
                                                          [](char m, uint8_t b) { return static_cast<uint8_t>(m) == b; });
}

std::vector<uint8_t> EncodeFile(const Program& program) {
  std::vector<uint8_t> out(kFileMagic.begin(), kFileMagic.end());
  const std::vector<uint8_t> body = Encode(program);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Program DecodeFuzzInput(std::span<const uint8_t> bytes) {
  return Decode(HasFileMagic(bytes) ? bytes.subspan(kFileMagic.size()) : bytes);
}

}  // namespace pagerace
