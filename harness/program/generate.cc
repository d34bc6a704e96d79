#include "harness/program/generate.h"

#include <algorithm>
#include <optional>

#include "harness/base/check.h"

namespace pagerace {
namespace {

constexpr uint64_t kSwarmOffNum = 1, kSwarmOffDen = 4;

// How often a swarm's programs run on each backend, indexed by BackendKind.
// Blockmap is where the block-lifetime bugs show: freed blocks are reused at
// once, so a read through a stale mapping returns another file's data
// (FOREIGN) and a stale write-back corrupts another file; a stale read that
// finds its block not yet reused reads STALE as on memory. Each of its I/Os is
// a system call, though, so memory keeps the larger share for throughput.
// File is memory through the host's files, verdict for verdict, at the cost
// of the system calls: drawn rarely, so that its path still runs.
constexpr uint32_t kBackendWeight[kBackendKinds] = {/*memory*/ 9, /*file*/ 1, /*blockmap*/ 6};
static_assert(static_cast<int>(BackendKind::kMemory) == 0 && static_cast<int>(BackendKind::kFile) == 1 &&
              static_cast<int>(BackendKind::kBlockmap) == 2);
// io_uring moves the same data as pread (and only on file and blockmap): its
// own paths run now and then.
constexpr uint64_t kUringNum = 1, kUringDen = 8;

size_t Index(OpKind kind) { return static_cast<size_t>(kind); }

// REQUIRES: total > 0.
OpKind PickKind(Rng& rng, const Swarm& swarm, uint64_t total) {
  uint64_t x = rng.Below(total);
  for (uint32_t k = 0; k < kOpKinds; ++k) {
    if (x < swarm.weight[k]) return static_cast<OpKind>(k);
    x -= swarm.weight[k];
  }
  return OpKind::kRead;
}

// Phased programs: set-up ops first (writes of any kind, then write-back and
// eviction, then forced readahead), then the racing ones (reads, loads,
// punches), so threads that start together race on state the set-up built,
// e.g. punching a page whose readahead failed. Every kind is listed, so a
// new one has to be placed.
int Phase(OpKind kind) {
  switch (kind) {
    case OpKind::kWrite:
    case OpKind::kStore:
    case OpKind::kWriteMapped:
    case OpKind::kDioWrite:
      return 0;
    case OpKind::kEvict:
    case OpKind::kFsync:
    case OpKind::kFdatasync:
      return 1;
    case OpKind::kReadahead:
    case OpKind::kMadvise:
    case OpKind::kSysReadahead:
      return 2;
    case OpKind::kRead:
    case OpKind::kPunch:
    case OpKind::kZeroRange:
    case OpKind::kLoad:
    case OpKind::kTruncate:
    case OpKind::kDioRead:
    case OpKind::kCollapse:
    case OpKind::kInsert:
      return 3;
  }
  return 3;
}

}  // namespace

Swarm DrawSwarm(Rng& rng) {
  Swarm swarm;
  for (uint32_t k = 0; k < kOpKinds; ++k) {
    const uint32_t base = OpTable()[k].default_weight;
    swarm.weight[k] =
        rng.Chance(kSwarmOffNum, kSwarmOffDen) ? 0 : base + static_cast<uint32_t>(rng.Below(base + 1));
  }
  // There is always something to observe.
  if (swarm.weight[Index(OpKind::kRead)] == 0 && swarm.weight[Index(OpKind::kLoad)] == 0) {
    const OpKind observer = rng.Chance(1, 2) ? OpKind::kRead : OpKind::kLoad;
    swarm.weight[Index(observer)] = InfoOf(observer).default_weight;
  }
  uint32_t total = 0;
  for (uint32_t w : kBackendWeight) total += w;
  uint64_t x = rng.Below(total);
  uint32_t b = 0;
  while (x >= kBackendWeight[b]) x -= kBackendWeight[b++];
  swarm.backend = static_cast<BackendKind>(b);
  if (swarm.backend != BackendKind::kMemory && rng.Chance(kUringNum, kUringDen)) swarm.io = IoMode::kUring;
  if (rng.Chance(1, 2)) swarm.points = Points::kWindows;
  return swarm;
}

std::string FormatSwarm(const Swarm& swarm) {
  std::string on, off;
  for (const OpInfo& info : OpTable()) {
    const uint32_t w = swarm.weight[Index(info.kind)];
    std::string& list = w == 0 ? off : on;
    if (!list.empty()) list += ", ";
    list += info.name;
    if (w != 0) list += " " + std::to_string(w);
  }
  if (on.empty()) on = "no kind on";
  return off.empty() ? on : on + " (off: " + off + ")";
}

std::string FormatBackend(const Swarm& swarm) {
  std::string line = std::string("backend ") + BackendName(swarm.backend);
  if (swarm.backend != BackendKind::kMemory) line += std::string(", io ") + IoModeName(swarm.io);
  if (swarm.points != Points::kEvery) line += std::string(", points ") + PointsName(swarm.points);
  if (swarm.fuse != 0) line += std::string(", fuse ") + FuseMountName(swarm.fuse);
  return line;
}

Result<Swarm> ParseSwarm(std::string_view text) {
  Swarm swarm;
  bool any = false;
  for (size_t at = 0; at <= text.size();) {
    const size_t end = std::min(text.find(',', at), text.size());
    const std::string_view item = text.substr(at, end - at);
    at = end + 1;
    const size_t eq = item.find('=');
    const std::string quoted = "'" + std::string(item) + "'";
    if (eq == std::string_view::npos)
      return Status::InvalidArgument("mix item " + quoted + ": expected KIND=WEIGHT");
    const std::optional<OpKind> kind = OpKindFromName(item.substr(0, eq));
    if (!kind) {
      std::string names;
      for (const OpInfo& info : OpTable()) names += std::string(names.empty() ? "" : " ") + info.name;
      return Status::InvalidArgument("mix item " + quoted + ": unknown op kind (expected one of: " + names + ")");
    }
    const std::string_view digits = item.substr(eq + 1);
    uint32_t weight = 0;
    bool ok = !digits.empty() && digits.size() <= 4;
    for (char c : digits) {
      ok = ok && c >= '0' && c <= '9';
      weight = weight * 10 + static_cast<uint32_t>(c - '0');
    }
    if (!ok || weight > 1000) return Status::InvalidArgument("mix item " + quoted + ": weight must be 0..1000");
    swarm.weight[Index(*kind)] = weight;
    any = any || weight > 0;
  }
  if (!any) return Status::InvalidArgument("mix: every op kind is off");
  return swarm;
}

Program Generate(Rng& rng, const GenerateOptions& options) {
  const Swarm swarm = DrawSwarm(rng);
  return Generate(rng, options, swarm);
}

Program Generate(Rng& rng, const GenerateOptions& options, const Swarm& swarm) {
  uint64_t total_weight = 0;
  for (uint32_t w : swarm.weight) total_weight += w;
  PR_CHECK_MSG(total_weight > 0, "Generate with a swarm that has every op kind off");

  Program p;
  p.files = static_cast<uint8_t>(rng.Range(1, 2));
  p.file_pages = static_cast<uint16_t>(rng.Range(2, 16));
  static constexpr uint8_t kRaChoices[] = {0, 0, 1, 2, 4, 8};
  p.ra_pages = kRaChoices[rng.Below(sizeof kRaChoices)];
  p.ra_fail = static_cast<uint8_t>(rng.Below(kRaFailMax + 1));
  p.prefill = static_cast<uint8_t>(rng.Below(kPrefillMax + 1));
  p.flusher = rng.Chance(1, 3) ? 1 : 0;
  p.backend = swarm.backend;
  p.io = swarm.io;
  p.points = swarm.points;
  p.fuse = swarm.fuse;
  p.seed = rng.Next();

  // A hot window of a few pages where most ops land.
  const uint32_t hot_pages = static_cast<uint32_t>(std::min<uint64_t>(p.file_pages, rng.Range(1, 4)));
  const uint32_t hot_first = static_cast<uint32_t>(rng.Below(p.file_pages - hot_pages + 1));
  const uint32_t sectors = p.file_sectors();

  uint32_t threads = std::clamp<uint32_t>(options.threads, 1, kThreadsMax);
  uint32_t per_thread = options.ops_per_thread;
  if (options.draw_shape) {
    // Most races of the class need two threads and a few ops each, and a
    // controlled strategy's chance to place its preemptions right falls
    // with the run's length (PCT: as the (d-1)th power of its steps), so
    // half the programs have two threads and half have at most four ops a
    // thread; the rest use the whole size.
    if (threads > 2) threads = rng.Chance(1, 2) ? 2 : static_cast<uint32_t>(rng.Range(2, threads));
    if (rng.Chance(1, 2)) per_thread = std::min<uint32_t>(per_thread, static_cast<uint32_t>(rng.Range(1, 4)));
  }
  per_thread = std::clamp<uint32_t>(per_thread, 1, kOpsMax / threads);
  p.threads.assign(threads, {});
  for (auto& ops : p.threads) {
    const uint32_t n = static_cast<uint32_t>(rng.Range(1, per_thread));
    for (uint32_t i = 0; i < n; ++i) {
      Op op;
      op.kind = PickKind(rng, swarm, total_weight);
      op.file = static_cast<uint8_t>(rng.Below(p.files));
      uint32_t first_page = hot_first, pages = hot_pages;
      if (rng.Chance(1, 5)) first_page = 0, pages = p.file_pages;
      uint32_t start = (first_page + static_cast<uint32_t>(rng.Below(pages))) * kSectorsPerPage;
      if (rng.Chance(1, 2)) start += static_cast<uint32_t>(rng.Below(kSectorsPerPage));
      uint32_t count = rng.Chance(1, 2) ? kSectorsPerPage * static_cast<uint32_t>(rng.Range(1, 2))
                                        : static_cast<uint32_t>(rng.Range(1, 2 * kSectorsPerPage));
      start = std::min(start, sectors - 1);
      count = std::min({count, sectors - start, kOpSectorsMax});
      op.sector = static_cast<uint16_t>(start);
      op.count = static_cast<uint16_t>(count);
      // A size op cuts the file inside the hot window (half the time in the
      // middle of a page), or now and then gives it back its whole size.
      if (SetsSize(op.kind)) op.sector = static_cast<uint16_t>(rng.Chance(1, 4) ? sectors : start), op.count = 1;
      // A direct op, a collapse or an insert covers the pages of its range.
      if (WholePages(op.kind)) {
        op.sector = static_cast<uint16_t>(start / kSectorsPerPage * kSectorsPerPage);
        const uint32_t end = std::min((start + count + kSectorsPerPage - 1) / kSectorsPerPage * kSectorsPerPage,
                                      op.sector + kOpSectorsMax);
        op.count = static_cast<uint16_t>(end - op.sector);
      }
      ops.push_back(op);
    }
  }
  if (rng.Chance(1, 2)) {
    for (auto& ops : p.threads)
      std::stable_sort(ops.begin(), ops.end(), [](const Op& a, const Op& b) { return Phase(a.kind) < Phase(b.kind); });
  }
  return p;
}

}  // namespace pagerace
