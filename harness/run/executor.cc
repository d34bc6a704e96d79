#include "harness/run/executor.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "harness/base/check.h"
#include "harness/base/interrupt.h"
#include "harness/base/rng.h"
#include "harness/run/fuse_target.h"
#include "harness/run/kernel_target.h"
#include "harness/run/model_target.h"
#include "harness/sched/controller.h"
#include "harness/sched/trace.h"

namespace pagerace {

namespace {
// The word after each op's (and final read's) buffer: a target that writes
// past the range it was given (an off-by-one in a copy) changes it, and the
// run stops at that op instead of corrupting memory that nothing checks.
constexpr uint64_t kBufferGuard = 0x9e3779b97f4a7c15;

template <typename Pred>
bool AnyOp(const Program& program, Pred pred) {
  for (const auto& ops : program.threads)
    for (const Op& op : ops)
      if (pred(op.kind)) return true;
  return false;
}
}  // namespace

const char* ScheduleName(Schedule schedule) {
  return schedule == Schedule::kFree ? "free" : "controlled";
}

std::optional<Schedule> ScheduleFromName(std::string_view name) {
  for (Schedule s : {Schedule::kFree, Schedule::kControlled})
    if (name == ScheduleName(s)) return s;
  return std::nullopt;
}

const char* TargetName(TargetKind kind) {
  return kind == TargetKind::kModel ? "model" : kind == TargetKind::kKernel ? "kernel" : "fuse";
}

bool RunsSizeOps(TargetKind target, bool opted_in) { return !OnHostKernel(target) || opted_in; }


bool HasSizeOps(const Program& program) {
  return AnyOp(program, [](OpKind kind) { return SetsSize(kind) || Shifts(kind); });
}

bool HasShifts(const Program& program) { return AnyOp(program, Shifts); }

bool HasDirectWrites(const Program& program) {
  return AnyOp(program, [](OpKind kind) { return kind == OpKind::kDioWrite; });
}

bool HasStores(const Program& program) {
  return AnyOp(program, [](OpKind kind) { return kind == OpKind::kStore; });
}

std::optional<TargetKind> TargetFromName(std::string_view name) {
  for (TargetKind k : {TargetKind::kModel, TargetKind::kKernel, TargetKind::kFuse})
    if (name == TargetName(k)) return k;
  return std::nullopt;
}

std::vector<PageRange> Reach(const Program& program) {
  // A read miss reads ahead at most max(its own pages, ra_pages) from the
  // missing page, and a hit on a readahead mark ra_pages from the next one.
  const uint32_t margin = program.ra_pages == 0 ? 0 : program.ra_pages + 1;
  std::vector<PageRange> reach(program.files, {UINT32_MAX, 0});
  for (const auto& ops : program.threads) {
    for (const Op& op : ops) {
      auto& [lo, hi] = reach[op.file];
      // A fault reads ahead around the faulting page.
      const uint32_t first = op.sector / kSectorsPerPage;
      lo = std::min<uint32_t>(lo, first - std::min<uint32_t>(first, program.ra_pages / 2));
      hi = std::max<uint32_t>(hi, (op.sector + op.count - 1) / kSectorsPerPage + 1 + margin);
    }
  }
  for (auto& [lo, hi] : reach) hi = std::min<uint32_t>(hi, program.file_pages);
  return reach;
}

// Bit per page: the pages of `file` that the program's writes and punches name.
uint64_t WrittenPages(const Program& program, uint32_t file) {
  uint64_t mask = 0;
  for (const auto& ops : program.threads)
    for (const Op& op : ops)
      if (op.file == file && !SetsSize(op.kind) && (OpRecord::WritesData(op.kind) || OpRecord::WritesZeros(op.kind)))
        for (uint32_t p = op.sector / kSectorsPerPage, last = (op.sector + op.count - 1u) / kSectorsPerPage;
             p <= last; ++p)
          mask |= uint64_t{1} << p;
  return mask;
}

// The reachable pages of every file start with generation 1: recorded as one
// write, complete before any op begins, and set as the backend's initial
// pages (`initial`, one per file).
void Executor::Prefill(const Program& program, History& history, std::vector<Backend::Initial>& initial) {
  const std::vector<PageRange> reach = Reach(program);
  initial.assign(program.files, {});
  for (uint32_t file = 0; file < program.files; ++file) {
    const auto [lo, hi] = reach[file];
    if (lo >= hi) continue;
    OpRecord& rec = history.emplace_back();
    rec.thread = kSetupThread;
    rec.kind = OpKind::kWrite;
    rec.file = static_cast<uint8_t>(file);
    rec.sector = lo * kSectorsPerPage;
    rec.count = (hi - lo) * kSectorsPerPage;
    rec.gen = kPrefillGen;
    rec.invoke = stamp_.fetch_add(1);
    // The content depends on the file and sector only: made once for the
    // whole file and kept at one address (the backend may recognize pages it
    // already holds by it).
    std::vector<uint64_t>& data = prefill_[file];
    if (data.empty()) {
      data.resize(size_t{kFilePagesMax} * kSectorsPerPage * kSectorWords);
      for (uint32_t s = 0; s < kFilePagesMax * kSectorsPerPage; ++s)
        FillSector(file, s, kPrefillGen, data.data() + size_t{s} * kSectorWords);
    }
    initial[file] = {lo, hi, data.data()};
    rec.response = stamp_.fetch_add(1);
  }
}

Program WithOverrides(Program program, std::optional<BackendKind> backend, std::optional<IoMode> io) {
  if (backend) program.backend = *backend;
  if (io) program.io = *io;
  return program;
}

Result<std::unique_ptr<Executor>> Executor::Create(const ExecutorOptions& options) {
  std::unique_ptr<Executor> exec(new Executor(options));
  if (OnHostKernel(options.target)) {
    const std::string name = TargetName(options.target);
    if (options.schedule != Schedule::kFree)
      return Status::InvalidArgument("the " + name + " target runs real threads only (schedule free)");
    if (options.mutant != Mutant::kNone)
      return Status::InvalidArgument("mutants are of the model; the " + name + " target runs the host kernel");
  }
  if (options.target == TargetKind::kKernel) {
    // At once: its files and facts are needed before the first program.
    Result<std::unique_ptr<Target>> kernel = exec->MakeTarget(BackendKind::kFile, options.io.value_or(IoMode::kPread));
    if (!kernel.ok()) return kernel.status();
    exec->kernel_ = std::move(*kernel);
    exec->target_ = exec->kernel_.get();
  } else if (options.target == TargetKind::kFuse) {
    // The first mount at once: whether FUSE works here, and the facts.
    Program first;
    first.backend = options.backend.value_or(BackendKind::kMemory);
    first.io = options.io.value_or(IoMode::kPread);
    Result<Target*> target = exec->TargetFor(first);
    if (!target.ok()) return target.status();
    exec->target_ = *target;
  }
  return exec;
}

Result<std::unique_ptr<Executor>> Executor::Create(Mutant mutant, Schedule schedule,
                                                   std::optional<BackendKind> backend, std::optional<IoMode> io,
                                                   const std::string& dir, TargetKind target) {
  return Create({.target = target, .backend = backend, .io = io, .dir = dir, .mutant = mutant, .schedule = schedule});
}

// Every target the executor runs is made here (the kernel's ignores
// `backend`: it is always on real files).
Result<std::unique_ptr<Target>> Executor::MakeTarget(BackendKind backend, IoMode io) {
  Result<std::unique_ptr<Target>> made = options_.target == TargetKind::kKernel
                                             ? CreateKernelTarget({.dir = options_.dir, .io = io})
                                             : CreateModelTarget(options_.mutant, backend, io, options_.dir);
  if (made.ok()) (*made)->SetClock(&stamp_);
  return made;
}

// A FUSE mount with the program's options, over its store.
Result<std::unique_ptr<Target>> Executor::MakeFuseTarget(uint8_t mount, BackendKind store, IoMode io) {
  Result<std::unique_ptr<Target>> made =
      CreateFuseTarget({.dir = options_.dir, .mount = mount, .store = store, .io = io});
  if (made.ok()) (*made)->SetClock(&stamp_);
  return made;
}

// The target `program` runs on: the kernel's, or the model over the
// program's backend and io (the overrides', where set).
Result<Target*> Executor::TargetFor(const Program& program) {
  if (kernel_ != nullptr) return kernel_.get();
  const BackendKind backend = options_.backend.value_or(program.backend);
  // Memory has no I/O to move: one target serves either io.
  const IoMode io = backend == BackendKind::kMemory ? IoMode::kPread : options_.io.value_or(program.io);
  if (options_.target == TargetKind::kFuse) {
    std::unique_ptr<Target>& slot =
        fuse_[program.fuse % kFuseMounts][static_cast<size_t>(backend)][static_cast<size_t>(io)];
    if (slot == nullptr) {
      Result<std::unique_ptr<Target>> made = MakeFuseTarget(program.fuse, backend, io);
      if (!made.ok()) return made.status();
      slot = std::move(*made);
    }
    return slot.get();
  }
  std::unique_ptr<Target>& slot = models_[static_cast<size_t>(backend)][static_cast<size_t>(io)];
  if (slot == nullptr) {
    Result<std::unique_ptr<Target>> made = MakeTarget(backend, io);
    if (!made.ok()) return made.status();
    slot = std::move(*made);
  }
  return slot.get();
}

std::string Executor::BackendDegraded() const {
  std::string all;
  auto add = [&all](const std::unique_ptr<Target>& t) {
    const std::string d = t == nullptr ? "" : t->Degraded();
    if (!d.empty() && all.find(d) == std::string::npos) all += (all.empty() ? "" : "; ") + d;
  };
  add(kernel_);
  for (const auto& by_io : models_)
    for (const std::unique_ptr<Target>& t : by_io) add(t);
  for (const auto& by_backend : fuse_)
    for (const auto& by_io : by_backend)
      for (const std::unique_ptr<Target>& t : by_io) add(t);
  return all;
}

std::vector<std::pair<std::string, std::string>> Executor::Facts() const {
  if (kernel_ != nullptr) return kernel_->Facts();
  constexpr const char* kPerProgram = "per program";
  if (options_.target == TargetKind::kFuse) {
    // The first mount's, with what varies by program said so.
    std::vector<std::pair<std::string, std::string>> facts = target_->Facts();
    for (auto& [k, v] : facts)
      if (k == "fuse" || (k == "store" && !options_.backend)) v = kPerProgram;
    return facts;
  }
  const std::optional<BackendKind> backend = options_.backend;
  std::vector<std::pair<std::string, std::string>> facts = {{"backend", backend ? BackendName(*backend) : kPerProgram}};
  if (backend != BackendKind::kMemory) facts.emplace_back("io", options_.io ? IoModeName(*options_.io) : kPerProgram);
  return facts;
}

Executor::~Executor() {
  PR_CHECK_MSG(!wedged_, "destroying a wedged executor: its threads are stuck in it (leak it instead)");
  StopWorkers();
}

void Executor::StopWorkers() {
  stop_.store(true);
  round_.fetch_add(1);
  round_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  stop_.store(false);
}

void Executor::EnsureWorkers(size_t n) {
  while (workers_.size() < n) {
    const size_t id = workers_.size();
    const uint32_t round = round_.load(std::memory_order_acquire);
    workers_.emplace_back([this, id, round] { WorkerLoop(id, round); });
  }
}

// `seen` is the round current when the worker was made: it joins the next.
void Executor::WorkerLoop(size_t id, uint32_t seen) {
  for (;;) {
    round_.wait(seen, std::memory_order_acquire);
    seen = round_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    const size_t n = program_->logical_threads();
    if (id < n) {
      // Start barrier: racing ops begin together.
      arrived_.fetch_add(1, std::memory_order_acq_rel);
      while (arrived_.load(std::memory_order_acquire) < n) sched_yield();
      RunThread(id);
    }
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == pool_size_.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(done_mu_);  // no lost wake-up between RunFree's check and its wait
      done_cv_.notify_one();
    }
  }
}

