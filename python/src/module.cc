// cerulean._native: the C++ core of the Python package (docs/PYTHON.md).
#include <pybind11/pybind11.h>

#include <sys/mman.h>

#include <cstdint>

#include "buffers.h"

namespace cerulean::python {
void BindClient(pybind11::module_& m);
void BindKv(pybind11::module_& m);
}  // namespace cerulean::python

PYBIND11_MODULE(_native, m) {
  m.doc() = "Cerulean's native client core; use the cerulean package rather than this module.";
  cerulean::python::BindClient(m);
  cerulean::python::BindKv(m);
  m.def("address_of", [](pybind11::handle buffer) {
        cerulean::python::BufferView view = cerulean::python::ViewOf(buffer, false);
        return pybind11::make_tuple(reinterpret_cast<uintptr_t>(view.bytes().data()), view.bytes().size());
      },
      pybind11::arg("buffer"), "(address, length) of a C-contiguous buffer, for registering memory.");
  // Fresh memory that reads are about to fill (a loading checkpoint's tensors): faulting its
  // pages in on another thread, ahead of the reads, takes the first-touch cost (zeroing, memory
  // accounting) off the client's event-loop thread. Contents are not changed; advice only.
  m.def("populate_pages", [](pybind11::handle buffer) {
        cerulean::python::BufferView view = cerulean::python::ViewOf(buffer, true);
        const auto start = reinterpret_cast<uintptr_t>(view.bytes().data()) & ~uintptr_t{4095};
        const uintptr_t end = reinterpret_cast<uintptr_t>(view.bytes().data()) + view.bytes().size();
#ifdef MADV_POPULATE_WRITE
        pybind11::gil_scoped_release release;
        return end <= start || madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE) == 0;
#else
        return false;
#endif
      },
      pybind11::arg("buffer"));
}
