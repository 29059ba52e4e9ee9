#include "buffers.h"

#include <cstdint>
#include <utility>

namespace cerulean::python {

namespace py = pybind11;

BufferView::BufferView(py::handle object, bool writable) {
  if (py::isinstance<py::tuple>(object)) {
    auto pair = py::reinterpret_borrow<py::tuple>(object);
    if (pair.size() != 2) throw py::value_error("raw memory is a tuple (address, length)");
    auto address = pair[0].cast<uintptr_t>();
    auto length = pair[1].cast<size_t>();
    if (address == 0 && length > 0) throw py::value_error("raw memory at address 0");
    bytes_ = {reinterpret_cast<std::byte*>(address), length};
    return;
  }
  int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
  if (PyObject_GetBuffer(object.ptr(), &view_, flags) != 0) {
    PyErr_Clear();
    throw py::type_error(writable ? "expected a writable, C-contiguous buffer (bytearray, numpy array, "
                                    "memoryview) or an (address, length) tuple"
                                  : "expected a C-contiguous buffer (bytes, bytearray, numpy array, "
                                    "memoryview) or an (address, length) tuple");
  }
  held_ = true;
  bytes_ = {static_cast<std::byte*>(view_.buf), static_cast<size_t>(view_.len)};
}

BufferView::BufferView(BufferView&& other) noexcept
    : view_(other.view_), held_(std::exchange(other.held_, false)), bytes_(other.bytes_) {}

BufferView::~BufferView() {
  if (!held_) return;
  // Views are released with the GIL held; the destructor may run after a call that dropped it.
  py::gil_scoped_acquire gil;
  PyBuffer_Release(&view_);
}

BufferView ViewOf(py::handle object, bool writable) { return BufferView(object, writable); }

}  // namespace cerulean::python
