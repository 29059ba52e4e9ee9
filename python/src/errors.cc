#include "errors.h"

#include <string>

namespace cerulean::python {

namespace py = pybind11;

namespace {

// The class in cerulean.errors named after the code; CeruleanError for codes without one.
py::object ExceptionClass(StatusCode code) {
  py::module_ errors = py::module_::import("cerulean.errors");
  const char* name = "CeruleanError";
  switch (code) {
    case StatusCode::kNotFound: name = "NotFound"; break;
    case StatusCode::kAlreadyExists: name = "AlreadyExists"; break;
    case StatusCode::kFailedPrecondition: name = "PreconditionFailed"; break;
    case StatusCode::kInvalidArgument: name = "InvalidArgument"; break;
    case StatusCode::kOutOfRange: name = "OutOfRange"; break;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded: name = "Unavailable"; break;
    case StatusCode::kDataLoss: name = "DataLoss"; break;
    case StatusCode::kResourceExhausted: name = "ResourceExhausted"; break;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated: name = "PermissionDenied"; break;
    default: break;
  }
  return errors.attr(name);
}

}  // namespace

void Raise(const Status& status) {
  py::gil_scoped_acquire gil;
  py::object type = ExceptionClass(status.code());
  // Messages quote names and peers' text: decoded leniently, so that a stray byte cannot turn
  // the error into a UnicodeDecodeError.
  py::str message = py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(
      status.message().data(), static_cast<Py_ssize_t>(status.message().size()), "replace"));
  py::object error = type(message, std::string(StatusCodeName(status.code())));
  PyErr_SetObject(type.ptr(), error.ptr());
  throw py::error_already_set();
}

}  // namespace cerulean::python
