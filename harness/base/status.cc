#include "harness/base/status.h"

#include <cstring>

namespace pagerace {

Status Status::FromErrno(const std::string& what, int errno_value) {
  return IoError(what + ": " + std::strerror(errno_value));
}

std::string Status::ToString() const {
  static const char* const kNames[] = {"OK", "invalid argument", "not found", "I/O error",
                                       "not supported"};
  if (ok()) return "OK";
  return std::string(kNames[static_cast<int>(code_)]) + ": " + message_;
}

}  // namespace pagerace
