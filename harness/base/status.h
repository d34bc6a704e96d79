// Status and Result<T>: operating errors as values. Cheap on the OK path.
// Thread-safe as values (no shared state). Nothing under harness/ throws.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace pagerace {

enum class StatusCode : uint8_t {
  kOk,
  kInvalidArgument,  // bad input: a flag, a text program, a file
  kNotFound,
  kIoError,          // the environment failed us (open, pread, mkdtemp...)
  kNotSupported,     // a feature the host refused (io_uring, punch hole)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  // `what` names the call, errno_value is turned into its text.
  static Status FromErrno(const std::string& what, int errno_value);
  static Status NotSupported(std::string msg) { return {StatusCode::kNotSupported, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}   // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pagerace

#define PR_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::pagerace::Status _st = (expr);      \
    if (!_st.ok()) return _st;            \
  } while (0)
