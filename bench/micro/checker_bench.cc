// Microbenchmarks of the oracle's checker (CheckHistory) on the histories of
// real runs: generated programs run once, in setup, by the executor on the
// correct model over the memory backend under the controlled scheduler (so
// the histories are the same every time), end-of-run check included. Only
// the check is timed. Each iteration checks one history, in turn; items are
// op records, bytes the read data judged (observed sectors).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/micro/programs.h"
#include "harness/oracle/checker.h"
#include "harness/oracle/history.h"
#include "harness/program/program.h"
#include "harness/run/executor.h"

namespace pagerace::bench {
namespace {

struct Recorded {
  History history;
  size_t sectors_observed = 0;
};

// The histories of the corpus's programs, or an error that says why not.
Result<std::vector<Recorded>> RecordHistories(const std::vector<Program>& programs) {
  ExecutorOptions options;
  options.backend = BackendKind::kMemory;
  options.schedule = Schedule::kControlled;
  Result<std::unique_ptr<Executor>> exec = Executor::Create(options);
  if (!exec.ok()) return exec.status();
  std::vector<Recorded> recorded;
  for (const Program& p : programs) {
    Result<RunOutcome> out = (*exec)->Run(p);
    if (!out.ok()) return out.status();
    if (!out->report.ok()) return Status::InvalidArgument("the correct model failed a check");
    Recorded r;
    r.history = std::move(out->history);
    for (const OpRecord& rec : r.history) r.sectors_observed += rec.observed.size();
    recorded.push_back(std::move(r));
  }
  return recorded;
}

void BM_CheckHistory(benchmark::State& state) {
  Result<std::vector<Recorded>> recorded = RecordHistories(ProgramsFor(state));
  if (!recorded.ok()) {
    state.SkipWithError(recorded.status().ToString().c_str());
    return;
  }
  const std::vector<Recorded>& runs = *recorded;
  size_t i = 0, records = 0, sectors = 0;
  for (auto _ : state) {
    CheckReport report = CheckHistory(runs[i].history);
    benchmark::DoNotOptimize(report);
    records += runs[i].history.size();
    sectors += runs[i].sectors_observed;
    i = i + 1 == runs.size() ? 0 : i + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(sectors * kSectorBytes));
}
BENCHMARK(BM_CheckHistory)->Apply(ProgramShapes);

}  // namespace
}  // namespace pagerace::bench
