// cerulean._native: the C++ core of the Python package (docs/PYTHON.md).
#include <pybind11/pybind11.h>

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
}
