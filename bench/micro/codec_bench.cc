// Microbenchmarks of the program codec: the binary format that the fuzz
// targets decode from every input (Decode, and Encode, which writes seeds
// and artifacts), and the text format of artifacts, regressions and seeds
// (PrintText, ParseText). Each iteration handles one program of a fixed
// generated corpus, in turn; items are ops, bytes the size of the encoded
// (or printed) program.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/micro/programs.h"
#include "harness/program/codec.h"
#include "harness/program/program.h"
#include "harness/program/text.h"

namespace pagerace::bench {
namespace {

// The corpus in every form the benchmarks start from.
struct Corpus {
  std::vector<Program> programs;
  std::vector<std::vector<uint8_t>> encoded;
  std::vector<std::string> text;
  std::vector<size_t> ops;

  explicit Corpus(const benchmark::State& state) : programs(ProgramsFor(state)) {
    for (const Program& p : programs) {
      encoded.push_back(Encode(p));
      text.push_back(PrintText(p));
      ops.push_back(p.op_count());
    }
  }
  size_t size() const { return programs.size(); }
  // False (and the benchmark skipped) unless both formats round-trip.
  bool RoundTrips(benchmark::State& state) const {
    for (size_t i = 0; i < size(); ++i) {
      Result<Program> parsed = ParseText(text[i]);
      if (Decode(encoded[i]) != programs[i] || !parsed.ok() || *parsed != programs[i]) {
        state.SkipWithError("the corpus does not round-trip");
        return false;
      }
    }
    return true;
  }
};

size_t Next(size_t i, size_t n) { return i + 1 == n ? 0 : i + 1; }

// Runs `work(corpus, i)` on program i in turn; it returns the bytes it took
// in or made.
template <typename Work>
void RunOverCorpus(benchmark::State& state, Work work) {
  const Corpus corpus(state);
  if (!corpus.RoundTrips(state)) return;
  size_t i = 0, ops = 0, bytes = 0;
  for (auto _ : state) {
    bytes += work(corpus, i);
    ops += corpus.ops[i];
    i = Next(i, corpus.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(ops));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_Decode(benchmark::State& state) {
  RunOverCorpus(state, [](const Corpus& c, size_t i) {
    Program p = Decode(c.encoded[i]);
    benchmark::DoNotOptimize(p);
    return c.encoded[i].size();
  });
}
BENCHMARK(BM_Decode)->Apply(ProgramShapes);

void BM_Encode(benchmark::State& state) {
  RunOverCorpus(state, [](const Corpus& c, size_t i) {
    std::vector<uint8_t> encoded = Encode(c.programs[i]);
    benchmark::DoNotOptimize(encoded);
    return encoded.size();
  });
}
BENCHMARK(BM_Encode)->Apply(ProgramShapes);

void BM_ParseText(benchmark::State& state) {
  RunOverCorpus(state, [](const Corpus& c, size_t i) {
    Result<Program> p = ParseText(c.text[i]);
    benchmark::DoNotOptimize(p);
    return c.text[i].size();
  });
}
BENCHMARK(BM_ParseText)->Apply(ProgramShapes);

void BM_PrintText(benchmark::State& state) {
  RunOverCorpus(state, [](const Corpus& c, size_t i) {
    std::string text = PrintText(c.programs[i]);
    benchmark::DoNotOptimize(text);
    return text.size();
  });
}
BENCHMARK(BM_PrintText)->Apply(ProgramShapes);

}  // namespace
}  // namespace pagerace::bench
