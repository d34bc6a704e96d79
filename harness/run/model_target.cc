#include "harness/run/model_target.h"

#include <string>

#include "harness/cache/page_cache.h"

namespace pagerace {
namespace {

class ModelTarget final : public Target {
 public:
  ModelTarget(Mutant mutant, BackendKind kind, IoMode io, std::unique_ptr<Backend> backend)
      : mutant_(mutant), kind_(kind), io_(io), backend_(std::move(backend)), cache_(*backend_) {}

  Status Reset(const Program& program, std::span<const Backend::Initial> initial) override {
    cache_.Reset({program.files, program.file_pages, program.ra_pages, program.ra_fail, program.flusher != 0,
                  HasSizeOps(program), mutant_, clock_});
    return backend_->ResetWith(program.files, program.file_pages, initial);
  }

  Status Apply(uint32_t /*thread*/, const Op& op, uint64_t* buf, OpOutcome* out) override {
    switch (op.kind) {
      case OpKind::kRead: return cache_.Read(op.file, op.sector, op.count, buf, &out->done);
      case OpKind::kWrite: return cache_.Write(op.file, op.sector, op.count, buf);
      // ext4_zero_range takes the same locks and truncates the page cache as
      // punch does; the model frees the blocks rather than converting them to
      // unwritten extents, which reads the same.
      case OpKind::kPunch:
      case OpKind::kZeroRange: return cache_.Punch(op.file, op.sector, op.count);
      case OpKind::kReadahead: return cache_.Readahead(op.file, op.sector, op.count);
      case OpKind::kEvict: return cache_.Evict(op.file, op.sector, op.count);
      case OpKind::kLoad: return cache_.Load(op.file, op.sector, op.count, buf, &out->done, &out->sigbus);
      case OpKind::kStore: return cache_.Store(op.file, op.sector, op.count, buf, &out->done, &out->sigbus);
      case OpKind::kFsync:
      case OpKind::kFdatasync: return cache_.Fsync(op.file);
      case OpKind::kMadvise: return cache_.Madvise(op.file, op.sector, op.count);
      case OpKind::kSysReadahead: return cache_.SysReadahead(op.file, op.sector, op.count);
      case OpKind::kWriteMapped: return cache_.WriteMapped(op.file, op.sector, op.count, buf, &out->done);
      case OpKind::kTruncate: return cache_.Truncate(op.file, op.sector);
      case OpKind::kDioRead: return cache_.DioRead(op.file, op.sector, op.count, buf, &out->done);
      case OpKind::kDioWrite: return cache_.DioWrite(op.file, op.sector, op.count, buf);
      case OpKind::kCollapse:
      case OpKind::kInsert:
        return cache_.Shift(op.file, op.sector, op.count, op.kind == OpKind::kInsert, &out->failed, &out->size);
    }
    return Status::InvalidArgument("unknown op kind");
  }

  // Writes back what is dirty, then sleeps until something is dirtied. Its
  // passes are bounded, as a real flusher's are by its period: an unbounded
  // one could write-protect a page after every write fault of a store, so
  // that under an unfair schedule the store never lands.
  Status RunFlusher(size_t passes, const std::atomic<uint32_t>& threads_done, uint32_t threads) override {
    Status status;
    for (size_t pass = 0; pass < passes; ++pass) {
      const uint32_t seen = cache_.DirtySeq();
      Status st = cache_.Flush();
      if (!st.ok() && status.ok()) status = st;
      if (threads_done.load(std::memory_order_acquire) >= threads) break;
      cache_.WaitDirty(seen);
    }
    return status;
  }
  void ThreadsDone() override { cache_.Kick(); }

  uint64_t FinalPages(FinalPass pass, uint32_t file) override {
    switch (pass) {
      case FinalPass::kCached: return cache_.CachedMask(file);
      case FinalPass::kMapped: return cache_.MappedMask(file);
      case FinalPass::kBackend: return cache_.BackendWritten(file) | backend_->ChangedPages(file);
    }
    return 0;
  }

  Status Settle() override {
    PR_RETURN_IF_ERROR(cache_.WritebackAll());
    cache_.UnmapAll();
    cache_.EvictAll();
    return Status::Ok();
  }

  Status FinalRead(FinalPass pass, uint32_t file, uint32_t page, uint32_t pages, uint64_t* words,
                   OpOutcome* out) override {
    const uint32_t sector = page * kSectorsPerPage, count = pages * kSectorsPerPage;
    switch (pass) {
      case FinalPass::kCached: return cache_.Read(file, sector, count, words, &out->done);
      case FinalPass::kMapped: return cache_.Load(file, sector, count, words, &out->done, &out->sigbus);
      case FinalPass::kBackend: return backend_->ReadPages(file, page, pages, words);
    }
    return Status::InvalidArgument("unknown pass");
  }

  // Not on a block map: a block allocated at write_begin or page_mkwrite
  // keeps its last owner's bytes until the page is written back there, as
  // the blocks of a file system without ordered data would after a crash,
  // and the model has no journal to order them.
  bool DurableRead(uint32_t file, uint32_t page, uint32_t pages, uint64_t* words) override {
    return !backend_->BlockMapped() && backend_->ReadPages(file, page, pages, words).ok();
  }

  void SetClock(const std::atomic<uint64_t>* clock) override { clock_ = clock; }

  std::optional<Anomaly> TakeAnomaly() override {
    PageCache::Assertion a = cache_.assertion();
    if (a.what.empty()) return std::nullopt;
    return Anomaly{"the model at f" + std::to_string(a.file) + " p" + std::to_string(a.page), std::move(a.what),
                   "the kernel's invariant to hold", a.file, a.page * kSectorsPerPage, a.stamp};
  }
  CheckOptions Checking() const override { return {}; }
  std::string Degraded() const override { return backend_->Degraded(); }
  std::vector<std::pair<std::string, std::string>> Facts() const override {
    std::vector<std::pair<std::string, std::string>> facts = {{"backend", BackendName(kind_)}};
    if (kind_ != BackendKind::kMemory) facts.emplace_back("io", IoModeName(io_));
    return facts;
  }

 private:
  Mutant mutant_;
  BackendKind kind_;
  IoMode io_;
  std::unique_ptr<Backend> backend_;
  PageCache cache_;
  const std::atomic<uint64_t>* clock_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Target>> CreateModelTarget(Mutant mutant, BackendKind kind, IoMode io,
                                                  const std::string& dir) {
  std::unique_ptr<Backend> backend;
  if (kind == BackendKind::kMemory) {
    backend = CreateMemoryBackend();
  } else {
    Result<std::unique_ptr<Backend>> made =
        kind == BackendKind::kBlockmap ? CreateBlockmapBackend({dir, io}) : CreateFileBackend({dir, io});
    if (!made.ok()) return made.status();
    backend = std::move(*made);
  }
  return std::unique_ptr<Target>(new ModelTarget(mutant, kind, io, std::move(backend)));
}

}  // namespace pagerace
