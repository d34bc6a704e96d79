#include "harness/run/explore.h"

#include <bit>
#include <chrono>
#include <memory>
#include <vector>

#include "harness/base/interrupt.h"
#include "harness/base/rng.h"

namespace pagerace {
namespace {

using Clock = std::chrono::steady_clock;
using Override = sched::Controller::Override;
using Step = sched::Controller::Step;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The schedule as a program of the text and binary formats, if it fits them.
std::optional<Program> AsDirected(const Program& program, const std::vector<Override>& overrides) {
  if (overrides.size() > kPreemptionsMax) return std::nullopt;
  Program p = program;
  p.schedule.strategy = Strategy::kDirected;
  p.schedule.preemptions.clear();
  for (const Override& o : overrides) {
    if (o.step > kPreemptStepMax) return std::nullopt;
    p.schedule.preemptions.push_back({static_cast<uint16_t>(o.step), o.thread});
  }
  return p;
}

// A schedule to run: the decisions that differ from the default, and the
// first step whose alternatives are still to be tried.
struct Item {
  std::vector<Override> overrides;
  uint32_t from_step = 0;
  uint32_t preemptions = 0;
};

}  // namespace

Result<ExploreResult> Explore(const Program& program, const ExploreOptions& options) {
  PR_RETURN_IF_ERROR(Validate(program));
  Result<std::unique_ptr<Executor>> exec =
      Executor::Create(options.mutant, Schedule::kControlled, options.backend, options.io, options.dir);
  if (!exec.ok()) return exec.status();
  return Explore(**exec, WithOverrides(program, options.backend, options.io), options);
}

Result<ExploreResult> Explore(Executor& exec, const Program& program, const ExploreOptions& options) {
  PR_RETURN_IF_ERROR(Validate(program));
  ExploreResult result;
  // One stack per preemption count: schedules with fewer preemptions first.
  std::vector<std::vector<Item>> stacks(options.preemptions + 1);
  stacks[0].push_back({});
  std::vector<Step> steps;
  const Clock::time_point t0 = Clock::now();
  for (;;) {
    size_t k = 0;
    while (k < stacks.size() && stacks[k].empty()) ++k;
    if (k == stacks.size()) {
      result.complete = true;
      break;
    }
    if (result.schedules >= options.schedules_max || Since(t0) >= options.duration_s || StopRequested()) break;
    const Item item = std::move(stacks[k].back());
    stacks[k].pop_back();
    steps.clear();
    ControlledHooks hooks;
    hooks.steps = &steps;
    hooks.overrides = &item.overrides;
    exec.set_hooks(hooks);
    Result<RunOutcome> out = exec.Run(program);
    exec.set_hooks({});
    if (!out.ok()) return out.status();
    if (out->stopped) break;  // not a schedule run: nothing to count or expand
    ++result.schedules;
    result.ops += out->ops;
    if (!out->report.ok()) {
      ++result.violating;
      if (!result.first_report) {
        result.first = AsDirected(program, item.overrides);
        result.first_report = std::move(out->report);
        result.first_preemptions = item.preemptions;
      }
      if (!options.all) break;
    }
    // Every alternative at every step past the ones this schedule fixed.
    for (uint32_t j = item.from_step; j < steps.size(); ++j) {
      const Step& s = steps[j];
      for (uint32_t m = s.runnable; m != 0; m &= m - 1) {
        const auto t = static_cast<uint8_t>(std::countr_zero(m));
        if (t == s.chosen) continue;
        const uint32_t cost = item.preemptions + (s.last >= 0 && t != s.last ? 1 : 0);
        if (cost > options.preemptions) continue;
        Item child;
        child.overrides = item.overrides;
        child.overrides.push_back({j, t});
        child.from_step = j + 1;
        child.preemptions = cost;
        stacks[cost].push_back(std::move(child));
      }
    }
  }
  result.interrupted = StopSignal();
  return result;
}

Result<SearchResult> FindSchedule(const Program& program, const SearchOptions& options) {
  PR_RETURN_IF_ERROR(Validate(program));
  Result<std::unique_ptr<Executor>> exec =
      Executor::Create(options.mutant, Schedule::kControlled, options.backend, options.io, options.dir);
  if (!exec.ok()) return exec.status();
  SearchResult result;
  const Clock::time_point t0 = Clock::now();
  Program p = WithOverrides(program, options.backend, options.io);
  for (uint64_t i = options.try_own ? 0 : 1;
       result.tries < options.tries_max && Since(t0) < options.duration_s && !StopRequested(); ++i) {
    if (i > 0) {
      // Odd tries PCT with depth 1-3, even tries random; seeds from the program's.
      p.seed = Mix64(program.seed ^ Mix64(i));
      p.schedule = {};
      if (i % 2 == 1) {
        p.schedule.strategy = Strategy::kPct;
        p.schedule.pct_depth = static_cast<uint8_t>(1 + (i / 2) % 3);
      }
    }
    Result<RunOutcome> out = (*exec)->Run(p);
    if (!out.ok()) return out.status();
    if (out->stopped) break;
    ++result.tries;
    if (!out->report.ok()) {
      result.found = p;
      result.report = std::move(out->report);
      break;
    }
  }
  result.interrupted = StopSignal();
  return result;
}

}  // namespace pagerace
