// Findings on disk. An artifact is a text program (readable, and what replay
// loads) preceded by comment lines that say what was found and how to replay
// it. Written atomically: a temp file in the same directory, fsynced, then
// renamed, so a crash never leaves half an artifact. Safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "harness/base/status.h"
#include "harness/program/program.h"

namespace pagerace {

// Writes `program` as <dir>/<stem>.txt with `comments` (one per line, "# "
// added) above it and returns the path. Never overwrites: the file is linked
// into place, and a numbered suffix is added when the name is taken.
Result<std::string> WriteArtifact(const std::string& dir, const std::string& stem,
                                  const std::vector<std::string>& comments, const Program& program);

// Loads a program from a file: the text format if it looks like text,
// otherwise the binary fuzzer format (which accepts any bytes). Text errors
// read "FILE:LINE:COL: message".
Result<Program> LoadProgram(const std::string& path);

// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically (temp file, fsync, rename), replacing
// what was there.
Status WriteFileAtomic(const std::string& path, const std::string& data);

}  // namespace pagerace
