#include "harness/sched/controller.h"

#include "harness/base/check.h"

namespace pagerace::sched {
namespace {
thread_local Controller* active = nullptr;
}  // namespace

Controller::Controller(const Options& options) : options_(options), rng_(Mix64(options.seed)) {}
Controller::~Controller() = default;

Controller* Controller::Active() { return active; }

Controller::Outcome Controller::Run(std::vector<std::function<void()>> bodies) {
  PR_CHECK_MSG(active == nullptr, "nested controlled runs");
  threads_.clear();
  threads_.resize(bodies.size());
  for (size_t t = 0; t < bodies.size(); ++t) {
    threads_[t].fiber = std::make_unique<Fiber>(std::move(bodies[t]));
    threads_[t].rng.Seed(Mix64(options_.seed ^ Mix64(t + 1)));
  }
  active = this;
  Outcome outcome = Outcome::kDone;
  std::vector<int> runnable;
  for (;;) {
    runnable.clear();
    bool live = false;
    for (size_t t = 0; t < threads_.size(); ++t) {
      Logical& l = threads_[t];
      if (l.fiber->done()) continue;
      live = true;
      if (l.ready == nullptr || (*l.ready)()) runnable.push_back(static_cast<int>(t));
    }
    if (!live) break;
    if (runnable.empty()) {
      outcome = Outcome::kDeadlock;
      break;
    }
    if (++steps_ > options_.steps_max) {
      outcome = Outcome::kLivelock;
      break;
    }
    current_ = runnable[rng_.Below(runnable.size())];
    threads_[current_].fiber->Resume();
    current_ = -1;
  }
  active = nullptr;
  if (outcome != Outcome::kDone) stuck_ = Describe();
  threads_.clear();  // abandons blocked fibers
  return outcome;
}

std::string Controller::Describe() const {
  std::string s;
  for (size_t t = 0; t < threads_.size(); ++t) {
    const Logical& l = threads_[t];
    if (l.fiber->done()) continue;
    if (!s.empty()) s += "; ";
    s += "t" + std::to_string(t) + (l.ready != nullptr ? std::string(" waits for ") + l.what : " runnable");
  }
  return s;
}

void Controller::Switch() {
  PR_CHECK(current_ >= 0);
  Fiber::Yield();
}

void Controller::Block(const std::function<bool()>& ready, const char* what) {
  PR_CHECK(current_ >= 0);
  Logical& l = threads_[current_];
  while (!ready()) {
    l.ready = &ready;
    l.what = what;
    Fiber::Yield();
  }
  l.ready = nullptr;
  l.what = nullptr;
}

Rng& Controller::CurrentRng() {
  PR_CHECK(current_ >= 0);
  return threads_[current_].rng;
}

}  // namespace pagerace::sched
