// CHECK: invariant assertions that stay on in release builds. A failed CHECK logs where and why,
// then aborts: a broken invariant must never turn into silently wrong data.
//   CHECK(offset % kBlockBytes == 0) << "offset " << offset;
#pragma once

#include <sstream>

namespace cerulean::detail {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets `CHECK(x) << ...` parse as a void expression in both branches of the ternary.
struct CheckVoidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace cerulean::detail

#define CHECK(condition)                  \
  (__builtin_expect(!!(condition), 1))    \
      ? (void)0                           \
      : ::cerulean::detail::CheckVoidify() & \
            ::cerulean::detail::CheckFailure(__FILE__, __LINE__, #condition)

#define CHECK_EQ(a, b) CHECK((a) == (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "
#define CHECK_LE(a, b) CHECK((a) <= (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "
#define CHECK_LT(a, b) CHECK((a) < (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "
#define CHECK_GE(a, b) CHECK((a) >= (b)) << #a " = " << (a) << ", " #b " = " << (b) << " "

#ifndef NDEBUG
#define DCHECK(condition) CHECK(condition)
#else
#define DCHECK(condition) CHECK(true || (condition))
#endif
