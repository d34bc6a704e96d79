// Test helpers for the program format tests: a program with every knob at
// its widest, and the largest valid program, the one whose binary and text
// forms are the longest. Test code only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "harness/program/program.h"

namespace pagerace {

// Every knob at its widest (the seed too), kThreadsMax threads, no ops.
inline Program WidestKnobs() {
  Program p{.files = kFilesMax,
            .file_pages = kFilePagesMax,
            .ra_pages = kRaPagesMax,
            .ra_fail = kRaFailMax,
            .prefill = kPrefillMax,
            .flusher = kFlusherMax,
            .backend = BackendKind::kMaxValue,
            .io = IoMode::kMaxValue,
            .seed = ~uint64_t{0},
            .schedule = {.strategy = Strategy::kRandom, .pct_depth = kPctDepthMax, .preemptions = {}},
            .threads = std::vector<std::vector<Op>>(kThreadsMax)};
  return p;
}

// WidestKnobs, directed, with kOpsMax ops of the longest-named kind on the
// last sectors of the last file and kPreemptionsMax preemptions at the last
// step: both formats' largest output.
inline Program LargestProgram() {
  Program p = WidestKnobs();
  p.schedule.strategy = Strategy::kDirected;
  OpKind longest = OpKind::kRead;
  for (const OpInfo& info : OpTable())
    if (std::string_view(info.name).size() > std::string_view(InfoOf(longest).name).size()) longest = info.kind;
  const Op op{longest, static_cast<uint8_t>(kFilesMax - 1),
              static_cast<uint16_t>(p.file_sectors() - kOpSectorsMax), static_cast<uint16_t>(kOpSectorsMax)};
  for (uint32_t i = 0; i < kOpsMax; ++i) p.threads[i % kThreadsMax].push_back(op);
  for (uint32_t i = 0; i < kPreemptionsMax; ++i)
    p.schedule.preemptions.push_back({static_cast<uint16_t>(kPreemptStepMax), static_cast<uint8_t>(kThreadsMax)});
  return p;
}

}  // namespace pagerace
