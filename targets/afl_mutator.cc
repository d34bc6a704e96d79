// AFL++'s custom mutator for the program fuzz targets (pagecache_fuzzer,
// kernel_file_fuzzer), the counterpart of libfuzzer_mutator.cc: afl-fuzz
// loads it (AFL_CUSTOM_MUTATOR_LIBRARY=build/afl/targets/
// libpagerace_afl_mutator.so) and each afl_custom_fuzz is a structure-aware
// mutation (harness/program/mutate.h) of the queue entry, or a crossover of
// it with add_buf, another queue entry. AFL++'s own mutations still run
// unless AFL_CUSTOM_MUTATOR_ONLY is set (README, "AFL++").
//
// A function of the seed afl_custom_init gets (afl-fuzz draws it from -s):
// each call takes its seed from one generator. afl-fuzz calls it from its
// one thread. It runs inside afl-fuzz, so it is built without AFL's
// instrumentation and without sanitizers (targets/CMakeLists.txt); only the
// afl_custom_* functions are exported.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "harness/base/rng.h"
#include "harness/program/mutate.h"

#define PAGERACE_AFL_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct AflMutator {
  explicit AflMutator(unsigned int seed) : rng(seed) {}
  pagerace::Rng rng;
  std::vector<uint8_t> out;  // what the last afl_custom_fuzz returned; afl-fuzz reads it until the next call
  std::string_view last = "pagerace-mutate";
};

}  // namespace

// `afl` is afl-fuzz's state (afl_state_t *), unused.
PAGERACE_AFL_EXPORT void* afl_custom_init(void* /*afl*/, unsigned int seed) { return new AflMutator(seed); }

// With add_buf (afl-fuzz 4.04c passes another queue entry once it has two)
// half the calls are a crossover, as in libFuzzer, whose mutator list is
// then {custom mutator, custom crossover}; the other half mutate with
// add_buf as the splice partner. Without it, a mutation. At most max_size
// bytes, in a buffer that stays valid until the next call.
PAGERACE_AFL_EXPORT size_t afl_custom_fuzz(void* data, uint8_t* buf, size_t buf_size, uint8_t** out_buf,
                                           uint8_t* add_buf, size_t add_buf_size, size_t max_size) {
  auto* m = static_cast<AflMutator*>(data);
  const std::span<const uint8_t> input(buf, buf_size);
  const std::span<const uint8_t> partner(add_buf, add_buf == nullptr ? 0 : add_buf_size);
  const uint64_t seed = m->rng.Next();
  const bool crossover = !partner.empty() && m->rng.Chance(1, 2);
  m->out = crossover ? pagerace::CrossOverInputs(input, partner, seed, max_size)
                     : pagerace::MutateInput(input, partner, seed, max_size);
  m->last = crossover ? "pagerace-crossover" : "pagerace-mutate";
  static uint8_t none = 0;  // afl-fuzz treats a null buffer as an error, even for 0 bytes
  *out_buf = m->out.empty() ? &none : m->out.data();
  return m->out.size();
}

// Names the queue entries the last call made (",op:pagerace-mutate").
PAGERACE_AFL_EXPORT const char* afl_custom_describe(void* data, size_t max_description_len) {
  const std::string_view name = static_cast<AflMutator*>(data)->last;
  return name.size() < max_description_len ? name.data() : "";
}

PAGERACE_AFL_EXPORT void afl_custom_deinit(void* data) { delete static_cast<AflMutator*>(data); }
