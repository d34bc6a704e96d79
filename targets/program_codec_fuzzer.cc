// Checks the program codec and the text parser: any bytes decode to a valid
// program that round-trips through both formats; any text parses or fails
// cleanly.
#include <cstddef>
#include <cstdint>

#include "harness/program/codec_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return pagerace::FuzzCodecOne(data, size);
}