// The flusher (Program::flusher): the target's, with its passes bounded by
// the program's op count.
void Executor::RunFlusher() {
  Status st = target_->RunFlusher(program_->op_count(), threads_done_,
                                  static_cast<uint32_t>(program_->threads.size()));
  if (!st.ok()) flusher_status_ = st;
}
void Executor::RunThread(size_t t) {
  if (t == program_->threads.size()) {
    RunFlusher();
    return;
  }
  RunOps(t);
  if (threads_done_.fetch_add(1, std::memory_order_acq_rel) + 1 == program_->threads.size() && program_->flusher)
    target_->ThreadsDone();
}

void Executor::RunOps(size_t t) {
  const std::vector<Op>& ops = program_->threads[t];
  // Swarm over schedules too: the seed's top bits scale the chance of a pause at
  // a race window by 1/2, 1, 2 or 4.
  sched::Jitter j = options_.jitter;
  j.pause_per_1024 = std::min<uint32_t>(1024, (j.pause_per_1024 << (program_->seed >> 62)) >> 1);
  if (program_->logical_threads() == 1) j.pause_per_1024 = 0;  // no one to race: pauses only cost
  j.state_points = program_->points == Points::kEvery;
  sched::SetThreadJitter(Mix64(program_->seed ^ Mix64(t + 1)), j);
  std::vector<uint64_t>& buf = op_bufs_[t];  // kept between runs: no zero-fill per op
  History& h = histories_[t];
  h.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    if (i > 0) sched::At(sched::Point::kOpStart);
    h.emplace_back();
    Status st = RunOp(t, i, h.back(), buf);
    if (!st.ok()) {
      statuses_[t] = st;
      return;
    }
  }
}

