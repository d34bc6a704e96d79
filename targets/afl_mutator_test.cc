// Tests AFL++'s custom mutator library as afl-fuzz uses it: dlopen()s the
// built libpagerace_afl_mutator.so, finds the afl_custom_* functions, and
// checks that every output, from seeds, random bytes and AFL's own probe
// input, with and without a splice partner, is the encoding of a valid
// program within max_size; that the outputs are a function of the seed
// afl_custom_init gets; and that add_buf is used (the partner's threads turn
// up in the outputs, and never without it).
#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/base/rng.h"
#include "harness/program/codec.h"
#include "harness/program/generate.h"
#include "harness/program/program.h"

namespace pagerace {
namespace {

using InitFn = void* (*)(void*, unsigned int);
using FuzzFn = size_t (*)(void*, uint8_t*, size_t, uint8_t**, uint8_t*, size_t, size_t);
using DescribeFn = const char* (*)(void*, size_t);
using DeinitFn = void (*)(void*);

// afl-fuzz's largest input (MAX_FILE, 1 MiB): what it passes as max_size.
constexpr size_t kAflMaxFile = size_t{1} << 20;

// The library, loaded once for the whole test binary.
class Library {
 public:
  static const Library& Get() {
    static const Library library;
    return library;
  }
  std::string error;
  InitFn init = nullptr;
  FuzzFn fuzz = nullptr;
  DescribeFn describe = nullptr;
  DeinitFn deinit = nullptr;

 private:
  Library() {
    void* handle = dlopen(PAGERACE_AFL_MUTATOR, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      error = dlerror();
      return;
    }
    init = reinterpret_cast<InitFn>(dlsym(handle, "afl_custom_init"));
    fuzz = reinterpret_cast<FuzzFn>(dlsym(handle, "afl_custom_fuzz"));
    describe = reinterpret_cast<DescribeFn>(dlsym(handle, "afl_custom_describe"));
    deinit = reinterpret_cast<DeinitFn>(dlsym(handle, "afl_custom_deinit"));
  }
};

// One mutator instance, as afl-fuzz holds it between afl_custom_init and
// afl_custom_deinit.
class Mutator {
 public:
  explicit Mutator(unsigned int seed) : lib_(Library::Get()), data_(lib_.init(nullptr, seed)) {}
  ~Mutator() { lib_.deinit(data_); }
  Mutator(const Mutator&) = delete;
  Mutator& operator=(const Mutator&) = delete;

  // afl_custom_fuzz on copies of the buffers (afl-fuzz's are its own).
  std::vector<uint8_t> Fuzz(std::vector<uint8_t> in, std::vector<uint8_t> add, bool with_add, size_t max_size) {
    uint8_t* out = nullptr;
    const size_t n = lib_.fuzz(data_, in.data(), in.size(), &out, with_add ? add.data() : nullptr,
                               with_add ? add.size() : 0, max_size);
    EXPECT_NE(out, nullptr);
    return out == nullptr ? std::vector<uint8_t>{} : std::vector<uint8_t>(out, out + n);
  }
  std::string Describe() { return lib_.describe(data_, 200); }

