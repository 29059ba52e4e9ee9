// What the native clients need around them in Python: calls made without the GIL, and an owner
// that survives fork().
#pragma once

#include <pybind11/pybind11.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "errors.h"

namespace cerulean::python {

// Runs `call` with the GIL released, so that other Python threads run while it waits.
template <typename F>
auto WithoutGil(F&& call) {
  pybind11::gil_scoped_release release;
  return call();
}

// A native client (Client, KvClient) and the process that opened it. A forked child inherits
// the object but not the client's event-loop thread: there the client is left alone (never
// destroyed, never used); the Python wrapper opens a fresh one.
template <typename T>
class ProcessOwned {
 public:
  template <typename Options>
  explicit ProcessOwned(Options options) {
    auto opened = WithoutGil([&] { return T::Open(std::move(options)); });
    client_ = Take(std::move(opened));
  }
  ~ProcessOwned() {
    if (getpid() != owner_) {
      (void)client_.release();  // its thread lives in the parent only
      return;
    }
    pybind11::gil_scoped_release release;  // closing waits for the client's thread
    client_.reset();
  }
  ProcessOwned(const ProcessOwned&) = delete;
  ProcessOwned& operator=(const ProcessOwned&) = delete;

  T& get() {
    if (getpid() != owner_) {
      throw pybind11::value_error("this client was opened in another process; open a new one");
    }
    return *client_;
  }

 private:
  std::unique_ptr<T> client_;
  pid_t owner_ = getpid();
};

}  // namespace cerulean::python
