// The controlled scheduler: a program's logical threads run as fibers on the
// calling OS thread, exactly one at a time, and switch only at scheduling
// points (every lock, wait and named point of sched.h). Which runnable thread
// goes next is drawn from a seeded generator, so the same seed gives the same
// interleaving, bit for bit. No runnable thread is a deadlock; a step bound
// stands for a livelock.
// Thread-safety: Run, and every call the primitives make, on one OS thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/base/rng.h"
#include "harness/sched/fiber.h"

namespace pagerace::sched {

class Controller {
 public:
  enum class Outcome : uint8_t { kDone, kDeadlock, kLivelock };
  struct Options {
    uint64_t seed = 0;
    uint64_t steps_max = 1'000'000;
  };

  explicit Controller(const Options& options);
  ~Controller();

  // Runs bodies[i] as logical thread i until all finish, none can run, or
  // the step bound. Threads left blocked are abandoned (their stacks freed).
  Outcome Run(std::vector<std::function<void()>> bodies);
  // For kDeadlock and kLivelock: what each unfinished thread waits for.
  const std::string& stuck() const { return stuck_; }
  uint64_t steps() const { return steps_; }

  // The controller running on this OS thread, or null (free mode).
  static Controller* Active();

  // Called from a logical thread. Switch: a scheduling point. Block: until
  // `ready()` holds (re-checked whenever this thread could be chosen);
  // `what` names the wait for deadlock reports.
  void Switch();
  void Block(const std::function<bool()>& ready, const char* what);
  // The current logical thread's generator (seeded from the seed and its
  // number), for model decisions that must replay.
  Rng& CurrentRng();

 private:
  struct Logical {
    std::unique_ptr<Fiber> fiber;
    const std::function<bool()>* ready = nullptr;  // set while blocked
    const char* what = nullptr;
    Rng rng{0};
  };
  std::string Describe() const;

  Options options_;
  Rng rng_;
  std::vector<Logical> threads_;
  int current_ = -1;
  uint64_t steps_ = 0;
  std::string stuck_;
};

}  // namespace pagerace::sched