 private:
  const Library& lib_;
  void* data_;
};

std::vector<uint8_t> RandomBytes(Rng& rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (uint8_t& x : b) x = static_cast<uint8_t>(rng.Next());
  return b;
}

// What a queue entry may be: a seed (a binary program file), any bytes, the
// probe afl-fuzz runs first, or nothing.
std::vector<uint8_t> AnyInput(Rng& rng) {
  switch (rng.Below(4)) {
    case 0: return EncodeFile(Generate(rng, GenerateOptions{.threads = 3, .ops_per_thread = 6, .draw_shape = true}));
    case 1: return RandomBytes(rng, rng.Below(kBinaryFileMax + 64));
    case 2: return {'#', '#', 'S', 'I'};
    default: return {};
  }
}

class AflMutatorTest : public testing::Test {
 protected:
  void SetUp() override {
    const Library& lib = Library::Get();
    ASSERT_EQ(lib.error, "");
    ASSERT_NE(lib.init, nullptr);
    ASSERT_NE(lib.fuzz, nullptr);
    ASSERT_NE(lib.describe, nullptr);
    ASSERT_NE(lib.deinit, nullptr);
  }
};

TEST_F(AflMutatorTest, EveryOutputIsAValidProgramWithinMaxSize) {
  Mutator m(7);
  Rng rng(1);
  for (int i = 0; i < 3000; ++i) {
    const std::vector<uint8_t> in = AnyInput(rng), add = AnyInput(rng);
    const size_t max = rng.Chance(1, 4) ? rng.Below(64) : kAflMaxFile;
    const std::vector<uint8_t> out = m.Fuzz(in, add, rng.Chance(1, 2), max);
    ASSERT_LE(out.size(), max);
    const Program p = DecodeFuzzInput(out);  // what the fuzz target runs
    ASSERT_TRUE(Validate(p).ok()) << Validate(p).message() << " (input " << i << ")";
    if (max > kHeaderBytes) {  // room for the header: the encoding itself, nothing cut
      ASSERT_EQ(Encode(p), out) << "input " << i;
    }
    const std::string name = m.Describe();
    ASSERT_TRUE(name == "pagerace-mutate" || name == "pagerace-crossover") << name;
  }
}

TEST_F(AflMutatorTest, IsAFunctionOfTheSeed) {
  Mutator a(42), b(42), c(43);
  Rng rng(2);
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    const std::vector<uint8_t> in = AnyInput(rng), add = AnyInput(rng);
    const std::vector<uint8_t> out = a.Fuzz(in, add, true, kAflMaxFile);
    ASSERT_EQ(out, b.Fuzz(in, add, true, kAflMaxFile)) << "input " << i;
    differ += out != c.Fuzz(in, add, true, kAflMaxFile);
  }
  EXPECT_GT(differ, 150);
}

// The partner's threads (ops on a file and range the input never uses)
// appear verbatim in a good share of the outputs with add_buf, in none
// without it.
TEST_F(AflMutatorTest, SplicesWithAddBuf) {
  Program in, partner;
  in.files = partner.files = 4;
  in.threads = {{Op{.kind = OpKind::kRead, .file = 0, .sector = 0, .count = 8}},
                {Op{.kind = OpKind::kWrite, .file = 1, .sector = 8, .count = 8}}};
  partner.threads = {{Op{.kind = OpKind::kWrite, .file = 3, .sector = 40, .count = 3},
                      Op{.kind = OpKind::kRead, .file = 3, .sector = 41, .count = 5}},
                     {Op{.kind = OpKind::kWrite, .file = 2, .sector = 57, .count = 7},
                      Op{.kind = OpKind::kRead, .file = 2, .sector = 59, .count = 2}}};
  ASSERT_TRUE(Validate(in).ok());
  ASSERT_TRUE(Validate(partner).ok());
  auto spliced = [&](const std::vector<uint8_t>& out) {
    const auto& threads = DecodeFuzzInput(out).threads;
    return std::any_of(threads.begin(), threads.end(), [&](const std::vector<Op>& ops) {
      return std::find(partner.threads.begin(), partner.threads.end(), ops) != partner.threads.end();
    });
  };
  Mutator m(3);
  int with = 0, without = 0;
  for (int i = 0; i < 400; ++i) {
    with += spliced(m.Fuzz(EncodeFile(in), EncodeFile(partner), true, kAflMaxFile));
    without += spliced(m.Fuzz(EncodeFile(in), EncodeFile(partner), false, kAflMaxFile));
  }
  EXPECT_GT(with, 400 / 8);
  EXPECT_EQ(without, 0);
}

}  // namespace
}  // namespace pagerace
