// The trace of a controlled run: what each logical thread did, step by step
// (ops, scheduling points, lock waits and hand-offs, folio state changes,
// backend I/O). Recorded only while a Controller with a Trace runs, so a run
// without one pays one branch per event site. The same input gives the same
// events, byte for byte: nothing here depends on addresses or time.
// Thread-safety: filled from the controller's OS thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pagerace::sched {

enum class EventKind : uint8_t {
  kOp,      // an operation begins or ends
  kPoint,   // a named scheduling point
  kWait,    // a thread blocks on a lock or bit
  kLock,    // a lock taken or released
  kFolio,   // a folio inserted, removed, made uptodate or dirty
  kIo,      // backend I/O
  kNote,    // anything else worth a line
};
const char* EventKindName(EventKind kind);

struct Event {
  uint64_t step = 0;    // the controller's step when it happened, from 0 (as `preempt` counts)
  int thread = -1;      // logical thread; -1: outside the threads (setup, end of run)
  EventKind kind = EventKind::kNote;
  std::string text;
  // kFolio: the page's contents in sector headers (words 0-2 of each
  // sector), for the renderer to name the generations it held.
  std::vector<uint64_t> headers;
};

struct Trace {
  std::vector<Event> events;
};

// True while a trace is being recorded on this OS thread.
bool Tracing();
// Appends an event for the running logical thread. REQUIRES: Tracing().
// Callers test Tracing() first, so that the text is only formatted for a
// trace (and, in the sanitizer builds, no closure over the caller's locals
// puts them on ASan's fake stack at every scheduling point).
Event& Record(EventKind kind, std::string text);

}  // namespace pagerace::sched
