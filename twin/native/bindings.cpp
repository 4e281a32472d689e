// The only file that knows about Python: converts numpy arrays to the core's types and back.
#include <pybind11/pybind11.h>

#include "parallel.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_native, m) {
  m.doc() = "twin's C++ registration core (use twin.registration, not this module)";
  m.def("set_num_threads", &twin::set_max_threads, py::arg("n"),
        "Threads for the core's parallel loops; n <= 0 means one per core.");
  m.def("get_num_threads", &twin::max_threads);
}
