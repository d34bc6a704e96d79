// The executor: runs a Program against a Target (target.h) — the page-cache
// model over the program's backend, or the host kernel on real files —
// free-running on real threads or (the model only) under the controlled
// scheduler. Model targets are made on first use, one per backend and io, and
// kept: programs on different backends run one after another cheaply, and a
// private directory is made only once a program needs real files. Free: a
// persistent pool (one OS thread per program thread; or threads made and
// joined per run) starts each run's threads together at a barrier. Controlled: the threads are fibers on the
// calling thread and the program's schedule picks every switch. Every op is
// stamped from one counter; after the threads finish, the end-of-run check
// reads the pages left in the cache through it, writes back and evicts, and
// reads what was written straight from the backend; the checker then judges
// the whole history.
//
// Thread-safety: one Run at a time per Executor (it owns the pool).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness/backend/backend.h"
#include "harness/base/status.h"
#include "harness/cache/mutant.h"
#include "harness/oracle/checker.h"
#include "harness/oracle/history.h"
#include "harness/program/program.h"
#include "harness/sched/controller.h"
#include "harness/sched/sched.h"
#include "harness/run/target.h"

namespace pagerace {

// Pages [first, end) of one file.
using PageRange = std::pair<uint32_t, uint32_t>;

// Per file, the pages that the program's ops and their readahead windows can
// reach; nothing outside them is ever cached, written or punched.
std::vector<PageRange> Reach(const Program& program);

// The generation of the data that prefilled files start with.
inline constexpr uint64_t kPrefillGen = 1;

// How the program's threads are scheduled.
enum class Schedule : uint8_t {
  kFree,        // real OS threads, started together, seeded jitter
  kControlled,  // fibers on the calling thread; the seed picks every switch
};

const char* ScheduleName(Schedule schedule);
std::optional<Schedule> ScheduleFromName(std::string_view name);

// `program` as it runs under these overrides: with `backend` and `io`, where
// set, in its fields. A saved copy of the run must say this, so that it
// replays with no flags.
Program WithOverrides(Program program, std::optional<BackendKind> backend, std::optional<IoMode> io);

struct ExecutorOptions {
  TargetKind target = TargetKind::kModel;  // kKernel: free schedule, no mutant, no backend
  // Set, every program runs on this backend and io instead of its own
  // (Program::backend and ::io). The kernel target ignores the programs'
  // fields and moves its data by `io` (pread unless set).
  std::optional<BackendKind> backend = std::nullopt;
  std::optional<IoMode> io = std::nullopt;
  std::string dir;               // file and blockmap backends, kernel: parent of the private directory; "" = $TMPDIR
  Mutant mutant = Mutant::kNone;
  Schedule schedule = Schedule::kFree;
  uint64_t steps_max = 1'000'000;  // controlled: scheduling points before a livelock
  sched::Jitter jitter{96, 2000};  // scheduling noise at the named race windows
  double hang_s = 10;              // free: a run still going after this long is a DEADLOCK finding
  bool join_threads = false;       // free: make the threads per run and join them (no pool between runs)
};

// Scheduling steps the PCT change points are drawn from, per op of the
// program: a rough count of the scheduling points an op passes (its locks,
// waits, named points and state transitions: 10 to 15 for a one-page op of
// the regressions; more for ops over many pages).
inline constexpr uint64_t kPctStepsPerOp = 16;
inline constexpr uint64_t kPctStepsPerOpWindows = 8;  // Points::kWindows: the named points alone

// The controlled scheduler's options for a program's schedule section.
sched::Controller::Options ControllerOptions(const Program& program, uint64_t steps_max);

// What a controlled run may record or be steered by, besides the program.
struct ControlledHooks {
  sched::Trace* trace = nullptr;                        // events, for replay --trace
  std::vector<sched::Controller::Step>* steps = nullptr;  // decisions, for explore
  const std::vector<sched::Controller::Override>* overrides = nullptr;  // replaces the schedule (explore)
};

struct RunOutcome {
  CheckReport report;
  // A stop request (SIGINT, SIGTERM: base/interrupt.h) ended the run early:
  // the report is empty and says nothing. Controlled: at its next decision;
  // free: its threads are waited for a moment, then given up on (the
  // executor is wedged).
  bool stopped = false;
  uint64_t ops = 0;      // program ops executed (not counting the end-of-run check)
  // Seconds from the threads' start to the last one's end: the run less its
  // reset (prefill, the target's Reset) and end-of-run check.
  double ops_s = 0;
  History history;       // the whole history, end-of-run check included
};

class Executor {
 public:
  static Result<std::unique_ptr<Executor>> Create(const ExecutorOptions& options);
  // The same, from the fields the soak, replay and search options carry.
  static Result<std::unique_ptr<Executor>> Create(Mutant mutant, Schedule schedule,
                                                  std::optional<BackendKind> backend, std::optional<IoMode> io,
                                                  const std::string& dir, TargetKind target = TargetKind::kModel);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // REQUIRES: Validate(program).ok(). An error Status means the environment
  // failed (making the backend, its I/O); findings are in the outcome's report.
  Result<RunOutcome> Run(const Program& program);

