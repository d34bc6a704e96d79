#include "harness/base/interrupt.h"

#include <signal.h>

#include <atomic>
#include <cerrno>

#include "harness/base/check.h"

namespace pagerace {
namespace {

// The signal that asked for a stop, 0 for none. Lock-free, so that the
// handler may store to it.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

constexpr int kStopSignals[] = {SIGINT, SIGTERM};
// Which of them have our handler (set before it is installed).
std::atomic<bool> g_handled[2];
static_assert(std::atomic<bool>::is_always_lock_free);

void OnStopSignal(int signal) {
  int none = 0;  // the first signal is the one that asked (threads may take two at once)
  g_stop_signal.compare_exchange_strong(none, signal, std::memory_order_relaxed);
  // The next one ends the process at once (sigaction is async-signal-safe;
  // errno is kept for the code the signal interrupted).
  const int saved_errno = errno;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int i = 0; i < 2; ++i)
    if (g_handled[i].load(std::memory_order_relaxed)) sigaction(kStopSignals[i], &dfl, nullptr);
  errno = saved_errno;
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  // Blocking the other signal while the handler runs keeps a second signal
  // from slipping in between the store and the re-arm.
  sigemptyset(&sa.sa_mask);
  for (int s : kStopSignals) sigaddset(&sa.sa_mask, s);
  // SA_RESTART: a read or wait that the signal interrupted goes on; the
  // loops see the request at their next check.
  sa.sa_flags = SA_RESTART;
  for (int i = 0; i < 2; ++i) {
    // A signal ignored when the process started stays ignored (as a
    // non-interactive shell starts a background job with SIGINT).
    struct sigaction now {};
    PR_CHECK(sigaction(kStopSignals[i], nullptr, &now) == 0);
    if (now.sa_handler == SIG_IGN) continue;
    g_handled[i].store(true, std::memory_order_relaxed);
    PR_CHECK(sigaction(kStopSignals[i], &sa, nullptr) == 0);
  }
}

bool StopRequested() { return g_stop_signal.load(std::memory_order_relaxed) != 0; }

int StopSignal() { return g_stop_signal.load(std::memory_order_relaxed); }

const char* StopSignalName(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal";
}

void RequestStopForTesting(int signal) { g_stop_signal.store(signal, std::memory_order_relaxed); }

void ClearStopForTesting() { g_stop_signal.store(0, std::memory_order_relaxed); }

}  // namespace pagerace
