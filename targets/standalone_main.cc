// An engine-less driver for the fuzz targets: runs each file named on the
// command line through LLVMFuzzerTestOneInput once (or -runs=N times), as
// libFuzzer does when given files. Lets every build replay crash files and
// corpora without a fuzzing engine.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long runs = 1;
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0) {
      runs = std::strtol(argv[i] + 6, nullptr, 10);
      continue;
    }
    if (argv[i][0] == '-') continue;  // other libFuzzer flags are accepted and ignored
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot open %s\n", argv[i]);
      return 2;
    }
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (long r = 0; r < runs; ++r) LLVMFuzzerTestOneInput(data.data(), data.size());
    std::fprintf(stderr, "Executed %s in %ld runs\n", argv[i], runs);
    ++files;
  }
  if (files == 0) {
    std::fprintf(stderr, "usage: %s [-runs=N] FILE...\n", argv[0]);
    return 2;
  }
  return 0;
}