  // What the targets made so far had to do without ("" if nothing).
  std::string BackendDegraded() const;
  // What programs run on, for a header (Target::Facts): the kernel target's
  // facts; for the model, the backend and io overrides, or "per program".
  std::vector<std::pair<std::string, std::string>> Facts() const;
  // What the last Run ran on (its target's Facts); REQUIRES: a Run.
  std::vector<std::pair<std::string, std::string>> RunFacts() const { return target_->Facts(); }

  // Controlled runs from now on record or follow these.
  void set_hooks(const ControlledHooks& hooks) { hooks_ = hooks; }
  // Scheduling steps of the last controlled run.
  uint64_t steps() const { return steps_; }
  // A free run hung (a DEADLOCK finding), or was given up on at a stop
  // request: its threads may be stuck for good, so the executor can run
  // nothing more and must not be destroyed (leak it; its private directory
  // is removed at exit all the same).
  bool wedged() const { return wedged_; }

 private:
  explicit Executor(const ExecutorOptions& options) : options_(options) {}
  Result<std::unique_ptr<Target>> MakeTarget(BackendKind backend, IoMode io);
  Result<std::unique_ptr<Target>> MakeFuseTarget(uint8_t mount, BackendKind store, IoMode io);
  Result<Target*> TargetFor(const Program& program);
  void EnsureWorkers(size_t n);
  void StopWorkers();
  void WorkerLoop(size_t id, uint32_t seen);
  enum class FreeEnd : uint8_t { kDone, kHung, kStopped };
  FreeEnd RunFree(size_t n);
  bool RunControlled(const Program& program, RunOutcome& outcome);
  void RunThread(size_t t);
  void RunOps(size_t t);
  void RunFlusher();
  Status RunOp(size_t t, size_t i, OpRecord& rec, std::vector<uint64_t>& buf);
  void ObserveDurable(const Op& op, OpRecord& rec);
  void Prefill(const Program& program, History& history, std::vector<Backend::Initial>& initial);
  Status FinalCheck(History& history, const Program& program);
  void AddAnomaly(CheckReport& report);

  ExecutorOptions options_;
  std::unique_ptr<Target> kernel_;  // the kernel target, made by Create
  std::unique_ptr<Target> models_[kBackendKinds][kIoModes];  // model targets, made on first use
  std::unique_ptr<Target> fuse_[kFuseMounts][kBackendKinds][kIoModes];  // FUSE mounts, made on first use
  Target* target_ = nullptr;        // the current (or last) run's

  std::vector<uint64_t> prefill_[kFilesMax];  // prefill content of each whole file, made on first use
  std::vector<Backend::Initial> initial_;     // this run's prefilled pages
  std::vector<uint64_t> final_buf_;           // the end-of-run check's reads
  sched::Controller controller_;              // keeps its fibers between runs
  ControlledHooks hooks_;
  uint64_t steps_ = 0;

  // Per run.
  const Program* program_ = nullptr;
  std::atomic<uint64_t> stamp_{1};
  std::atomic<uint64_t> gen_{1};
  std::vector<History> histories_;       // one per program thread
  std::vector<Status> statuses_;         // one per program thread
  Status flusher_status_;
  std::atomic<uint32_t> threads_done_{0};  // program threads finished (the flusher stops after all)
  std::vector<std::vector<uint64_t>> op_bufs_;  // one per program thread: an op's data
  std::vector<uint64_t> durable_words_;         // ObserveDurable's read (controlled runs: one OS thread)

  // The pool.
  std::vector<std::thread> workers_;
  std::atomic<uint32_t> round_{0};       // bumped to start a run
  std::atomic<uint32_t> arrived_{0};     // start barrier
  std::atomic<uint32_t> done_{0};        // workers finished this run
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool wedged_ = false;
  std::atomic<uint32_t> pool_size_{0};   // workers_.size(), for the workers to read
  std::atomic<bool> stop_{false};
};

}  // namespace pagerace
