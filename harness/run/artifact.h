// Findings on disk. An artifact is a text program (readable, and what replay
// loads) preceded by comment lines that say what was found and how to replay
// it. Written atomically: a temp file in the same directory, fsynced, then
// renamed, so a crash never leaves half an artifact. Safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/base/status.h"
#include "harness/program/codec.h"
#include "harness/program/program.h"
#include "harness/program/text.h"

namespace pagerace {

// Writes `program` as <dir>/<stem>.txt with `comments` (one per line, "# "
// added) above it and returns the path. Never overwrites: the file is linked
// into place, and a numbered suffix is added when the name is taken. An
// error reads "the artifact could not be written to DIR: REASON".
Result<std::string> WriteArtifact(const std::string& dir, const std::string& stem,
                                  const std::vector<std::string>& comments, const Program& program);

// The most bytes a program file may have: 1 MiB. A valid program is at most
// kTextProgramMax bytes (about 15 KB) as text and kBinaryFileMax bytes
// (1137) as a binary file; the rest is room for comments, and for fuzzer
// inputs longer than the program they decode to (AFL++ writes up to 1 MiB,
// libFuzzer up to its -max_len).
inline constexpr size_t kProgramFileMax = size_t{1} << 20;
static_assert(kProgramFileMax >= 64 * kTextProgramMax && kProgramFileMax >= 64 * kBinaryFileMax);

// How LoadProgram reads a file.
enum class FileKind : uint8_t {
  // A program file, which means one thing or is refused: a binary program if
  // it starts with kFileMagic; text if, after a UTF-8 byte order mark, its
  // first line that is neither blank nor a comment starts with "pagerace" in
  // any case (then any mistake in it is a text error); anything else, and an
  // empty file, is an error that says what was expected.
  kProgram,
  // A raw fuzzer input (a libFuzzer crash-* or AFL++ id:* file), decoded as
  // the fuzz targets decode it (DecodeFuzzInput): any bytes but none.
  kFuzzerInput,
};

// Loads a program from a file of at most kProgramFileMax bytes. Errors begin
// with the path; text errors read "FILE:LINE:COL: message".
Result<Program> LoadProgram(const std::string& path, FileKind kind = FileKind::kProgram);

// Reads a whole file; one of more than `max_bytes` is an error naming its
// size and the limit, and at most max_bytes + 1 bytes are read (so a device
// such as /dev/zero ends there).
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = SIZE_MAX);

// Writes `data` to `path` atomically (temp file, fsync, rename), replacing
// what was there.
Status WriteFileAtomic(const std::string& path, const std::string& data);

}  // namespace pagerace
