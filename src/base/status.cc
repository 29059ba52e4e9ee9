#include "base/status.h"

#include <cerrno>
#include <cstring>
#include <ostream>

namespace cerulean {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "Ok";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kUnknown: return "Unknown";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kDeadlineExceeded: return "DeadlineExceeded";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kPermissionDenied: return "PermissionDenied";
    case StatusCode::kResourceExhausted: return "ResourceExhausted";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kAborted: return "Aborted";
    case StatusCode::kOutOfRange: return "OutOfRange";
    case StatusCode::kUnimplemented: return "Unimplemented";
    case StatusCode::kInternal: return "Internal";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kDataLoss: return "DataLoss";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
  }
  return "InvalidCode";
}

RetryAdvice AdviceFor(StatusCode code) {
  switch (code) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
      return RetryAdvice::kRetry;
    case StatusCode::kAborted:
      return RetryAdvice::kRetryHigherLevel;
    default:
      return RetryAdvice::kDoNotRetry;
  }
}

Status Status::FromErrno(int error_number, std::string_view context) {
  std::string message = fmt::format("{}: {}", context, std::strerror(error_number));
  switch (error_number) {
    case ENOENT: return NotFound(std::move(message));
    case EEXIST: return AlreadyExists(std::move(message));
    case EACCES:
    case EPERM: return PermissionDenied(std::move(message));
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EMFILE:
    case ENFILE: return ResourceExhausted(std::move(message));
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
    case ENOTDIR: return InvalidArgument(std::move(message));
    case ECANCELED: return Cancelled(std::move(message));
    case ETIMEDOUT:
    case ETIME: return DeadlineExceeded(std::move(message));
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENOTCONN:
    case EAGAIN:
    case EINTR: return Unavailable(std::move(message));
    case EIO: return DataLoss(std::move(message));
    default: return Unknown(std::move(message));
  }
}

std::string Status::ToString() const {
  if (ok()) return "Ok";
  if (message_.empty()) return std::string(StatusCodeName(code_));
  return fmt::format("{}: {}", StatusCodeName(code_), message_);
}

std::ostream& operator<<(std::ostream& out, const Status& status) { return out << status.ToString(); }

}  // namespace cerulean
