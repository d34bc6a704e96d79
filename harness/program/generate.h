// Random programs for the soak: a function of the generator's state only.
// Programs aim at the race windows: ops crowd a few hot pages, punches and
// writes often have page-unaligned edges, and the cache knobs (readahead
// window, readahead fail-fast) vary from program to program.
// Not thread-safe (uses the caller's Rng).
#pragma once

#include <cstdint>

#include "harness/base/rng.h"
#include "harness/program/program.h"

namespace pagerace {

struct GenerateOptions {
  uint32_t threads = 4;          // [1, kThreadsMax]
  uint32_t ops_per_thread = 12;  // at most; each thread gets [1, this] ops
};

Program Generate(Rng& rng, const GenerateOptions& options);

}  // namespace pagerace
