#include "harness/sched/controller.h"

#include <algorithm>
#include <bit>

#include "harness/base/check.h"
#include "harness/base/interrupt.h"

namespace pagerace::sched {
namespace {
thread_local Controller* active = nullptr;

int Lowest(uint32_t mask) { return std::countr_zero(mask); }

// What the logical threads allocate is not leak-checked (LeakSanitizer
// ignores allocations while disabled on this OS thread): a thread left blocked
// at a deadlock or livelock is abandoned mid-operation, so what it allocated
// can never be freed, and its locals live on ASan's fake stack, where the leak
// check at exit does not look. Everything else stays checked.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAGERACE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PAGERACE_LSAN 1
#endif
#if defined(PAGERACE_LSAN)
extern "C" void __lsan_disable();
extern "C" void __lsan_enable();
void LeakCheckOff() { __lsan_disable(); }
void LeakCheckOn() { __lsan_enable(); }
#else
void LeakCheckOff() {}
void LeakCheckOn() {}
#endif

// The trace's "waits for" event, out of line: the string it formats would
// put Block's frame on ASan's fake stack at every lock acquire.
[[gnu::noinline]] void RecordWait(const std::string& what) { Record(EventKind::kWait, "waits for " + what); }
}  // namespace

Controller::Controller() = default;
Controller::Controller(const Options& options) : options_(options) {}
Controller::~Controller() = default;

Controller* Controller::Active() { return active; }

bool Tracing() {
  Controller* c = active;
  return c != nullptr && c->trace() != nullptr && c->current() >= 0;
}

Event& Record(EventKind kind, std::string text) {
  Controller* c = active;
  Event& e = c->trace()->events.emplace_back();
  e.step = c->steps() - 1;  // 0-based, as directed schedules count steps
  e.thread = c->current();
  e.kind = kind;
  e.text = std::move(text);
  return e;
}

const char* EventKindName(EventKind kind) {
  static const char* const kNames[] = {"op", "point", "wait", "lock", "folio", "io", "note"};
  return kNames[static_cast<int>(kind)];
}

void Controller::StartPolicy(size_t n) {
  rng_.Seed(Mix64(options_.seed));
  next_override_ = 0;
  next_change_ = 0;
  change_points_.clear();
  if (options_.policy != Policy::kPct) return;
  // Distinct initial priorities d .. d+n-1 in a random order; change point j
  // (1-based) lowers the running thread to d-j, below every initial one.
  const uint64_t d = std::max<uint32_t>(options_.pct_depth, 1);
  std::vector<uint64_t> prio(n);
  for (size_t t = 0; t < n; ++t) prio[t] = d + t;
  for (size_t t = n; t > 1; --t) std::swap(prio[t - 1], prio[rng_.Below(t)]);
  for (size_t t = 0; t < n; ++t) threads_[t].priority = prio[t];
  for (uint64_t j = 1; j < d; ++j) change_points_.push_back(1 + rng_.Below(std::max<uint64_t>(options_.pct_steps, 1)));
  std::sort(change_points_.begin(), change_points_.end());
}

// `last` ran the previous step and is runnable now, or -1.
int Controller::Choose(uint32_t runnable, int last, bool fine) {
  switch (options_.policy) {
    case Policy::kRandom: {
      if (fine && last >= 0 && !rng_.Chance(1, kFineSwitchOdds)) return last;
      uint64_t k = rng_.Below(std::popcount(runnable));
      uint32_t m = runnable;
      while (k-- > 0) m &= m - 1;
      return Lowest(m);
    }
    case Policy::kPct: {
      const uint64_t d = std::max<uint32_t>(options_.pct_depth, 1);
      while (next_change_ < change_points_.size() && change_points_[next_change_] <= steps_) {
        if (last >= 0) threads_[last].priority = d - 1 - next_change_;
        ++next_change_;
      }
      int best = -1;
      for (uint32_t m = runnable; m != 0; m &= m - 1) {
        const int t = Lowest(m);
        if (best < 0 || threads_[t].priority > threads_[best].priority) best = t;
      }
      return best;
    }
    case Policy::kDirected: {
      const std::vector<Override>& ov = options_.overrides;
      const uint64_t step = steps_ - 1;  // 0-based
      while (next_override_ < ov.size() && ov[next_override_].step < step) ++next_override_;
      for (size_t i = next_override_; i < ov.size() && ov[i].step == step; ++i)
        if (ov[i].thread < 32 && (runnable >> ov[i].thread & 1) != 0) return ov[i].thread;
      return last >= 0 ? last : Lowest(runnable);
    }
  }
  return Lowest(runnable);
}

Controller::Outcome Controller::Run(std::vector<std::function<void()>> bodies) {
  PR_CHECK_MSG(active == nullptr, "nested controlled runs");
  PR_CHECK_MSG(bodies.size() <= kControlledThreadsMax, "too many logical threads");
  threads_.clear();
  threads_.resize(bodies.size());
  for (size_t t = 0; t < bodies.size(); ++t) {
    Logical& l = threads_[t];
    if (!spare_.empty()) {
      l.fiber = std::move(spare_.back());
      spare_.pop_back();
      l.fiber->Rearm(std::move(bodies[t]));
    } else {
      l.fiber = std::make_unique<Fiber>(std::move(bodies[t]));
    }
    l.rng.Seed(Mix64(options_.seed ^ Mix64(t + 1)));
  }
  steps_ = 0;
  stuck_.clear();
  sleepers_.clear();
  StartPolicy(threads_.size());
  active = this;
  outcome_ = Outcome::kDone;
  handoff_ = kNoHandoff;
  int ran = -1;  // the thread that ran the last step
  LeakCheckOff();
  for (;;) {
    int next = handoff_;
    handoff_ = kNoHandoff;
    if (next == kNoHandoff) next = Decide(ran);
    if (next < 0) break;
    current_ = next;
    threads_[next].fiber->Resume();
    current_ = -1;
    ran = next;
  }
  LeakCheckOn();
  const Outcome outcome = outcome_;
  active = nullptr;
  if (outcome != Outcome::kDone) stuck_ = Describe();
  for (Logical& l : threads_)
    if (l.fiber->done()) spare_.push_back(std::move(l.fiber));
  threads_.clear();  // abandons blocked fibers
  sleepers_.clear();
  return outcome;
}

// At a fine point the running thread is runnable, so the run neither ends
// nor deadlocks there, and most policies keep it: decide that without
// asking every blocked thread whether it could run. Same decisions, and the
// same draws, as the full path below. None: take the full path.
std::optional<int> Controller::KeepsRunning(int ran) {
  // PCT: a woken thread may outrank the running one. Directed: a preemption
  // listed for this step. A stop request: the full path ends the run.
  if (StopRequested() || options_.policy == Policy::kPct) return std::nullopt;
  if (options_.policy == Policy::kDirected) {
    const std::vector<Override>& ov = options_.overrides;
    while (next_override_ < ov.size() && ov[next_override_].step < steps_) ++next_override_;
    if (next_override_ < ov.size() && ov[next_override_].step == steps_) return std::nullopt;
  }
  if (++steps_ > options_.steps_max) {
    outcome_ = Outcome::kLivelock;
    return -1;
  }
  if (options_.policy == Policy::kDirected || !rng_.Chance(1, kFineSwitchOdds)) return ran;
  return Choose(Runnable(), ran, /*fine=*/false);  // the switch Choose would draw
}

uint32_t Controller::Runnable() const {
  uint32_t runnable = 0;
  for (size_t t = 0; t < threads_.size(); ++t) {
    const Logical& l = threads_[t];
    if (!l.fiber->done() && (l.ready == nullptr || (*l.ready)())) runnable |= 1u << t;
  }
  return runnable;
}

int Controller::Decide(int ran, bool fine) {
  if (fine && ran >= 0 && options_.steps == nullptr)
    if (std::optional<int> kept = KeepsRunning(ran)) return *kept;
  uint32_t runnable = 0;
  bool live = false;
  for (size_t t = 0; t < threads_.size(); ++t) {
    Logical& l = threads_[t];
    if (l.fiber->done()) continue;
    live = true;
    if (l.ready == nullptr || (*l.ready)()) runnable |= 1u << t;
  }
  if (!live) return -1;  // kDone
  if (StopRequested()) {
    outcome_ = Outcome::kStopped;
    return -1;
  }
  if (runnable == 0) {
    outcome_ = Outcome::kDeadlock;
    return -1;
  }
  if (++steps_ > options_.steps_max) {
    outcome_ = Outcome::kLivelock;
    return -1;
  }
  const int last = ran >= 0 && (runnable >> ran & 1) != 0 ? ran : -1;
  const int next = Choose(runnable, last, fine);
  if (options_.steps != nullptr)
    options_.steps->push_back({runnable, static_cast<int8_t>(last), static_cast<uint8_t>(next)});
  return next;
}

std::string Controller::Describe() const {
  std::string s;
  for (size_t t = 0; t < threads_.size(); ++t) {
    const Logical& l = threads_[t];
    if (l.fiber->done()) continue;
    if (!s.empty()) s += "; ";
    s += "t" + std::to_string(t) + (l.ready != nullptr ? " waits for " + *l.what : std::string(" runnable"));
  }
  return s;
}

void Controller::Switch(bool fine) {
  PR_CHECK(current_ >= 0);
  if (fine && !options_.state_points) return;
  const int next = Decide(current_, fine);
  if (next == current_) return;
  handoff_ = next;
  Fiber::Yield();
}

void Controller::Block(const std::function<bool()>& ready, const std::string& what) {
  PR_CHECK(current_ >= 0);
  if (ready()) return;
  if (Tracing()) RecordWait(what);
  Logical& l = threads_[current_];
  while (!ready()) {
    l.ready = &ready;
    l.what = &what;
    Fiber::Yield();
  }
  l.ready = nullptr;
  l.what = nullptr;
}

void Controller::Sleep(const void* key, const std::function<bool()>& ready, const std::string& what) {
  if (ready()) return;
  Sleeper self{key, false};
  sleepers_.push_back(&self);
  const std::function<bool()> woken = [&] {
    if (!self.woken) return false;
    if (ready()) return true;
    self.woken = false;  // woken, re-checked, asleep again
    return false;
  };
  Block(woken, what);
  sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), &self));
}

void Controller::Wake(const void* key) {
  for (Sleeper* s : sleepers_)
    if (s->key == key) s->woken = true;
}

Rng& Controller::CurrentRng() {
  PR_CHECK(current_ >= 0);
  return threads_[current_].rng;
}

}  // namespace pagerace::sched