Status Executor::RunOp(size_t t, size_t i, OpRecord& rec, std::vector<uint64_t>& buf) {
  const Op& op = program_->threads[t][i];
  rec.thread = static_cast<uint16_t>(t);
  rec.index = static_cast<uint16_t>(i);
  rec.kind = op.kind;
  rec.file = op.file;
  rec.sector = op.sector;
  rec.count = SetsSize(op.kind) ? program_->file_sectors() - op.sector : op.count;
  rec.reached = rec.count;
  const size_t words = size_t{op.count} * kSectorWords;
  buf.resize(words + 1);
  buf[words] = kBufferGuard;
  Status st;
  if (OpRecord::WritesData(op.kind)) {
    rec.gen = gen_.fetch_add(1, std::memory_order_relaxed);
    for (uint32_t s = 0; s < op.count; ++s)
      FillSector(op.file, op.sector + s, rec.gen, buf.data() + size_t{s} * kSectorWords);
  } else if (OpRecord::WritesZeros(op.kind)) {
    rec.gen = gen_.fetch_add(1, std::memory_order_relaxed);
  }
  rec.invoke = stamp_.fetch_add(1, std::memory_order_acq_rel);
  if (sched::Tracing()) sched::Record(sched::EventKind::kOp, rec.Describe());
  OpOutcome out;
  out.done = op.count;
  st = target_->Apply(static_cast<uint32_t>(t), op, buf.data(), &out);
  const bool failed = out.failed;
  if (!SetsSize(op.kind)) rec.reached = std::min<uint32_t>(out.done, op.count);
  if (Shifts(op.kind) && failed) rec.reached = 0;  // refused (EINVAL, EFBIG): it moved nothing
  rec.size = out.size;
  rec.sigbus = out.sigbus;
  if (st.ok() && !failed && OpRecord::Syncs(op.kind) && sched::Controlled()) ObserveDurable(op, rec);
  rec.response = stamp_.fetch_add(1, std::memory_order_acq_rel);
  PR_CHECK_MSG(buf[words] == kBufferGuard, "the target wrote past the end of the op's buffer");
  if (!st.ok() || failed) {
    // A failed write may or may not have taken effect; a failed read
    // observed nothing. The thread goes on after a failure the target
    // decided (failed); an environment failure stops it.
    if (rec.Writes()) rec.response = kStampNever;
    return st;
  }
  if (rec.Reads() && !OpRecord::Syncs(op.kind)) ObserveSectors(buf.data(), rec.reached, rec);
  if (sched::Tracing()) sched::Record(sched::EventKind::kOp, "done: " + DescribeResult(rec));
  return st;
}

