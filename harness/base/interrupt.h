// A stop request from SIGINT or SIGTERM: the command installs the handlers,
// the run loops ask between runs (and the controlled scheduler at each
// decision) and wind down as if their budget were spent, so that what was
// done is still reported. The first signal only records itself (and puts
// the handled ones back to their default action); a second one ends the
// process at once. A signal ignored when the process started (a background job of a
// non-interactive shell ignores SIGINT) stays ignored, as the convention
// goes. The fuzz targets install nothing: their engines handle signals.
// Thread-safety: any function from any thread; the handler is
// async-signal-safe.
#pragma once

namespace pagerace {

// Handles SIGINT and SIGTERM as above, unless ignored. Call once, from the
// command.
void InstallStopHandlers();

// A stop was requested: one relaxed atomic load, cheap enough per decision.
bool StopRequested();

// The signal that requested it (SIGINT or SIGTERM), or 0.
int StopSignal();

// "SIGINT" or "SIGTERM" (another signal: "signal").
const char* StopSignalName(int signal);

// Tests: request a stop as the handler does (without touching signal
// dispositions), and withdraw it.
void RequestStopForTesting(int signal);
void ClearStopForTesting();

// Tests: a stop requested while it lives.
class ScopedStopForTesting {
 public:
  explicit ScopedStopForTesting(int signal) { RequestStopForTesting(signal); }
  ~ScopedStopForTesting() { ClearStopForTesting(); }
  ScopedStopForTesting(const ScopedStopForTesting&) = delete;
  ScopedStopForTesting& operator=(const ScopedStopForTesting&) = delete;
};

}  // namespace pagerace
