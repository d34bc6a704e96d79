#include "harness/oracle/history.h"

namespace pagerace {

const char* FinalPassName(FinalPass pass) {
  static const char* const kNames[] = {"final/cached", "final/reread", "final/backend"};
  return kNames[static_cast<int>(pass)];
}

std::string OpRecord::Describe() const {
  if (thread == kSetupThread) return "prefill f" + std::to_string(file);
  std::string who = thread == kFinalThread
                        ? std::string(FinalPassName(static_cast<FinalPass>(index)))
                        : "t" + std::to_string(thread) + "#" + std::to_string(index) + " " +
                              InfoOf(kind).name;
  return who + " f" + std::to_string(file) + " s" + std::to_string(sector) + "+" +
         std::to_string(count);
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

}  // namespace pagerace
