#include "harness/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace pagerace {
namespace {
std::string& Context() {
  static std::string context;
  return context;
}
}  // namespace

void SetCrashContext(std::string context) { Context() = std::move(context); }

void CheckFailed(const char* file, int line, const char* expr, const std::string& msg) {
  std::fprintf(stderr, "pagerace: CHECK failed at %s:%d: %s%s%s\n", file, line, expr,
               msg.empty() ? "" : ": ", msg.c_str());
  if (!Context().empty()) std::fprintf(stderr, "%s\n", Context().c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace pagerace
