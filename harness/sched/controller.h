// The controlled scheduler: a program's logical threads run as fibers on the
// calling OS thread, exactly one at a time, and switch only at scheduling
// points (every lock, wait and named point of sched.h). Which runnable thread
// goes next at each step is decided by a policy:
//   random    uniformly among the runnable threads, from a seeded generator,
//             at the coarse points (named race windows, locks, waits, op
//             boundaries); at a fine point (a state transition, sched.h
//             kState) the running thread is switched away from with chance
//             1/kFineSwitchOdds only, so that a random schedule still lets
//             one thread run through a window while another waits in it;
//   PCT       probabilistic concurrency testing (Burckhardt et al., ASPLOS
//             2010): random distinct thread priorities, the highest runnable
//             runs, and at d-1 random steps the running thread drops below
//             all others; finds any bug of depth d with probability at least
//             1/(n k^(d-1)) for n threads and k steps;
//   directed  non-preemptive (the last thread runs on while it can, else the
//             lowest-numbered runnable one) except at the listed steps, where
//             the listed thread runs if it can: a preemption list, as the
//             fuzzer or the explorer (iterative context bounding) writes it.
// Same options and bodies => same interleaving, bit for bit. No runnable
// thread is a deadlock; the step bound stands for a livelock. A stop
// request (SIGINT, SIGTERM: base/interrupt.h) ends the run at its next decision.
// Thread-safety: Run, and every call the primitives make, on one OS thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/base/rng.h"
#include "harness/sched/fiber.h"
#include "harness/sched/trace.h"

namespace pagerace::sched {

inline constexpr int kControlledThreadsMax = 32;
inline constexpr uint32_t kFineSwitchOdds = 16;

class Controller {
 public:
  // kStopped: a stop request (base/interrupt.h) ended the run at a decision.
  enum class Outcome : uint8_t { kDone, kDeadlock, kLivelock, kStopped };
  enum class Policy : uint8_t { kRandom, kPct, kDirected };
  struct Override {
    uint32_t step;
    uint8_t thread;
    bool operator==(const Override&) const = default;
  };
  // One decision, for the explorer.
  struct Step {
    uint32_t runnable = 0;  // bit per thread
    int8_t last = -1;       // the thread that ran the step before, if it is runnable now
    uint8_t chosen = 0;
  };
  struct Options {
    Policy policy = Policy::kRandom;
    uint64_t seed = 0;
    uint32_t pct_depth = 3;              // PCT: d >= 1 (d-1 priority change points)
    uint64_t pct_steps = 1000;           // PCT: change points are drawn from [1, pct_steps]
    std::vector<Override> overrides;     // directed, by step
    uint64_t steps_max = 1'000'000;
    bool state_points = true;            // false: a fine point (Switch(true)) is no step at all
    Trace* trace = nullptr;              // records events when set
    std::vector<Step>* steps = nullptr;  // records every decision when set
  };

  Controller();
  explicit Controller(const Options& options);
  ~Controller();

  void set_options(const Options& options) { options_ = options; }

  // Runs bodies[i] as logical thread i until all finish, none can run, the
  // step bound, or a stop request. Threads left unfinished are abandoned (their stacks freed;
  // what they allocated is not leak-checked).
  // Fibers of threads that finished are kept for the next Run.
  Outcome Run(std::vector<std::function<void()>> bodies);
  // For kDeadlock and kLivelock: what each unfinished thread waits for.
  const std::string& stuck() const { return stuck_; }
  uint64_t steps() const { return steps_; }

  // The controller running on this OS thread, or null (free mode).
  static Controller* Active();

  // Called from a logical thread. Switch: a scheduling point; the decision
  // is made on the calling fiber, which switches only if another thread is
  // chosen (most points of a non-preemptive schedule cost no switch). Block: until
  // `ready()` holds (re-checked whenever this thread could be chosen);
  // `what` names the wait for deadlock reports and traces.
  void Switch(bool fine = false);
  void Block(const std::function<bool()>& ready, const std::string& what);
  // A sleep on a wait queue (`key`): unless `ready()` holds now, the thread
  // runs again only after Wake(key) and once `ready()` holds then (a wake
  // that finds it false puts it back to sleep). A wake that never comes (a
  // lost wake-up) leaves it asleep for good: a deadlock.
  void Sleep(const void* key, const std::function<bool()>& ready, const std::string& what);
  void Wake(const void* key);
  // The current logical thread's generator (seeded from the seed and its
  // number), for model decisions that must replay.
  Rng& CurrentRng();
  int current() const { return current_; }
  Trace* trace() const { return options_.trace; }

 private:
  struct Logical {
    std::unique_ptr<Fiber> fiber;
    const std::function<bool()>* ready = nullptr;  // set while blocked
    const std::string* what = nullptr;
    uint64_t priority = 0;                         // PCT
    Rng rng{0};
  };
  std::string Describe() const;
  // One scheduling step: the thread to run next, given that `ran` ran the
  // step before; -1 when the run ends (outcome_ says why).
  int Decide(int ran, bool fine = false);
  std::optional<int> KeepsRunning(int ran);
  uint32_t Runnable() const;
  int Choose(uint32_t runnable, int last, bool fine);
  void StartPolicy(size_t n);

  Options options_;
  Rng rng_{0};
  std::vector<Logical> threads_;
  std::vector<std::unique_ptr<Fiber>> spare_;  // finished fibers, reused
  struct Sleeper {
    const void* key;
    bool woken;
  };
  std::vector<Sleeper*> sleepers_;             // on their fibers' stacks; cleared by Run
  std::vector<uint64_t> change_points_;        // PCT, sorted
  size_t next_change_ = 0;
  size_t next_override_ = 0;
  int current_ = -1;
  // Set by a thread that decided, at a scheduling point, that another thread
  // runs next (or, -1, that the run ends): the step is already taken.
  static constexpr int kNoHandoff = -2;
  int handoff_ = kNoHandoff;
  Outcome outcome_ = Outcome::kDone;
  uint64_t steps_ = 0;
  std::string stuck_;
};

}  // namespace pagerace::sched
