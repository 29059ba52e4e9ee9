// Status: the outcome of an operation, as a code plus a message. Errors are values in Cerulean;
// no exception crosses a module boundary. The code tells the caller whether retrying can help.
// Value type; thread-compatible.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace cerulean {

// Numbering is part of the wire protocol (rpc frames carry it): never renumber.
enum class StatusCode : uint16_t {
  kOk = 0,
  kCancelled = 1,           // the caller gave up; retrying is the caller's choice
  kUnknown = 2,
  kInvalidArgument = 3,     // the request is wrong; do not retry
  kDeadlineExceeded = 4,    // took too long; may be retried if idempotent
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,   // out of space, quota or queue slots; retry later with backoff
  kFailedPrecondition = 9,  // the system is not in a state for this; fix the state first
  kAborted = 10,            // a conflict; retry at a higher level (e.g. on a new extent)
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,           // a broken invariant on the other side; do not retry
  kUnavailable = 14,        // transient: peer down, connection reset; retry the same call
  kDataLoss = 15,           // stored or transmitted bytes failed their checksum
  kUnauthenticated = 16,
};
inline constexpr uint16_t kStatusCodeMax = 16;

// What the caller should do about a failed call (after Abseil's guidance on status codes).
enum class RetryAdvice {
  kDoNotRetry,         // retrying the same request gives the same answer
  kRetry,              // retry the same call, with backoff
  kRetryHigherLevel,   // redo the enclosing operation (read-modify-write, new extent, ...)
};

std::string_view StatusCodeName(StatusCode code);
RetryAdvice AdviceFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Unknown(std::string m) { return {StatusCode::kUnknown, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  // An errno from a system call, mapped to the closest code.
  static Status FromErrno(int error_number, std::string_view context);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  RetryAdvice advice() const { return AdviceFor(code_); }
  bool retryable() const { return advice() == RetryAdvice::kRetry; }

  // "Unavailable: connection reset by 127.0.0.1:9000"
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) { return a.code_ == b.code_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& out, const Status& status);

}  // namespace cerulean

template <>
struct fmt::formatter<cerulean::Status> : fmt::formatter<std::string> {
  auto format(const cerulean::Status& s, format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.ToString(), ctx);
  }
};

#define CERULEAN_CONCAT_INNER(a, b) a##b
#define CERULEAN_CONCAT(a, b) CERULEAN_CONCAT_INNER(a, b)

// Returns the status of `expr` from the enclosing function if it is not ok.
#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    ::cerulean::Status _status = (expr);                   \
    if (!_status.ok()) return _status;                     \
  } while (0)

// The same inside a coroutine.
#define CO_RETURN_IF_ERROR(expr)                           \
  do {                                                     \
    ::cerulean::Status _status = (expr);                   \
    if (!_status.ok()) co_return _status;                  \
  } while (0)
