// Microbenchmarks of the page-cache model's hit path: read(2) (Read) and
// loads through the shared mapping (Load) of pages that are already cached
// (and, for loads, already mapped), one thread, outside the controlled
// scheduler and with no jitter, so that every scheduling point returns at
// once. The file is one model file of kFilePagesMax pages on the memory
// backend, prefilled with tagged data and read (and loaded) in full during
// setup; the timed ops move through it a page at a time. Items are ops,
// bytes the data copied out.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "harness/backend/backend.h"
#include "harness/base/status.h"
#include "harness/cache/page_cache.h"
#include "harness/oracle/tag.h"
#include "harness/program/program.h"
#include "harness/sched/sched.h"

namespace pagerace::bench {
namespace {

constexpr uint32_t kFilePages = kFilePagesMax;
constexpr uint32_t kFileSectors = kFilePages * kSectorsPerPage;
constexpr uint64_t kAllPages = kFilePages == 64 ? ~uint64_t{0} : (uint64_t{1} << kFilePages) - 1;
constexpr uint64_t kGen = 1;

using Get = Status (*)(PageCache&, uint32_t, uint32_t, uint32_t, uint64_t*);
Status Read(PageCache& c, uint32_t file, uint32_t sector, uint32_t count, uint64_t* words) {
  return c.Read(file, sector, count, words);
}
Status Load(PageCache& c, uint32_t file, uint32_t sector, uint32_t count, uint64_t* words) {
  return c.Load(file, sector, count, words);
}

// A cache over a memory-backed file whose every page is cached, uptodate,
// without a readahead mark, and mapped.
class CachedFile {
 public:
  Status Setup() {
    sched::SetThreadJitter(0, {});  // no pauses at the scheduling points
    image_.resize(size_t{kFileSectors} * kSectorWords);
    for (uint32_t s = 0; s < kFileSectors; ++s) FillSector(0, s, kGen, image_.data() + size_t{s} * kSectorWords);
    backend_ = CreateMemoryBackend();
    const Backend::Initial initial[] = {{0, kFilePages, image_.data()}};
    PR_RETURN_IF_ERROR(backend_->ResetWith(1, kFilePages, initial));
    cache_ = std::make_unique<PageCache>(*backend_);
    cache_->Reset({.files = 1, .file_pages = kFilePages});
    // Twice each: the first reads bring the pages in (readahead leaves
    // marks), the second clear the marks; the first loads map every page.
    for (Get get : {&Read, &Read, &Load, &Load}) {
      for (uint32_t s = 0; s < kFileSectors; s += kOpSectorsMax) {
        std::vector<uint64_t> words(size_t{kOpSectorsMax} * kSectorWords);
        PR_RETURN_IF_ERROR(get(*cache_, 0, s, kOpSectorsMax, words.data()));
        if (!Holds(s, words)) return Status::InvalidArgument("setup read wrong data");
      }
    }
    if (cache_->CachedMask(0) != kAllPages || cache_->MappedMask(0) != kAllPages)
      return Status::InvalidArgument("setup left pages uncached or unmapped");
    if (!cache_->assertion().what.empty()) return Status::InvalidArgument(cache_->assertion().what);
    return Status::Ok();
  }

  // True iff `words` hold the file's sectors from `sector` on.
  static bool Holds(uint32_t sector, std::span<const uint64_t> words) {
    for (size_t i = 0; i < words.size() / kSectorWords; ++i) {
      const SectorTag t = ClassifySector(words.data() + i * kSectorWords);
      if (t.kind != SectorTag::kWhole || t.file != 0 || t.sector != sector + i || t.gen != kGen) return false;
    }
    return true;
  }

  PageCache& cache() { return *cache_; }

 private:
  std::vector<uint64_t> image_;  // the backend's initial content; must outlive it
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PageCache> cache_;
};

// Ops of state.range(0) sectors from the first sector of each page in turn
// (as far as the op fits in the file).
void CacheHits(benchmark::State& state, Get get) {
  CachedFile file;
  if (Status st = file.Setup(); !st.ok()) {
    state.SkipWithError(st.ToString().c_str());
    return;
  }
  const uint32_t count = static_cast<uint32_t>(state.range(0));
  const uint32_t starts = (kFileSectors - count) / kSectorsPerPage + 1;
  std::vector<uint64_t> words(size_t{count} * kSectorWords);
  PageCache& cache = file.cache();
  uint32_t page = 0, sector = 0;
  for (auto _ : state) {
    sector = page * kSectorsPerPage;
    Status st = get(cache, 0, sector, count, words.data());
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
    page = page + 1 == starts ? 0 : page + 1;
  }
  if (!CachedFile::Holds(sector, words)) state.SkipWithError("a timed op read wrong data");
  if (cache.CachedMask(0) != kAllPages || cache.MappedMask(0) != kAllPages)
    state.SkipWithError("a timed op changed the cache");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t{count} * kSectorBytes);
}

// One sector, one page, and the longest op (kOpSectorsMax: 16 pages).
void OpLengths(benchmark::internal::Benchmark* b) {
  b->ArgName("sectors")->Arg(1)->Arg(kSectorsPerPage)->Arg(kOpSectorsMax);
}

void BM_CacheReadHit(benchmark::State& state) { CacheHits(state, &Read); }
BENCHMARK(BM_CacheReadHit)->Apply(OpLengths);

void BM_CacheLoadHit(benchmark::State& state) { CacheHits(state, &Load); }
BENCHMARK(BM_CacheLoadHit)->Apply(OpLengths);

}  // namespace
}  // namespace pagerace::bench
