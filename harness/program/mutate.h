// Structure-aware mutation: what the engines' custom mutators do to an input
// (libFuzzer's LLVMFuzzerCustomMutator and CustomCrossOver in the fuzz
// targets, AFL++'s custom mutator library in targets/afl_mutator.cc). Byte
// mutations of the codec's records mostly move ops to threads and ranges
// where they race with nothing; these work on the decoded program instead:
// ops are inserted, deleted, duplicated, swapped, moved to another thread or
// aimed at another op's range, knobs and the schedule change, preemptions
// are added, removed or moved, threads are spliced from a second program,
// and now and then the generator (generate.h) starts afresh. Every result is
// a valid program, and its encoding is a valid input.
//
// A function of its arguments: the same input, partner and seed give the
// same output. Not thread-safe (the caller's Rng).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "harness/base/rng.h"
#include "harness/program/program.h"

namespace pagerace {

// The operators, in the order MutationName and the tests list them.
enum class Mutation : uint8_t {
  kInsertOp,          // a new op, half the time over an existing op's range
  kDeleteOp,          // one op removed (never the last)
  kDuplicateOp,       // a copy of an op, in any thread
  kSwapOps,           // two ops trade places (across threads too)
  kMoveOp,            // an op moves to another thread (a new one, if there is room)
  kRetarget,          // an op takes another op's file and a range overlapping it
  kChangeOp,          // an op's kind, or its range nudged or redrawn
  kChangeKnob,        // files, file pages, readahead, prefill, flusher, backend, io, points or threads
  kAddPreemption,     // a preemption point (the schedule turns directed)
  kRemovePreemption,  // a preemption point removed
  kShiftPreemption,   // a preemption point moved a few steps, or to another thread
  kChangeSchedule,    // the strategy, the PCT depth or the seed
  kSplice,            // threads from a second program (a crossover)
  kFresh,             // a new program from the generator
  kMaxValue = kFresh,
};
inline constexpr uint32_t kMutations = static_cast<uint32_t>(Mutation::kMaxValue) + 1;
std::string_view MutationName(Mutation mutation);

// The size of Encode(program) in bytes (codec.h), without building it.
size_t EncodedSize(const Program& program);

// Folds every field of `program` into range, as Decode folds a record's
// (codec.h's FoldOp): threads cut to [1, kThreadsMax], ops refolded for the
// files and size, at most kOpsMax ops, preemptions only on a directed
// schedule, in step order, to threads that exist. Valid afterwards.
void Fold(Program& program);

// Applies `mutation` to `program` with choices from `rng`; `partner` is
// what kSplice takes threads from (an empty one: the program itself).
// Returns false, leaving the program as it was, when the operator does not
// apply (kDeleteOp with one op, kRemovePreemption with none, ...).
// REQUIRES: Validate(program).ok(). Afterwards it is still valid.
bool ApplyMutation(Rng& rng, Mutation mutation, Program& program, const Program& partner);

// One to four operators drawn from `rng`, each applied in turn (those that
// do not apply are drawn again), appended to `applied` if not null. Splices with `partner`. The result is valid, and then cut (ops
// from the end of the longest thread, then preemptions) until its encoding
// fits `max_bytes` (at least kHeaderBytes).
Program MutateProgram(Rng& rng, const Program& program, const Program& partner, size_t max_bytes,
                      std::vector<Mutation>* applied = nullptr);

// The engines' entry: decodes `input` as a fuzzer input (DecodeFuzzInput),
// mutates it (MutateProgram with `partner` decoded alike, seeded by `seed`)
// and returns the encoding (no file magic), at most `max_bytes` long.
std::vector<uint8_t> MutateInput(std::span<const uint8_t> input, std::span<const uint8_t> partner, uint64_t seed,
                                 size_t max_bytes);

// The engines' crossover: the two inputs decoded alike, spliced (kSplice),
// encoded, at most `max_bytes` long.
std::vector<uint8_t> CrossOverInputs(std::span<const uint8_t> a, std::span<const uint8_t> b, uint64_t seed,
                                     size_t max_bytes);

}  // namespace pagerace