// fsync's promise, checked as it returns: the op's range of the durable file
// holds every write that completed before the fsync began, or a newer one.
// Only under the controlled scheduler, where this read is one step: under
// real threads it would race with the writeback and block-map changes that
// run meanwhile, which the storage does not promise to serialize with a
// reader that takes none of the cache's locks.
void Executor::ObserveDurable(const Op& op, OpRecord& rec) {
  const uint32_t first = op.sector / kSectorsPerPage;
  const uint32_t pages = (op.sector + op.count - 1) / kSectorsPerPage - first + 1;
  // Kept from op to op: a fresh buffer of up to 64 KiB each time was a fifth
  // of a fuzz-build run (allocation, page faults, ASan's malloc fill).
  std::vector<uint64_t>& words = durable_words_;
  words.resize(std::max(words.size(), size_t{pages} * kSectorsPerPage * kSectorWords));
  if (!target_->DurableRead(op.file, first, pages, words.data())) return;
  ObserveSectors(words.data() + size_t{op.sector - first * kSectorsPerPage} * kSectorWords, op.count, rec);
}

Result<RunOutcome> Executor::Run(const Program& program) {
  PR_CHECK_MSG(Validate(program).ok(), "Executor::Run: invalid program");
  PR_CHECK_MSG(!wedged_, "Executor::Run after a hung free run");
  threads_done_.store(0);
  flusher_status_ = Status::Ok();
  stamp_.store(1);
  gen_.store(program.prefill ? kPrefillGen + 1 : 1);
  History setup;
  initial_.clear();
  if (program.prefill) Prefill(program, setup, initial_);
  Result<Target*> target = TargetFor(program);
  if (!target.ok()) return target.status();
  target_ = *target;
  PR_RETURN_IF_ERROR(target_->Reset(program, initial_));
  program_ = &program;
  const size_t n = program.threads.size();
  histories_.assign(n, History());
  statuses_.assign(n, Status::Ok());
  if (op_bufs_.size() < n) op_bufs_.resize(n);
  RunOutcome outcome;
  bool finished = true;
  FreeEnd end = FreeEnd::kDone;
  const auto ops_t0 = std::chrono::steady_clock::now();
  if (options_.schedule == Schedule::kControlled) {
    finished = RunControlled(program, outcome);
  } else {
    end = RunFree(program.logical_threads());
  }
  outcome.ops_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - ops_t0).count();
  if (!finished) {
    program_ = nullptr;
    return outcome;  // deadlock, livelock or stopped: the model's state is abandoned
  }
  if (end == FreeEnd::kStopped) {
    outcome.stopped = true;  // wedged: the threads may still be running
    return outcome;
  } else if (end == FreeEnd::kHung) {
    // Real threads stuck: a deadlock (or a livelock) in the model. They can
    // never be joined; the executor is wedged and must be leaked.
    Violation v;
    v.kind = ViolationKind::kDeadlock;
    v.stamp = stamp_.load();
    v.reader = "the free-mode watchdog";
    char buf[64];
    std::snprintf(buf, sizeof buf, "threads still running after %g s", options_.hang_s);
    v.observed = buf;
    v.expected = "every thread to finish";
    outcome.report.violations.push_back(std::move(v));
    outcome.report.total = 1;
    AddAnomaly(outcome.report);
    return outcome;
  }
  program_ = nullptr;

  outcome.history = std::move(setup);
  size_t records = outcome.history.size() + 2 * kFilesMax * kFilePagesMax;  // room for the end-of-run reads
  for (const History& h : histories_) records += h.size();
  outcome.history.reserve(records);
  PR_RETURN_IF_ERROR(flusher_status_);
  for (size_t t = 0; t < n; ++t) {
    PR_RETURN_IF_ERROR(statuses_[t]);
    outcome.ops += histories_[t].size();
    for (OpRecord& r : histories_[t]) outcome.history.push_back(std::move(r));
  }
  sched::SetThreadJitter(0, {});
  PR_RETURN_IF_ERROR(FinalCheck(outcome.history, program));
  CheckOptions options = target_->Checking();
  options.file_sectors = program.file_sectors();
  outcome.report = CheckHistory(outcome.history, options);
  AddAnomaly(outcome.report);
  return outcome;
}

