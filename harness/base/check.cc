#include "harness/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace pagerace {
namespace {
std::function<std::string()>& Context() {
  static std::function<std::string()> context;
  return context;
}
}  // namespace

void SetCrashContext(std::function<std::string()> context) { Context() = std::move(context); }

void CheckFailed(const char* file, int line, const char* expr, const std::string& msg) {
  std::fprintf(stderr, "pagerace: CHECK failed at %s:%d: %s%s%s\n", file, line, expr,
               msg.empty() ? "" : ": ", msg.c_str());
  if (Context()) std::fprintf(stderr, "%s\n", Context()().c_str());
  std::fflush(stderr);
  std::abort();
}

void CheckFailed(const char* file, int line, const char* expr) { CheckFailed(file, line, expr, std::string()); }

}  // namespace pagerace

#ifdef PAGERACE_TSAN_DEFAULTS
// ThreadSanitizer builds: sanitizers/tsan.options and tsan.supp as defaults.
#include "tsan_defaults.inc"
#endif
