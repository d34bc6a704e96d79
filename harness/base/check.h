// Checks that stay on in every build (never a bare assert). A failed check is
// a bug or a finding: it prints the message, the registered crash context
// (seed and replay line) and aborts, which is what libFuzzer, AFL++ and the
// sanitizers record. Safe from any thread.
#pragma once

#include <functional>
#include <string>

namespace pagerace {

// Prints "pagerace: CHECK failed: ..." plus the crash context and aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const std::string& msg);
// The same without a message. PR_CHECK calls this one, so that a function
// with a check holds no std::string temporary: one would put its frame on
// ASan's fake stack at every call.
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr);

// Called after any failed check for text to print, e.g. the seed and the
// program that was running (made only then, so setting it is cheap). Not
// synchronized with failing checks: set it while no worker thread runs.
// An empty function clears it.
void SetCrashContext(std::function<std::string()> context);

}  // namespace pagerace

#define PR_CHECK(cond)                                     \
  do {                                                     \
    if (__builtin_expect(!(cond), 0))                      \
      ::pagerace::CheckFailed(__FILE__, __LINE__, #cond);  \
  } while (0)

#define PR_CHECK_MSG(cond, msg)                                         \
  do {                                                                  \
    if (__builtin_expect(!(cond), 0))                                   \
      ::pagerace::CheckFailed(__FILE__, __LINE__, #cond, (msg));        \
  } while (0)
