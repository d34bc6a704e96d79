#include "harness/sched/sched.h"

#include <sched.h>

#include <iterator>
#include <system_error>

#include "harness/sched/controller.h"

namespace pagerace::sched {
namespace {

struct ThreadState {
  Rng rng{0};
  Jitter jitter;
};

ThreadState& State() {
  thread_local ThreadState state;
  return state;
}

// A scheduling point's or a lock's trace event, out of line: the string it
// formats would put every caller's frame on ASan's fake stack, traced or not.
[[gnu::noinline]] void RecordPoint(Point point) { Record(EventKind::kPoint, PointName(point)); }

[[gnu::noinline]] void RecordLock(const char* verb, const LockName& name, bool shared) {
  Record(EventKind::kLock, verb + name.name() + (shared ? " (shared)" : ""));
}

}  // namespace

const char* PointName(Point point) {
  static const char* const kNames[] = {
      "create-after-add",    "read-folio-before-io", "readahead-after-add", "update-before-read",
      "punch-after-truncate", "writeback-before-io", "mkwrite-before-dirty", "direct-before-io",
      "shift-before-move",    "backend-io",
      "op-start",             "lock-acquire",         "state",
  };
  static_assert(std::size(kNames) == static_cast<size_t>(Point::kMaxValue) + 1);
  return kNames[static_cast<int>(point)];
}

void SetThreadJitter(uint64_t seed, Jitter jitter) {
  State().rng.Seed(seed);
  State().jitter = jitter;
}

Rng& ThreadRng() {
  if (Controller* c = Controller::Active()) return c->CurrentRng();
  return State().rng;
}

bool Controlled() { return Controller::Active() != nullptr; }

void At(Point point) {
  if (Controller* c = Controller::Active()) {
    if (point < Point::kOpStart && Tracing()) RecordPoint(point);
    c->Switch(point == Point::kState);
    return;
  }
  ThreadState& s = State();
  uint32_t chance = s.jitter.pause_per_1024;
  if (chance == 0) return;
  if (point == Point::kLockAcquire) chance /= 4;
  if (point == Point::kState) {
    if (!s.jitter.state_points) return;
    chance /= 16;
  }
  if (!s.rng.Chance(chance, 1024)) return;
  const uint64_t spins = s.rng.Below(s.jitter.spin_max + 1);
  if (spins < s.jitter.spin_max / 4) {
    sched_yield();
    return;
  }
  for (uint64_t i = 0; i < spins; ++i) __builtin_ia32_pause();
}

void WaitWord(std::atomic<uint32_t>& word, uint32_t old, const std::string& what) {
  if (Controller* c = Controller::Active()) {
    c->Sleep(&word, [&] { return word.load(std::memory_order_acquire) != old; }, what);
    return;
  }
  At(Point::kLockAcquire);
  word.wait(old, std::memory_order_acquire);
}

void WakeWord(std::atomic<uint32_t>& word) {
  if (Controller* c = Controller::Active()) {
    c->Wake(&word);
    return;
  }
  word.notify_all();
}

LockName::LockName(const char* cls, int file)
    : name_(file < 0 ? std::string(cls) : "f" + std::to_string(file) + "." + cls) {}

namespace {

// The acquire of every lock: under a controller, a scheduling point and then
// a cooperative wait until `ready` (true: the caller takes the lock in its
// controlled state); in free mode, only the jitter point (false: the caller
// takes its real lock). `shared` only tells the trace.
template <typename Ready>
bool ControlledAcquire(Ready ready, const LockName& name, bool shared) {
  Controller* c = Controller::Active();
  if (c == nullptr) {
    At(Point::kLockAcquire);
    return false;
  }
  c->Switch();
  c->Block(ready, name.name());
  if (Tracing()) RecordLock("takes ", name, shared);
  return true;
}

// The release of every lock: true under a controller (the caller releases
// its controlled state).
bool ControlledRelease(const LockName& name, bool shared) {
  if (Controller::Active() == nullptr) return false;
  if (Tracing()) RecordLock("drops ", name, shared);
  return true;
}

// A free-mode lock the caller already holds (the C library reports EDEADLK
// instead of blocking): the thread waits forever, as the kernel's would, for
// the hang watchdog to report.
[[noreturn]] void SelfDeadlock() {
  std::atomic<uint32_t> never{0};
  for (;;) never.wait(0);
}

template <typename Acquire>
void FreeAcquire(Acquire acquire) {
  try {
    acquire();
  } catch (const std::system_error& e) {
    if (e.code() != std::errc::resource_deadlock_would_occur) throw;
    SelfDeadlock();
  }
}

}  // namespace

void Mutex::Lock() {
  if (ControlledAcquire([this] { return !held_; }, name_, false)) {
    held_ = true;
  } else {
    FreeAcquire([this] { mu_.lock(); });
  }
}

void Mutex::Unlock() {
  if (ControlledRelease(name_, false)) {
    held_ = false;
  } else {
    mu_.unlock();
  }
}

void RwSem::Lock() {
  if (ControlledAcquire([this] { return writers_ == 0 && readers_ == 0; }, name_, false)) {
    ++writers_;
  } else {
    FreeAcquire([this] { mu_.lock(); });
  }
}

void RwSem::Unlock() {
  if (ControlledRelease(name_, false)) {
    --writers_;
  } else {
    mu_.unlock();
  }
}

void RwSem::LockShared() {
  if (ControlledAcquire([this] { return writers_ == 0; }, name_, true)) {
    ++readers_;
  } else {
    FreeAcquire([this] { mu_.lock_shared(); });
  }
}

void RwSem::UnlockShared() {
  if (ControlledRelease(name_, true)) {
    --readers_;
  } else {
    mu_.unlock_shared();
  }
}

}  // namespace pagerace::sched
