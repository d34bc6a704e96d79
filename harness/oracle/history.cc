#include "harness/oracle/history.h"

namespace pagerace {

const char* FinalPassName(FinalPass pass) {
  static const char* const kNames[] = {"final/cached", "final/mapped", "final/backend"};
  return kNames[static_cast<int>(pass)];
}

std::string OpRecord::Describe() const {
  if (thread == kSetupThread) return "prefill f" + std::to_string(file);
  std::string who = thread == kFinalThread
                        ? std::string(FinalPassName(static_cast<FinalPass>(index)))
                        : "t" + std::to_string(thread) + "#" + std::to_string(index) + " " +
                              InfoOf(kind).name;
  return who + " " + OpOperands(thread == kFinalThread ? OpKind::kRead : kind, file, sector, count);
}

void ObserveSectors(const uint64_t* words, uint32_t count, OpRecord& record) {
  record.observed.reserve(record.observed.size() + count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t* sector = words + size_t{i} * kSectorWords;
    SectorTag tag = ClassifySector(sector);
    if (tag.kind == SectorTag::kMixed) record.raw.insert(record.raw.end(), sector, sector + kSectorWords);
    record.observed.push_back(tag);
  }
}

std::string DescribeTag(const SectorTag& tag, uint32_t file, uint32_t sector) {
  switch (tag.kind) {
    case SectorTag::kZero: return "zeros";
    case SectorTag::kMixed: return "torn/garbage";
    case SectorTag::kUninit: return "unfilled memory of f" + std::to_string(tag.file) + " s" + std::to_string(tag.sector);
    case SectorTag::kWhole: break;
  }
  std::string s = "gen " + std::to_string(tag.gen);
  if (tag.file != file || tag.sector != sector)
    s += " of f" + std::to_string(tag.file) + " s" + std::to_string(tag.sector);
  return s;
}

std::string DescribeResult(const OpRecord& rec) {
  if (rec.response == kStampNever) return "failed";
  if (OpRecord::WritesData(rec.kind)) return "wrote gen " + std::to_string(rec.gen);
  if (OpRecord::WritesZeros(rec.kind)) return "zeroed (gen " + std::to_string(rec.gen) + ")";
  if (!rec.Reads() || rec.observed.empty()) return "ok";
  // Runs of sectors that read the same thing: "saw s8-15 gen 5, s16 zeros".
  std::string out = "saw";
  for (size_t i = 0; i < rec.observed.size();) {
    const std::string what = DescribeTag(rec.observed[i], rec.file, rec.sector + i);
    size_t j = i + 1;
    while (j < rec.observed.size() && rec.observed[j].kind == rec.observed[i].kind &&
           rec.observed[j].gen == rec.observed[i].gen &&
           DescribeTag(rec.observed[j], rec.file, rec.sector + j) == what)
      ++j;
    out += (i == 0 ? " s" : ", s") + std::to_string(rec.sector + i);
    if (j - i > 1) out += "-" + std::to_string(rec.sector + j - 1);
    out += " " + what;
    i = j;
  }
  return out;
}

}  // namespace pagerace