// The target's anomaly, if any, joins the report in time order: the report's
// first violation is the first that happened. An anomaly at clock value X
// came after every read whose response stamp is below X; one without a time
// is taken as the end of the run.
void Executor::AddAnomaly(CheckReport& report) {
  std::optional<Anomaly> a = target_->TakeAnomaly();
  if (!a) return;
  Violation v;
  v.kind = ViolationKind::kAssert;
  v.file = a->file;
  v.sector = a->sector;
  v.stamp = a->stamp != 0 ? a->stamp : stamp_.load();
  v.reader = std::move(a->reader);
  v.observed = std::move(a->observed);
  v.expected = std::move(a->expected);
  auto at = std::lower_bound(report.violations.begin(), report.violations.end(), v.stamp,
                             [](const Violation& x, uint64_t stamp) { return x.stamp < stamp; });
  report.violations.insert(at, std::move(v));
  ++report.total;
}

// Free mode: the pool's threads run the program's threads, started together.
// The wait wakes every kFreeWaitSlice to see a stop request; threads still
// going kStopGrace after one are given up on, as hung ones are after hang_s.
Executor::FreeEnd Executor::RunFree(size_t n) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kFreeWaitSlice = std::chrono::milliseconds(100);
  constexpr auto kStopGrace = std::chrono::milliseconds(500);
  EnsureWorkers(n);
  pool_size_.store(static_cast<uint32_t>(workers_.size()));
  arrived_.store(0);
  done_.store(0);
  round_.fetch_add(1, std::memory_order_acq_rel);
  round_.notify_all();
  std::unique_lock<std::mutex> lock(done_mu_);
  const Clock::time_point hang_at =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.hang_s));
  std::optional<Clock::time_point> give_up_at;  // set at a stop request
  while (!done_cv_.wait_for(lock, kFreeWaitSlice,
                            [&] { return done_.load(std::memory_order_acquire) == workers_.size(); })) {
    const Clock::time_point now = Clock::now();
    if (!give_up_at && StopRequested()) give_up_at = now + kStopGrace;
    if (now < hang_at && (!give_up_at || now < *give_up_at)) continue;
    wedged_ = true;
    return now >= hang_at ? FreeEnd::kHung : FreeEnd::kStopped;
  }
  lock.unlock();
  if (options_.join_threads) StopWorkers();
  return FreeEnd::kDone;
}

