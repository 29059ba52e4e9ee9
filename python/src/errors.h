// Turns a Status into the Python exception of its code (python/cerulean/errors.py).
#pragma once

#include <pybind11/pybind11.h>

#include "base/result.h"

namespace cerulean::python {

// Raises the exception for `status` (which is not ok): throws pybind11::error_already_set.
[[noreturn]] void Raise(const Status& status);

inline void Check(const Status& status) {
  if (!status.ok()) Raise(status);
}

template <typename T>
T Take(Result<T> result) {
  if (!result.ok()) Raise(result.status());
  return std::move(result).value();
}

}  // namespace cerulean::python
