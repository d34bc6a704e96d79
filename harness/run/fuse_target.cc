#include "harness/run/fuse_target.h"

#include "harness/run/fuse_server.h"
#include "harness/run/kernel_target.h"

namespace pagerace {
namespace {

class FuseTarget final : public Target {
 public:
  FuseTarget(const FuseTargetOptions& options, std::unique_ptr<FuseServer> server, std::unique_ptr<Target> files)
      : options_(options), server_(std::move(server)), files_(std::move(files)) {}
  // The files close (and unmap) before the server unmounts.
  ~FuseTarget() override { files_.reset(); }

  Status Reset(const Program& program, std::span<const Backend::Initial> initial) override {
    server_->BeginRun(program.seed);
    return files_->Reset(program, initial);
  }
  void SetClock(const std::atomic<uint64_t>* clock) override { files_->SetClock(clock); }
  Status Apply(uint32_t thread, const Op& op, uint64_t* buf, OpOutcome* out) override {
    return files_->Apply(thread, op, buf, out);
  }
  Status RunFlusher(size_t passes, const std::atomic<uint32_t>& threads_done, uint32_t threads) override {
    return files_->RunFlusher(passes, threads_done, threads);
  }
  void ThreadsDone() override { files_->ThreadsDone(); }
  uint64_t FinalPages(FinalPass pass, uint32_t file) override { return files_->FinalPages(pass, file); }
  Status Settle() override { return files_->Settle(); }
  Status FinalRead(FinalPass pass, uint32_t file, uint32_t page, uint32_t pages, uint64_t* words,
                   OpOutcome* out) override {
    return files_->FinalRead(pass, file, page, pages, words, out);
  }
  CheckOptions Checking() const override { return files_->Checking(); }
  std::string Degraded() const override {
    std::string a = files_->Degraded(), b = server_->Degraded();
    return a.empty() ? b : b.empty() ? a : a + "; " + b;
  }
  std::vector<std::pair<std::string, std::string>> Facts() const override {
    std::vector<std::pair<std::string, std::string>> facts;
    for (auto& [k, v] : files_->Facts()) {
      if (k == "target") {
        facts.emplace_back(k, "fuse");
      } else if (k == "fs" || k == "mount" || k == "mount_options") {
        continue;  // the fuse mount's: said below
      } else {
        facts.emplace_back(k, v);
      }
    }
    facts.emplace_back("fuse", FuseMountName(options_.mount));
    std::string store = BackendName(options_.store);
    if (options_.store != BackendKind::kMemory) store += std::string(" (") + IoModeName(options_.io) + ")";
    facts.emplace_back("store", store);
    return facts;
  }

 private:
  const FuseTargetOptions options_;
  std::unique_ptr<FuseServer> server_;
  std::unique_ptr<Target> files_;
};

}  // namespace

Result<std::unique_ptr<Target>> CreateFuseTarget(const FuseTargetOptions& options) {
  Result<std::unique_ptr<FuseServer>> server =
      FuseServer::Start({.dir = options.dir, .mount = options.mount, .store = options.store, .io = options.io});
  if (!server.ok()) return server.status();
  Result<std::unique_ptr<Target>> files =
      CreateKernelTarget({.dir = options.dir, .io = IoMode::kPread, .files_dir = (*server)->mount_point()});
  if (!files.ok()) return files.status();  // the server unmounts as it goes
  return std::unique_ptr<Target>(std::make_unique<FuseTarget>(options, std::move(*server), std::move(*files)));
}

}  // namespace pagerace
