#include "harness/program/mutate.h"

#include <algorithm>
#include <array>
#include <utility>

#include "harness/program/codec.h"
#include "harness/program/generate.h"

namespace pagerace {
namespace {

// How often each operator is drawn, indexed by Mutation: the op-level ones
// most, a fresh program about once in fifty draws.
constexpr std::array<uint32_t, kMutations> kWeight = {
    /*insert*/ 6, /*delete*/ 4, /*duplicate*/ 4, /*swap*/ 4, /*move*/ 4, /*retarget*/ 6, /*change op*/ 6,
    /*knob*/ 4, /*add preemption*/ 2, /*remove preemption*/ 2, /*shift preemption*/ 2, /*schedule*/ 4,
    /*splice*/ 2, /*fresh*/ 1};

constexpr std::array<std::string_view, kMutations> kNames = {
    "insert-op",      "delete-op",         "duplicate-op",     "swap-ops",        "move-op",
    "retarget",       "change-op",         "change-knob",      "add-preemption",  "remove-preemption",
    "shift-preemption", "change-schedule", "splice",           "fresh"};

struct OpRef {
  size_t thread = 0, index = 0;
};

// Uniform over the program's ops. REQUIRES: op_count() > 0.
OpRef PickOp(Rng& rng, const Program& p) {
  size_t n = rng.Below(p.op_count());
  for (size_t t = 0;; ++t) {
    if (n < p.threads[t].size()) return {t, n};
    n -= p.threads[t].size();
  }
}

// Uniform over the ops other than `not_this`. REQUIRES: op_count() > 1.
OpRef PickOtherOp(Rng& rng, const Program& p, OpRef not_this) {
  size_t n = rng.Below(p.op_count() - 1);
  for (size_t t = 0;; ++t) {
    for (size_t i = 0; i < p.threads[t].size(); ++i) {
      if (t == not_this.thread && i == not_this.index) continue;
      if (n-- == 0) return {t, i};
    }
  }
}

Op& At(Program& p, OpRef r) { return p.threads[r.thread][r.index]; }

// A kind drawn by the op table's default weights.
uint32_t DrawKind(Rng& rng) {
  uint64_t total = 0;
  for (const OpInfo& info : OpTable()) total += info.default_weight;
  uint64_t x = rng.Below(total);
  for (const OpInfo& info : OpTable()) {
    if (x < info.default_weight) return static_cast<uint32_t>(info.kind);
    x -= info.default_weight;
  }
  return 0;
}

// A length in sectors: a page or two half the time (the cache's unit), else
// a few sectors (page-unaligned edges).
uint32_t DrawCount(Rng& rng) {
  return rng.Chance(1, 2) ? kSectorsPerPage * static_cast<uint32_t>(rng.Range(1, 2))
                          : static_cast<uint32_t>(rng.Range(1, 2 * kSectorsPerPage));
}

// An op of `kind` on `file`, `count` sectors long, whose range overlaps
// `like`'s (a size op's range is the sector at its size), folded for p.
Op Overlapping(Rng& rng, const Program& p, uint32_t kind, uint32_t count, const Op& like) {
  const int64_t lo = static_cast<int64_t>(like.sector) - count + 1;
  const int64_t hi = static_cast<int64_t>(like.sector) + (SetsSize(like.kind) ? 1 : like.count) - 1;
  const int64_t start = std::clamp<int64_t>(lo + static_cast<int64_t>(rng.Below(hi - lo + 1)), 0, p.file_sectors() - 1);
  return FoldOp(p, kind, like.file, static_cast<uint32_t>(start), count);
}

// A new op: over an existing op's range half the time, anywhere otherwise.
Op DrawOp(Rng& rng, const Program& p) {
  const uint32_t kind = DrawKind(rng), count = DrawCount(rng);
  if (p.op_count() > 0 && rng.Chance(1, 2)) {
    const OpRef r = PickOp(rng, p);
    return Overlapping(rng, p, kind, count, p.threads[r.thread][r.index]);
  }
  return FoldOp(p, kind, static_cast<uint32_t>(rng.Below(p.files)), static_cast<uint32_t>(rng.Below(p.file_sectors())),
                count);
}

Op Refold(const Program& p, const Op& op) {
  return FoldOp(p, static_cast<uint32_t>(op.kind), op.file, op.sector, op.count);
}

void InsertAt(Rng& rng, std::vector<Op>& ops, const Op& op) {
  ops.insert(ops.begin() + static_cast<ptrdiff_t>(rng.Below(ops.size() + 1)), op);
}

// A step for a new preemption: a few steps from an existing one half the
// time, else anywhere in a run of the program's length (a few dozen steps an
// op, as explore's schedules show).
uint16_t DrawStep(Rng& rng, const Program& p) {
  const auto& pre = p.schedule.preemptions;
  if (!pre.empty() && rng.Chance(1, 2)) {
    const int64_t at = pre[rng.Below(pre.size())].step + static_cast<int64_t>(rng.Range(0, 16)) - 8;
    return static_cast<uint16_t>(std::clamp<int64_t>(at, 0, kPreemptStepMax));
  }
  return static_cast<uint16_t>(rng.Below(std::min<uint64_t>(kPreemptStepMax + 1, 24 * p.op_count() + 32)));
}

void SortPreemptions(Program& p) {
  std::stable_sort(p.schedule.preemptions.begin(), p.schedule.preemptions.end(),
                   [](const Preemption& a, const Preemption& b) { return a.step < b.step; });
}

bool ChangeKnob(Rng& rng, Program& p) {
  switch (rng.Below(10)) {
    case 0: p.files = static_cast<uint8_t>(rng.Range(1, kFilesMax)); break;
    case 1:
      p.file_pages = static_cast<uint16_t>(
          rng.Chance(1, 2) ? std::clamp<int64_t>(p.file_pages + static_cast<int64_t>(rng.Range(0, 8)) - 4, 1, kFilePagesMax)
                           : rng.Range(1, kFilePagesMax));
      break;
    case 2: p.ra_pages = static_cast<uint8_t>(rng.Below(kRaPagesMax + 1)); break;
    case 3: p.ra_fail = static_cast<uint8_t>(rng.Below(kRaFailMax + 1)); break;
    case 4: p.prefill ^= 1; break;
    case 5: p.flusher ^= 1; break;
    case 6: p.backend = static_cast<BackendKind>(rng.Below(kBackendKinds)); break;
    case 7: p.io = static_cast<IoMode>(rng.Below(kIoModes)); break;
    case 8: p.points = static_cast<Points>(rng.Below(kPointsKinds)); break;
    default:  // a thread more (with an op) or less (if ops remain)
      if (p.threads.size() < kThreadsMax && (p.threads.size() == 1 || rng.Chance(1, 2))) {
        p.threads.push_back({DrawOp(rng, p)});
        break;
      }
      if (p.threads.size() == 1) return false;
      {
        const size_t t = rng.Below(p.threads.size());
        if (p.op_count() == p.threads[t].size()) return false;
        p.threads.erase(p.threads.begin() + static_cast<ptrdiff_t>(t));
      }
      break;
  }
  Fold(p);
  return true;
}

bool ChangeSchedule(Rng& rng, Program& p) {
  ScheduleSpec& s = p.schedule;
  switch (rng.Below(4)) {
    case 0:
      s.strategy = static_cast<Strategy>((static_cast<uint32_t>(s.strategy) + rng.Range(1, kStrategies - 1)) % kStrategies);
      if (s.strategy != Strategy::kDirected) s.preemptions.clear();
      break;
    case 1: s.pct_depth = static_cast<uint8_t>(rng.Range(1, kPctDepthMax)); break;
    default: p.seed = rng.Next(); break;  // random and PCT schedules, jitter: a new interleaving
  }
  return true;
}

// Threads from `a` and `b` by position, each from one of them at random (a
// thread within the longer's count), and one's knobs; half the time one
// thread is cut in two and joined with the other's at the cut.
Program Splice(Rng& rng, const Program& a, const Program& b) {
  Program out = rng.Chance(1, 2) ? a : b;
  const size_t n = std::max(a.threads.size(), b.threads.size());
  out.threads.assign(n, {});
  for (size_t t = 0; t < n; ++t) {
    const bool from_a = t >= b.threads.size() || (t < a.threads.size() && rng.Chance(1, 2));
    out.threads[t] = (from_a ? a : b).threads[t];
  }
  if (rng.Chance(1, 2)) {
    const size_t t = rng.Below(std::min(a.threads.size(), b.threads.size()));
    const auto& x = a.threads[t];
    const auto& y = b.threads[t];
    std::vector<Op> joined(x.begin(), x.begin() + static_cast<ptrdiff_t>(rng.Below(x.size() + 1)));
    joined.insert(joined.end(), y.begin() + static_cast<ptrdiff_t>(rng.Below(y.size() + 1)), y.end());
    out.threads[t] = std::move(joined);
  }
  Fold(out);
  return out;
}

// Drops the last op of the longest thread; false if there is none.
bool PopLongest(Program& p) {
  auto longest = std::max_element(p.threads.begin(), p.threads.end(),
                                  [](const auto& x, const auto& y) { return x.size() < y.size(); });
  if (longest->empty()) return false;
  longest->pop_back();
  return true;
}

// Cuts ops from the end of the longest thread, then preemptions, until the
// encoding fits (or nothing is left to cut).
void FitBytes(Program& p, size_t max_bytes) {
  while (EncodedSize(p) > max_bytes) {
    if (PopLongest(p)) continue;
    if (p.schedule.preemptions.empty()) return;
    p.schedule.preemptions.pop_back();
  }
}

Mutation DrawMutation(Rng& rng) {
  uint64_t total = 0;
  for (uint32_t w : kWeight) total += w;
  uint64_t x = rng.Below(total);
  uint32_t m = 0;
  while (x >= kWeight[m]) x -= kWeight[m++];
  return static_cast<Mutation>(m);
}

}  // namespace

std::string_view MutationName(Mutation mutation) { return kNames[static_cast<size_t>(mutation)]; }

size_t EncodedSize(const Program& p) {
  size_t n = kHeaderBytes + p.op_count() * kRecordBytes;
  if (p.schedule.strategy == Strategy::kDirected) n += p.schedule.preemptions.size() * kPreemptionBytes + 1;
  return n;
}

void Fold(Program& p) {
  if (p.threads.empty()) p.threads.emplace_back();
  if (p.threads.size() > kThreadsMax) p.threads.resize(kThreadsMax);
  p.files = std::clamp<uint8_t>(p.files, 1, kFilesMax);
  p.file_pages = std::clamp<uint16_t>(p.file_pages, 1, kFilePagesMax);
  for (auto& ops : p.threads)
    for (Op& op : ops) op = Refold(p, op);
  while (p.op_count() > kOpsMax) PopLongest(p);
  ScheduleSpec& s = p.schedule;
  s.pct_depth = std::clamp<uint8_t>(s.pct_depth, 1, kPctDepthMax);
  if (s.strategy != Strategy::kDirected) s.preemptions.clear();
  if (s.preemptions.size() > kPreemptionsMax) s.preemptions.resize(kPreemptionsMax);
  for (Preemption& pr : s.preemptions) pr.thread = static_cast<uint8_t>(pr.thread % p.logical_threads());
  SortPreemptions(p);
}

bool ApplyMutation(Rng& rng, Mutation mutation, Program& p, const Program& partner) {
  const size_t ops = p.op_count();
  auto& pre = p.schedule.preemptions;
  switch (mutation) {
    case Mutation::kInsertOp: {
      if (ops >= kOpsMax) return false;
      const Op op = DrawOp(rng, p);
      InsertAt(rng, p.threads[rng.Below(p.threads.size())], op);
      return true;
    }
    case Mutation::kDeleteOp: {
      if (ops < 2) return false;
      const OpRef r = PickOp(rng, p);
      p.threads[r.thread].erase(p.threads[r.thread].begin() + static_cast<ptrdiff_t>(r.index));
      return true;
    }
    case Mutation::kDuplicateOp: {
      if (ops == 0 || ops >= kOpsMax) return false;
      const Op op = At(p, PickOp(rng, p));
      InsertAt(rng, p.threads[rng.Below(p.threads.size())], op);
      return true;
    }
    case Mutation::kSwapOps: {
      if (ops < 2) return false;
      const OpRef a = PickOp(rng, p), b = PickOtherOp(rng, p, a);
      if (At(p, a) == At(p, b)) return false;
      std::swap(At(p, a), At(p, b));
      return true;
    }
    case Mutation::kMoveOp: {
      if (ops == 0) return false;
      const OpRef r = PickOp(rng, p);
      const Op op = At(p, r);
      if (p.threads.size() == 1 && ops == 1) return false;  // nowhere else to run it
      size_t to = p.threads.size();
      if (p.threads.size() == 1 || (p.threads.size() < kThreadsMax && rng.Chance(1, 4))) {
        p.threads.emplace_back();
      } else {
        to = rng.Below(p.threads.size() - 1);
        if (to >= r.thread) ++to;
      }
      p.threads[r.thread].erase(p.threads[r.thread].begin() + static_cast<ptrdiff_t>(r.index));
      InsertAt(rng, p.threads[std::min(to, p.threads.size() - 1)], op);
      Fold(p);  // a new thread shifts the flusher's number
      return true;
    }
    case Mutation::kRetarget: {
      if (ops < 2) return false;
      const OpRef a = PickOp(rng, p), b = PickOtherOp(rng, p, a);
      const Op like = At(p, b);
      Op& op = At(p, a);
      const uint32_t count = rng.Chance(1, 2) || SetsSize(like.kind) ? op.count : like.count;
      const Op moved = Overlapping(rng, p, static_cast<uint32_t>(op.kind), count, like);
      if (moved == op) return false;
      op = moved;
      return true;
    }
    case Mutation::kChangeOp: {
      if (ops == 0) return false;
      Op& op = At(p, PickOp(rng, p));
      const Op before = op;
      const int64_t delta = static_cast<int64_t>(rng.Range(1, 8)) * (rng.Chance(1, 2) ? 1 : -1);
      uint32_t kind = static_cast<uint32_t>(op.kind), sector = op.sector, count = op.count;
      switch (rng.Below(4)) {
        case 0: kind = DrawKind(rng); break;
        case 1: sector = static_cast<uint32_t>(std::clamp<int64_t>(sector + delta, 0, p.file_sectors())); break;
        case 2: count = static_cast<uint32_t>(std::clamp<int64_t>(count + delta, 1, kOpSectorsMax)); break;
        default:
          sector = static_cast<uint32_t>(rng.Below(p.file_sectors()));
          count = DrawCount(rng);
          break;
      }
      // A size op's sector is a size, up to the file's; any other op's stays inside.
      if (!SetsSize(static_cast<OpKind>(kind % kOpKinds))) sector = std::min(sector, p.file_sectors() - 1);
      op = FoldOp(p, kind, op.file, sector, SetsSize(before.kind) ? DrawCount(rng) : count);
      return !(op == before);
    }
    case Mutation::kChangeKnob:
      return ChangeKnob(rng, p);
    case Mutation::kAddPreemption: {
      if (pre.size() >= kPreemptionsMax) return false;
      p.schedule.strategy = Strategy::kDirected;
      pre.push_back({DrawStep(rng, p), static_cast<uint8_t>(rng.Below(p.logical_threads()))});
      SortPreemptions(p);
      return true;
    }
    case Mutation::kRemovePreemption:
      if (pre.empty()) return false;
      pre.erase(pre.begin() + static_cast<ptrdiff_t>(rng.Below(pre.size())));
      return true;
    case Mutation::kShiftPreemption: {
      if (pre.empty()) return false;
      Preemption& pr = pre[rng.Below(pre.size())];
      const Preemption before = pr;
      if (rng.Chance(1, 2) || p.logical_threads() == 1) {
        const int64_t delta = static_cast<int64_t>(rng.Range(1, 8)) * (rng.Chance(1, 2) ? 1 : -1);
        pr.step = static_cast<uint16_t>(std::clamp<int64_t>(pr.step + delta, 0, kPreemptStepMax));
      } else {
        pr.thread = static_cast<uint8_t>((pr.thread + rng.Range(1, p.logical_threads() - 1)) % p.logical_threads());
      }
      if (pr == before) return false;
      SortPreemptions(p);
      return true;
    }
    case Mutation::kChangeSchedule:
      return ChangeSchedule(rng, p);
    case Mutation::kSplice:
      p = Splice(rng, p, partner.op_count() > 0 ? partner : p);
      return true;
    case Mutation::kFresh:
      p = Generate(rng, GenerateOptions{.threads = 4, .ops_per_thread = 12, .draw_shape = true});
      return true;
  }
  return false;
}

Program MutateProgram(Rng& rng, const Program& program, const Program& partner, size_t max_bytes,
                      std::vector<Mutation>* applied) {
  Program p = program;
  const int stack = rng.Chance(1, 2) ? 1 : static_cast<int>(rng.Range(2, 4));
  for (int i = 0; i < stack; ++i) {
    for (;;) {  // kChangeSchedule always applies, so this ends
      const Mutation m = DrawMutation(rng);
      if (!ApplyMutation(rng, m, p, partner)) continue;
      if (applied != nullptr) applied->push_back(m);
      break;
    }
  }
  FitBytes(p, max_bytes);
  return p;
}

namespace {

// The encoding of `p` cut to fit: FitBytes, then, if even a header does not
// fit, the bytes themselves (a short header still decodes).
std::vector<uint8_t> EncodeFitting(Program p, size_t max_bytes) {
  FitBytes(p, max_bytes);
  std::vector<uint8_t> out = Encode(p);
  if (out.size() > max_bytes) out.resize(max_bytes);
  return out;
}

}  // namespace

std::vector<uint8_t> MutateInput(std::span<const uint8_t> input, std::span<const uint8_t> partner, uint64_t seed,
                                 size_t max_bytes) {
  const Program p = DecodeFuzzInput(input);
  const Program other = partner.empty() ? Program{} : DecodeFuzzInput(partner);
  Rng rng(Mix64(seed));
  return EncodeFitting(MutateProgram(rng, p, other, max_bytes), max_bytes);
}

std::vector<uint8_t> CrossOverInputs(std::span<const uint8_t> a, std::span<const uint8_t> b, uint64_t seed,
                                     size_t max_bytes) {
  Program p = DecodeFuzzInput(a);
  Rng rng(Mix64(seed));
  ApplyMutation(rng, Mutation::kSplice, p, DecodeFuzzInput(b));
  return EncodeFitting(std::move(p), max_bytes);
}

}  // namespace pagerace
