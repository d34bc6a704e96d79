// The text program format: readable, one op per line, strict. Used for
// artifacts, regressions and seeds. Deterministic; safe from any thread.
//
//   # a comment; '#' also starts a comment after any token
//   pagerace 1          <- required first statement (format version)
//   files 2             <- header keys, each optional and at most once,
//   file-pages 16          in any order, before the first thread:
//   ra-pages 4             files, file-pages, ra-pages, ra-fail,
//   ra-fail 1              prefill, flusher (0 or 1: a flusher thread
//   flusher 1              writes dirty pages back), backend, io, seed
//   backend blockmap       (decimal or 0x hex), pct-depth, schedule;
//   io uring               backend memory (the default), file or blockmap,
//   seed 0x2a              io pread (the default) or uring
//   schedule directed   <- controlled strategy: random (the default), pct
//   pct-depth 3            (with pct-depth 1-8) or directed, which takes
//   preempt 40 t1          preemptions: at step 40 run thread 1 if it can
//                          (with the flusher, the thread after the last is it)
//   thread 0            <- threads numbered 0, 1, 2 ... in order
//   read f0 s0+16       <- op: <kind> f<file> s<first sector>+<sector count>,
//                          the kind named as in OpTable()
//   punch f0 s4+20
//   thread 1            <- a thread may have no ops
//
// Parse errors name the line and column (1-based) of the offending token:
// "3:7: unknown op kind 'reed'". A parsed program is always Validate()d.
// A UTF-8 byte order mark at the start is skipped (columns of line 1 count
// from after it). Whole numbers are unsigned: a negative one, or one past
// 64 bits, is an error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "harness/base/status.h"
#include "harness/program/program.h"

namespace pagerace {

Result<Program> ParseText(std::string_view text);

// Prints every key and every thread, so that ParseText(PrintText(p)) == p.
std::string PrintText(const Program& program);

// A bound on the length of PrintText of any valid program: one line per
// statement, each shorter than kTextLineMax bytes (text_test checks it on the
// largest program).
inline constexpr size_t kTextLineMax = 48;
inline constexpr size_t kTextProgramMax =
    (1 + 10 + 1 + kPreemptionsMax + kThreadsMax + kOpsMax) * kTextLineMax;

// `bytes` without a UTF-8 byte order mark at its start.
std::string_view SkipByteOrderMark(std::string_view bytes);

// True if `bytes` are meant as the text format: after a byte order mark, the
// first line that is neither blank nor a comment starts with "pagerace" in
// any case ("Pagerace 1", "pagerace 2" and "pageracer" too: ParseText then
// says what is wrong with the line, at its column).
bool LooksLikeText(std::string_view bytes);

}  // namespace pagerace
