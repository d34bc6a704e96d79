// The programs the microbenchmarks work on, made as the soak makes them
// (Generate, each program drawing its own swarm) from a fixed seed, so that
// every run measures the same corpus. Not thread-safe (benchmark setup only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "harness/base/rng.h"
#include "harness/program/generate.h"
#include "harness/program/program.h"

namespace pagerace::bench {

inline constexpr uint64_t kCorpusSeed = 1;
inline constexpr size_t kCorpusPrograms = 64;

// `count` programs of `threads` threads of [1, ops_per_thread] ops each.
inline std::vector<Program> GeneratedPrograms(uint32_t threads, uint32_t ops_per_thread,
                                              size_t count = kCorpusPrograms) {
  Rng rng(kCorpusSeed);
  std::vector<Program> programs;
  programs.reserve(count);
  for (size_t i = 0; i < count; ++i)
    programs.push_back(Generate(rng, {.threads = threads, .ops_per_thread = ops_per_thread}));
  return programs;
}

// The program shapes benchmarked: the soak's default (4 threads, up to 12
// ops each) and the largest (8 threads, up to 32 ops each: kOpsMax at most).
inline void ProgramShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"threads", "ops_per_thread"})->Args({4, 12})->Args({8, 32});
}

inline std::vector<Program> ProgramsFor(const benchmark::State& state) {
  return GeneratedPrograms(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
}

}  // namespace pagerace::bench
