// Caller memory for the native calls: any object with the buffer protocol (bytes, bytearray,
// memoryview, numpy arrays, mmap), or a raw (address, length) pair such as a torch tensor's
// (data_ptr(), nbytes). The view pins the memory while the call runs without the GIL.
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <span>

namespace cerulean::python {

class BufferView {
 public:
  // A C-contiguous buffer of `object`; writable asks for memory the call may fill.
  BufferView(pybind11::handle object, bool writable);
  ~BufferView();
  BufferView(BufferView&& other) noexcept;
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  BufferView& operator=(BufferView&&) = delete;

  std::span<std::byte> bytes() const { return bytes_; }

 private:
  Py_buffer view_{};
  bool held_ = false;
  std::span<std::byte> bytes_;
};

// Memory given as an object with the buffer protocol, or as a tuple (address, length) whose
// owner the caller keeps alive for the call.
BufferView ViewOf(pybind11::handle object, bool writable);

}  // namespace cerulean::python