sched::Controller::Options ControllerOptions(const Program& program, uint64_t steps_max) {
  sched::Controller::Options o;
  const ScheduleSpec& sc = program.schedule;
  o.policy = sc.strategy == Strategy::kPct        ? sched::Controller::Policy::kPct
             : sc.strategy == Strategy::kDirected ? sched::Controller::Policy::kDirected
                                                  : sched::Controller::Policy::kRandom;
  o.seed = program.seed;
  o.pct_depth = sc.pct_depth;
  o.state_points = program.points == Points::kEvery;
  o.pct_steps = (o.state_points ? kPctStepsPerOp : kPctStepsPerOpWindows) * std::max<size_t>(program.op_count(), 1);
  for (const Preemption& p : sc.preemptions) o.overrides.push_back({p.step, p.thread});
  o.steps_max = steps_max;
  return o;
}

// Controlled mode: the program's threads as fibers on this thread, the
// interleaving chosen by the program's schedule. False when the threads
// deadlocked or hit the step bound (the finding in the outcome's report), or
// a stop request ended the run (the outcome says stopped).
bool Executor::RunControlled(const Program& program, RunOutcome& outcome) {
  sched::Controller::Options o = ControllerOptions(program, options_.steps_max);
  if (hooks_.overrides != nullptr) {
    o.policy = sched::Controller::Policy::kDirected;
    o.overrides = *hooks_.overrides;
  }
  o.trace = hooks_.trace;
  o.steps = hooks_.steps;
  controller_.set_options(o);
  std::vector<std::function<void()>> bodies;
  for (size_t t = 0; t < program.logical_threads(); ++t) bodies.push_back([this, t] { RunThread(t); });
  const sched::Controller::Outcome out = controller_.Run(std::move(bodies));
  steps_ = controller_.steps();
  if (out == sched::Controller::Outcome::kDone) return true;
  if (out == sched::Controller::Outcome::kStopped) {
    outcome.stopped = true;
    return false;
  }
  Violation v;
  v.kind = out == sched::Controller::Outcome::kDeadlock ? ViolationKind::kDeadlock : ViolationKind::kLivelock;
  v.stamp = stamp_.load();
  v.reader = "the scheduler after " + std::to_string(controller_.steps()) + " steps";
  v.observed = controller_.stuck();
  v.expected = "every thread to finish";
  outcome.report.violations.push_back(std::move(v));
  outcome.report.total = 1;
  AddAnomaly(outcome.report);
  // The abandoned fibers left locks held and folios locked; the next Run's
  // cache Reset makes fresh inodes and recycles every folio.
  return false;
}

