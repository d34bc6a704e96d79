#include "harness/program/generate.h"

#include <algorithm>

namespace pagerace {
namespace {

OpKind PickKind(Rng& rng, const uint32_t* weights) {
  uint32_t total = 0;
  for (uint32_t k = 0; k < kOpKinds; ++k) total += weights[k];
  uint64_t x = rng.Below(total);
  for (uint32_t k = 0; k < kOpKinds; ++k) {
    if (x < weights[k]) return static_cast<OpKind>(k);
    x -= weights[k];
  }
  return OpKind::kRead;
}

}  // namespace

Program Generate(Rng& rng, const GenerateOptions& options) {
  Program p;
  p.files = static_cast<uint8_t>(rng.Range(1, 2));
  p.file_pages = static_cast<uint16_t>(rng.Range(2, 16));
  static constexpr uint8_t kRaChoices[] = {0, 0, 1, 2, 4, 8};
  p.ra_pages = kRaChoices[rng.Below(sizeof kRaChoices)];
  p.ra_fail = static_cast<uint8_t>(rng.Below(kRaFailMax + 1));
  p.prefill = static_cast<uint8_t>(rng.Below(kPrefillMax + 1));
  p.seed = rng.Next();

  // Swarm: each program drops some op kinds and reweights the rest.
  uint32_t weights[kOpKinds];
  for (uint32_t k = 0; k < kOpKinds; ++k) {
    const uint32_t base = OpTable()[k].default_weight;
    weights[k] = rng.Chance(1, 6) ? 0 : base + static_cast<uint32_t>(rng.Below(base + 1));
  }
  weights[static_cast<size_t>(OpKind::kRead)] += 1;  // there is always something to observe

  // A hot window of a few pages where most ops land.
  const uint32_t hot_pages = static_cast<uint32_t>(std::min<uint64_t>(p.file_pages, rng.Range(1, 4)));
  const uint32_t hot_first = static_cast<uint32_t>(rng.Below(p.file_pages - hot_pages + 1));
  const uint32_t sectors = p.file_sectors();

  const uint32_t threads = std::clamp<uint32_t>(options.threads, 1, kThreadsMax);
  const uint32_t per_thread = std::clamp<uint32_t>(options.ops_per_thread, 1, kOpsMax / threads);
  p.threads.assign(threads, {});
  for (auto& ops : p.threads) {
    const uint32_t n = static_cast<uint32_t>(rng.Range(1, per_thread));
    for (uint32_t i = 0; i < n; ++i) {
      Op op;
      op.kind = PickKind(rng, weights);
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
      ops.push_back(op);
    }
  }
  // Phased programs: set-up ops (write, evict, readahead) first, then the
  // racing ones (read, punch), so threads that start together race on state
  // the set-up built, e.g. punching a page whose readahead failed.
  if (rng.Chance(1, 2)) {
    auto phase = [](const Op& op) {
      switch (op.kind) {
        case OpKind::kWrite: return 0;
        case OpKind::kEvict: return 1;
        case OpKind::kReadahead: return 2;
        default: return 3;
      }
    };
    for (auto& ops : p.threads)
      std::stable_sort(ops.begin(), ops.end(), [&](const Op& a, const Op& b) { return phase(a) < phase(b); });
  }
  return p;
}

}  // namespace pagerace
