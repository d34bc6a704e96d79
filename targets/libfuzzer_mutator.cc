// libFuzzer's custom mutator and crossover for the program fuzz targets
// (pagecache_fuzzer, kernel_file_fuzzer): most mutations are structure-aware
// (harness/program/mutate.h: ops inserted, moved between threads, aimed at
// each other's ranges, preemptions, splices), the rest libFuzzer's own byte
// mutations (LLVMFuzzerMutate), which still find what the operators do not
// draw, such as the exact bits of the seed. PAGERACE_BYTE_MUTATIONS (a
// percentage, 0 to 100) sets the byte share; bench/detect measures shares.
// Without libFuzzer (the standalone driver, AFL++'s driver) nothing calls
// these; AFL++ has its own library, targets/afl_mutator.cc.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "harness/base/rng.h"
#include "harness/program/mutate.h"

// Defined by libFuzzer; weak so that the other drivers link without it.
extern "C" __attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

// The share of byte mutations, in percent: 10 unless the environment says
// otherwise (bench/detect's fuzzer-bytes strategy sets 100, plain libFuzzer).
uint64_t BytePercent() {
  static const uint64_t percent = [] {
    const char* v = std::getenv("PAGERACE_BYTE_MUTATIONS");
    return v == nullptr ? uint64_t{10} : std::min<uint64_t>(std::strtoull(v, nullptr, 10), 100);
  }();
  return percent;
}

size_t CopyOut(const std::vector<uint8_t>& bytes, uint8_t* out) {
  std::memcpy(out, bytes.data(), bytes.size());
  return bytes.size();
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  pagerace::Rng rng(seed);
  if (LLVMFuzzerMutate != nullptr && rng.Below(100) < BytePercent()) return LLVMFuzzerMutate(data, size, max_size);
  return CopyOut(pagerace::MutateInput({data, size}, {}, seed, max_size), data);
}

// libFuzzer draws this as often as the mutator above (its mutator list is
// then these two), so the byte share applies here too: libFuzzer's byte
// mutations of data1 (its own crossover among them), so that at 100 the
// structure-aware code is off altogether.
extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                                            uint8_t* out, size_t max_out_size, unsigned int seed) {
  pagerace::Rng rng(seed);
  if (LLVMFuzzerMutate != nullptr && rng.Below(100) < BytePercent()) {
    const size_t size = std::min(size1, max_out_size);
    std::memcpy(out, data1, size);
    return LLVMFuzzerMutate(out, size, max_out_size);
  }
  return CopyOut(pagerace::CrossOverInputs({data1, size1}, {data2, size2}, seed, max_out_size), out);
}
