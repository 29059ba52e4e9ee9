#include "base/status.h"

#include <cerrno>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/check.h"
#include "base/result.h"

namespace cerulean {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status, Status::Ok());
  EXPECT_EQ(status.ToString(), "Ok");
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  const Status status = Status::NotFound("extent 7");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "extent 7");
  EXPECT_EQ(Status::DataLoss("").code(), StatusCode::kDataLoss);
  EXPECT_EQ(Status::Unauthenticated("").code(), StatusCode::kUnauthenticated);
  // Equality compares codes only: messages carry context, not identity.
  EXPECT_EQ(Status::Aborted("a"), Status::Aborted("b"));
  EXPECT_FALSE(Status::Aborted("a") == Status::Internal("a"));
}

TEST(StatusTest, ToString) {
  EXPECT_EQ(Status::Unavailable("connection reset by 127.0.0.1:9000").ToString(),
            "Unavailable: connection reset by 127.0.0.1:9000");
  EXPECT_EQ(Status(StatusCode::kInvalidArgument, "").ToString(), "InvalidArgument");
  EXPECT_EQ(fmt::format("{}", Status::Internal("bad")), "Internal: bad");
}

TEST(StatusTest, EveryCodeHasAName) {
  for (uint16_t code = 0; code <= kStatusCodeMax; ++code) {
    EXPECT_NE(StatusCodeName(static_cast<StatusCode>(code)), "InvalidCode") << code;
  }
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(kStatusCodeMax + 1)), "InvalidCode");
}

TEST(StatusTest, RetryAdvice) {
  EXPECT_EQ(Status::Unavailable("").advice(), RetryAdvice::kRetry);
  EXPECT_EQ(Status::DeadlineExceeded("").advice(), RetryAdvice::kRetry);
  EXPECT_EQ(Status::ResourceExhausted("").advice(), RetryAdvice::kRetry);
  EXPECT_EQ(Status::Aborted("").advice(), RetryAdvice::kRetryHigherLevel);
  EXPECT_EQ(Status::InvalidArgument("").advice(), RetryAdvice::kDoNotRetry);
  EXPECT_EQ(Status::Internal("").advice(), RetryAdvice::kDoNotRetry);
  EXPECT_EQ(Status::FailedPrecondition("").advice(), RetryAdvice::kDoNotRetry);
  EXPECT_TRUE(Status::Unavailable("").retryable());
  EXPECT_FALSE(Status::Aborted("").retryable());
  EXPECT_FALSE(Status::InvalidArgument("").retryable());
}

TEST(StatusTest, FromErrno) {
  EXPECT_EQ(Status::FromErrno(ENOSPC, "append").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Status::FromErrno(ECONNRESET, "recv").code(), StatusCode::kUnavailable);
  EXPECT_EQ(Status::FromErrno(ENOENT, "open").code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::FromErrno(ETIMEDOUT, "connect").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Status::FromErrno(EIO, "read").code(), StatusCode::kDataLoss);
  // The message keeps the context and the system's description of the error.
  const Status status = Status::FromErrno(ENOENT, "open /data/extent.7");
  EXPECT_EQ(status.message().rfind("open /data/extent.7: ", 0), 0u) << status.message();
  EXPECT_GT(status.message().size(), std::string("open /data/extent.7: ").size());
}

TEST(ResultTest, HoldsAValue) {
  Result<std::string> result = std::string("payload");
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.status().ok());
  EXPECT_EQ(result.value(), "payload");
  EXPECT_EQ(*result, "payload");
  EXPECT_EQ(result->size(), 7u);
  const std::string moved = std::move(result).value();
  EXPECT_EQ(moved, "payload");
}

TEST(ResultTest, HoldsAnError) {
  const Result<int> result = Status::NotFound("no such extent");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(result.status().message(), "no such extent");
}

Status FailIf(bool fail) { return fail ? Status::Aborted("conflict") : Status::Ok(); }

Status TwoSteps(bool fail_first, bool fail_second, int& steps_done) {
  RETURN_IF_ERROR(FailIf(fail_first));
  ++steps_done;
  RETURN_IF_ERROR(FailIf(fail_second));
  ++steps_done;
  return Status::Ok();
}

TEST(StatusMacroTest, ReturnIfError) {
  int steps_done = 0;
  EXPECT_TRUE(TwoSteps(false, false, steps_done).ok());
  EXPECT_EQ(steps_done, 2);
  steps_done = 0;
  EXPECT_EQ(TwoSteps(false, true, steps_done).code(), StatusCode::kAborted);
  EXPECT_EQ(steps_done, 1);
  steps_done = 0;
  EXPECT_EQ(TwoSteps(true, false, steps_done).code(), StatusCode::kAborted);
  EXPECT_EQ(steps_done, 0);
}

Result<int> ParseDigit(char c) {
  if (c < '0' || c > '9') return Status::InvalidArgument(std::string("not a digit: ") + c);
  return c - '0';
}

// Two ASSIGN_OR_RETURN on separate lines must not collide on their hidden names.
Result<int> SumOfDigits(char a, char b) {
  ASSIGN_OR_RETURN(const int first, ParseDigit(a));
  ASSIGN_OR_RETURN(const int second, ParseDigit(b));
  return first + second;
}

Status AssignIntoExisting(char c, int& out) {
  ASSIGN_OR_RETURN(out, ParseDigit(c));
  return Status::Ok();
}

TEST(StatusMacroTest, AssignOrReturn) {
  const Result<int> sum = SumOfDigits('3', '4');
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(*sum, 7);
  const Result<int> bad = SumOfDigits('3', 'x');
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "not a digit: x");

  int out = -1;
  EXPECT_TRUE(AssignIntoExisting('9', out).ok());
  EXPECT_EQ(out, 9);
  EXPECT_FALSE(AssignIntoExisting('?', out).ok());
  EXPECT_EQ(out, 9);
}

TEST(CheckDeathTest, FailedCheckAbortsWithTheMessage) {
  EXPECT_DEATH(CHECK(false) << "boom " << 42, "CHECK\\(false\\) failed: boom 42");
  const int offset = 4097;
  EXPECT_DEATH(CHECK_EQ(offset % 4096, 0), "offset % 4096 = 1");
}

TEST(CheckDeathTest, PassingCheckDoesNothing) {
  CHECK(true) << "never evaluated";
  CHECK_LE(1, 2);
}

TEST(ResultDeathTest, MisuseIsAnInvariantFailure) {
  EXPECT_DEATH(Result<int>(Status::Ok()), "needs an error status");
  const Result<int> error = Status::NotFound("gone");
  EXPECT_DEATH((void)error.value(), "NotFound: gone");
}

}  // namespace
}  // namespace cerulean
