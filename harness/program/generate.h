// Random programs for the soak: a function of the generator's state only.
// Programs aim at the race windows: ops crowd a few hot pages, punches and
// writes often have page-unaligned edges, and the cache knobs (readahead
// window, readahead fail-fast, prefill, the flusher) vary from program to
// program. Which op kinds a program uses, and how often, and the backend and
// io it runs on, is a Swarm: a soak keeps one for a stretch of programs
// (swarm testing: leaving kinds out lets the rest build up state a full mix
// never reaches; a stretch on one backend switches backends seldom).
// Not thread-safe (uses the caller's Rng).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "harness/base/rng.h"
#include "harness/base/status.h"
#include "harness/program/program.h"

namespace pagerace {

struct GenerateOptions {
  uint32_t threads = 4;          // [1, kThreadsMax]
  uint32_t ops_per_thread = 12;  // at most; each thread gets [1, this] ops
  // Draw each program's shape too (swarm testing over size): `threads` and
  // `ops_per_thread` are then the most, and half the programs are small.
  bool draw_shape = false;
};

// Relative weights of the op kinds, indexed by OpKind (0 = the kind is off),
// and where the programs run: their Program::backend and ::io.
struct Swarm {
  uint32_t weight[kOpKinds] = {};
  BackendKind backend = BackendKind::kMemory;
  IoMode io = IoMode::kPread;  // pread on memory, which has no I/O to move
  Points points = Points::kEvery;
  uint8_t fuse = 0;  // the FUSE target's mount options (program.h); DrawSwarm leaves it 0
  bool operator==(const Swarm&) const = default;
};

// Drops each op kind with probability 1/4 and weights the rest from their
// OpTable() default_weight, scaled at random by [1, 2]. Read or load is
// always on, so that programs observe something. The backend is drawn by
// weight (generate.cc says why these), the io rarely uring, the scheduling
// points every or windows alike.
Swarm DrawSwarm(Rng& rng);

// One line, kinds in OpTable() order: "read 7, write 4, ... (off: punch, fsync)";
// the "(off: ...)" part only when some kind is off.
std::string FormatSwarm(const Swarm& swarm);

// Where its programs run: "backend blockmap, io pread", or "backend memory"
// (which has no io).
std::string FormatBackend(const Swarm& swarm);

// A fixed mix, as the user writes it: "read=6,write=4,punch=1" (kinds by
// their OpTable() names, weights 0..1000; kinds not named are off). Errors
// name the offending item. The backend and io are the defaults.
Result<Swarm> ParseSwarm(std::string_view text);

// Ops are drawn with the swarm's weights: a kind weighted 0 never appears.
// The program runs on the swarm's backend and io.
// REQUIRES: some weight in `swarm` is positive.
Program Generate(Rng& rng, const GenerateOptions& options, const Swarm& swarm);

// Draws a swarm of its own first (DrawSwarm), then generates with it.
Program Generate(Rng& rng, const GenerateOptions& options);

}  // namespace pagerace
