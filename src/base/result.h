// Result<T>: either a value or a non-ok Status. Value type; thread-compatible.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "base/check.h"
#include "base/status.h"

namespace cerulean {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    CHECK(!status_.ok()) << "a Result holding no value needs an error status";
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { CHECK(ok()) << status_.ToString(); return *value_; }
  const T& value() const& { CHECK(ok()) << status_.ToString(); return *value_; }
  T&& value() && { CHECK(ok()) << status_.ToString(); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cerulean

// Evaluates `expr` (a Result); on error returns its status, otherwise moves the value into `lhs`.
#define ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto CERULEAN_CONCAT(_result_, __LINE__) = (expr);                  \
  if (!CERULEAN_CONCAT(_result_, __LINE__).ok())                      \
    return CERULEAN_CONCAT(_result_, __LINE__).status();              \
  lhs = std::move(CERULEAN_CONCAT(_result_, __LINE__)).value()

#define CO_ASSIGN_OR_RETURN(lhs, expr)                                \
  auto CERULEAN_CONCAT(_result_, __LINE__) = (expr);                  \
  if (!CERULEAN_CONCAT(_result_, __LINE__).ok())                      \
    co_return CERULEAN_CONCAT(_result_, __LINE__).status();           \
  lhs = std::move(CERULEAN_CONCAT(_result_, __LINE__)).value()
