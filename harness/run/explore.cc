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

// A schedule of the search tree, with what its run did: its children are the
// schedules that add one decision at a step from `from_step` on. The run up
// to that step is the same as this one's (a run is a function of its
// program and decisions), so `steps` says which alternatives there are.
struct Node {
  std::vector<Override> overrides;
  uint32_t from_step = 0;
  uint32_t preemptions = 0;
  std::vector<Step> steps;
  uint32_t next_step = 0;    // the next child: a thread of steps[next_step] in `untried`
  uint32_t untried = 0;
  bool started = false;
};

// The next child of `node` whose preemptions are at most `bound`, as
// (override, preemptions); false when there is none left.
bool NextChild(Node& node, uint32_t bound, Override& child, uint32_t& preemptions) {
  for (;;) {
    if (!node.started) {
      node.started = true;
      node.next_step = node.from_step;
      if (node.next_step < node.steps.size()) node.untried = node.steps[node.next_step].runnable;
    }
    if (node.next_step >= node.steps.size()) return false;
    const Step& s = node.steps[node.next_step];
    while (node.untried != 0) {
      const auto t = static_cast<uint8_t>(std::countr_zero(node.untried));
      node.untried &= node.untried - 1;
      if (t == s.chosen) continue;
      const uint32_t cost = node.preemptions + (s.last >= 0 && t != s.last ? 1 : 0);
      if (cost > bound) continue;
      child = {node.next_step, t};
      preemptions = cost;
      return true;
    }
    if (++node.next_step < node.steps.size()) node.untried = node.steps[node.next_step].runnable;
  }
}

}  // namespace

Result<ExploreResult> Explore(const Program& program, const ExploreOptions& options) {
  PR_RETURN_IF_ERROR(Validate(program));
  Result<std::unique_ptr<Executor>> exec =
      Executor::Create(options.mutant, Schedule::kControlled, options.backend, options.io, options.dir);
  if (!exec.ok()) return exec.status();
  return Explore(**exec, WithOverrides(program, options.backend, options.io), options);
}

// Iterative context bounding in memory that does not grow with the
// schedules run: for each bound b = 0..K, a depth-first walk of the tree of
// schedules with at most b preemptions that runs (and counts) those with
// exactly b. The walk keeps only the path from the root, one node (its
// decisions and its run's steps) per decision added, so memory is bounded by
// the program's length, never by the time spent. Schedules with fewer
// preemptions are re-run only to list their children; they are a small part
// of the next bound's.
Result<ExploreResult> Explore(Executor& exec, const Program& program, const ExploreOptions& options) {
  PR_RETURN_IF_ERROR(Validate(program));
  ExploreResult result;
  const Clock::time_point t0 = Clock::now();
  bool stopped = false;
  // Runs `node`'s schedule, records its steps, and counts it if it has
  // exactly `bound` preemptions. False when the walk must stop.
  auto run = [&](Node& node, uint32_t bound) -> Result<bool> {
    if (result.schedules >= options.schedules_max || Since(t0) >= options.duration_s || StopRequested())
      return false;
    ControlledHooks hooks;
    hooks.steps = &node.steps;
    hooks.overrides = &node.overrides;
    exec.set_hooks(hooks);
    Result<RunOutcome> out = exec.Run(program);
    exec.set_hooks({});
    if (!out.ok()) return out.status();
    if (out->stopped) return false;  // not a schedule run: nothing to count or expand
    result.ops += out->ops;
    result.ops_s += out->ops_s;
    if (node.preemptions != bound) return true;
    ++result.schedules;
    if (out->report.ok()) return true;
    ++result.violating;
    if (!result.first_report) {
      result.first = AsDirected(program, node.overrides);
      result.first_report = std::move(out->report);
      result.first_preemptions = node.preemptions;
    }
    return options.all;
  };
  std::vector<Node> path;
  for (uint32_t bound = 0; bound <= options.preemptions && !stopped; ++bound) {
    path.clear();
    path.emplace_back();
    Result<bool> go = run(path.back(), bound);
    if (!go.ok()) return go.status();
    stopped = !*go;
    while (!stopped && !path.empty()) {
      Override child;
      uint32_t preemptions = 0;
      if (!NextChild(path.back(), bound, child, preemptions)) {
        path.pop_back();
        continue;
      }
      Node next;
      next.overrides = path.back().overrides;
      next.overrides.push_back(child);
      next.from_step = child.step + 1;
      next.preemptions = preemptions;
      path.push_back(std::move(next));
      go = run(path.back(), bound);
      if (!go.ok()) return go.status();
      stopped = !*go;
    }
  }
  result.complete = !stopped;
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
