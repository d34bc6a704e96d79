#include "harness/sched/sched.h"

#include <sched.h>

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

}  // namespace

const char* PointName(Point point) {
  static const char* const kNames[] = {
      "create-after-add",    "read-folio-before-io", "readahead-after-add", "update-before-read",
      "punch-after-truncate", "writeback-before-io", "lock-acquire",
  };
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

void At(Point point) {
  if (Controller* c = Controller::Active()) {
    c->Switch();
    return;
  }
  ThreadState& s = State();
  uint32_t chance = s.jitter.pause_per_1024;
  if (chance == 0) return;
  if (point == Point::kLockAcquire) chance /= 4;
  if (!s.rng.Chance(chance, 1024)) return;
  const uint64_t spins = s.rng.Below(s.jitter.spin_max + 1);
  if (spins < s.jitter.spin_max / 4) {
    sched_yield();
    return;
  }
  for (uint64_t i = 0; i < spins; ++i) __builtin_ia32_pause();
}

void WaitWord(std::atomic<uint32_t>& word, uint32_t old) {
  if (Controller* c = Controller::Active()) {
    c->Block([&] { return word.load(std::memory_order_acquire) != old; }, "a folio bit");
    return;
  }
  At(Point::kLockAcquire);
  word.wait(old, std::memory_order_acquire);
}

void WakeWord(std::atomic<uint32_t>& word) {
  if (Controller::Active() == nullptr) word.notify_all();  // controlled: waits re-check
}

namespace {

// The acquire of every lock: under a controller, a scheduling point and then
// a cooperative wait until `ready` (true: the caller takes the lock in its
// controlled state); in free mode, only the jitter point (false: the caller
// takes its real lock).
template <typename Ready>
bool ControlledAcquire(Ready ready, const char* name) {
  Controller* c = Controller::Active();
  if (c == nullptr) {
    At(Point::kLockAcquire);
    return false;
  }
  c->Switch();
  c->Block(ready, name);
  return true;
}

}  // namespace

void Mutex::Lock() {
  if (ControlledAcquire([this] { return !held_; }, name_)) {
    held_ = true;
  } else {
    mu_.lock();
  }
}

void Mutex::Unlock() {
  if (Controller::Active() != nullptr) {
    held_ = false;
  } else {
    mu_.unlock();
  }
}

void RwSem::Lock() {
  if (ControlledAcquire([this] { return writers_ == 0 && readers_ == 0; }, name_)) {
    ++writers_;
  } else {
    mu_.lock();
  }
}

void RwSem::Unlock() {
  if (Controller::Active() != nullptr) {
    --writers_;
  } else {
    mu_.unlock();
  }
}

void RwSem::LockShared() {
  if (ControlledAcquire([this] { return writers_ == 0; }, name_)) {
    ++readers_;
  } else {
    mu_.lock_shared();
  }
}

void RwSem::UnlockShared() {
  if (Controller::Active() != nullptr) {
    --readers_;
  } else {
    mu_.unlock_shared();
  }
}

}  // namespace pagerace::sched