// The end-of-run check, on the calling thread after the workers are idle.
// First the pages left in the cache are read through it (stale pages left
// behind), then the pages left mapped are loaded through the mapping (a PTE
// left on a page the cache no longer holds). Then, after write-back, unmap
// and eviction, the backend is read over every page that a write or punch
// names (lost writes), that the cache wrote or punched there, or that the
// backend reports changed otherwise (corruption through a stale block
// mapping). Any other page still holds what the run began
// with, which every read may see, so reading it could find nothing. (A cold
// read through the cache would only copy the backend again.) Contiguous pages
// are read as one range.
Status Executor::FinalCheck(History& history, const Program& program) {
  uint64_t pages[kFilesMax] = {};
  for (FinalPass pass : {FinalPass::kCached, FinalPass::kMapped, FinalPass::kBackend}) {
    if (pass == FinalPass::kBackend) PR_RETURN_IF_ERROR(target_->Settle());
    for (uint32_t file = 0; file < program.files; ++file) {
      pages[file] = target_->FinalPages(pass, file);
      if (pass == FinalPass::kBackend) pages[file] |= WrittenPages(program, file);
    }
    for (uint32_t file = 0; file < program.files; ++file) {
      for (uint32_t lo = 0; lo < program.file_pages;) {
        if ((pages[file] >> lo & 1) == 0) {
          ++lo;
          continue;
        }
        uint32_t hi = lo + 1;
        while (hi < program.file_pages && (pages[file] >> hi & 1) != 0) ++hi;
        OpRecord& rec = history.emplace_back();
        rec.thread = kFinalThread;
        rec.index = static_cast<uint16_t>(pass);
        rec.file = static_cast<uint8_t>(file);
        rec.sector = lo * kSectorsPerPage;
        rec.count = (hi - lo) * kSectorsPerPage;
        const size_t words = size_t{rec.count} * kSectorWords;
        final_buf_.resize(words + 1);
        final_buf_[words] = kBufferGuard;
        rec.invoke = stamp_.fetch_add(1);
        OpOutcome out;
        out.done = rec.count;
        PR_RETURN_IF_ERROR(target_->FinalRead(pass, file, lo, hi - lo, final_buf_.data(), &out));
        rec.response = stamp_.fetch_add(1);
        PR_CHECK_MSG(final_buf_[words] == kBufferGuard, "the target wrote past the end of the final read's buffer");
        rec.reached = std::min(out.done, rec.count);
        rec.sigbus = out.sigbus;
        ObserveSectors(final_buf_.data(), rec.reached, rec);
        lo = hi;
      }
    }
  }
  return Status::Ok();
}

}  // namespace pagerace
