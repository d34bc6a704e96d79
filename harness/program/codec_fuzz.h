// The property check behind the program codec fuzz target: any byte string
// must decode to a valid program that survives Encode/Decode, EncodeFile/
// DecodeFuzzInput and PrintText/ParseText unchanged, and the same bytes read as text must parse
// cleanly or fail with an error, never crash. Engine independent: the
// libFuzzer entry point and the replay driver both call FuzzCodecOne().
#pragma once

#include <cstddef>
#include <cstdint>

namespace pagerace {

// Checks the properties on one input; a violation aborts via PR_CHECK_MSG.
// Returns 0 (the libFuzzer convention).
int FuzzCodecOne(const uint8_t* data, size_t size);

}  // namespace pagerace
