// Renders the trace of a controlled run (sched/trace.h) for a human: a plain
// ASCII swimlane with one column per logical thread, and a self-contained
// HTML page (inline CSS, no scripts, no external resources) showing the same
// timeline beside the program text. Both end with the checker's verdict.
// Folio and I/O events that carry sector headers are followed by the
// generations the page held ("[gens 5 5 5 0 0 5 5 5]").
//
// The output is a pure function of the inputs: the same program, trace and
// report give the same bytes. Pure; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/oracle/checker.h"
#include "harness/program/program.h"
#include "harness/sched/trace.h"

namespace pagerace {

// Text swimlane: a header line ("step kind | t0 | t1 ... | outside"), then one
// row per event, the event's text in its thread's lane (other lanes show a
// bare "|"), then "== violation ==" and the first violations, or
// "no violation". Lanes are kTraceLaneWidth characters wide; longer texts are
// cut with "...", a generation summary that does not fit goes on its own
// continuation rows. The "outside" lane (thread -1) appears only if used.
inline constexpr size_t kTraceLaneWidth = 38;
std::string RenderSwimlane(const Program& program, const sched::Trace& trace, const CheckReport& report);

// The same timeline as one HTML page: a table with a column per thread,
// a colour per event kind, the program (PrintText) and the violations.
std::string RenderHtml(const Program& program, const sched::Trace& trace, const CheckReport& report);

// What each sector of a page held, from its headers (words 0-2 of each
// sector, 3 words a sector): "gens 5 5 5 0 0 5 5 5". Per sector: the
// generation; "0" for an all-zero header; "f1s3g5" when the header names
// another file or sector than (`file`, `first_sector` + i); "?" when word 0
// lacks the tag magic. Empty if `headers` holds no whole sector.
std::string DescribeHeaders(const std::vector<uint64_t>& headers, uint32_t file, uint32_t first_sector);

}  // namespace pagerace
