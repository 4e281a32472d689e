// Python bindings of the export helpers: Morton codes and the spatial order of a cloud.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstring>
#include <string>

#include "morton.hpp"

namespace py = pybind11;

void bind_export(py::module_& m) {
  m.def(
      "morton_order",
      [](const py::array_t<double, py::array::c_style | py::array::forcecast>& points,
         const py::array_t<double, py::array::c_style | py::array::forcecast>& origin, double size) {
        if (points.ndim() != 2 || points.shape(1) != 3)
          throw py::value_error("points must be an (N, 3) array");
        if (origin.size() != 3) throw py::value_error("origin must hold 3 numbers (the cube's min corner)");
        if (!(size > 0) || !std::isfinite(size)) throw py::value_error("size must be a positive number of metres");
        const size_t n = static_cast<size_t>(points.shape(0));
        const double* xyz = points.data();
        const double corner[3] = {origin.data()[0], origin.data()[1], origin.data()[2]};
        std::vector<uint64_t> codes;
        std::vector<int64_t> order;
        {
          py::gil_scoped_release release;
          codes = twin::morton_codes(xyz, n, corner, size);
          order = twin::radix_sort_with_order(codes);
        }
        py::array_t<int64_t> order_out(static_cast<py::ssize_t>(n));
        py::array_t<uint64_t> codes_out(static_cast<py::ssize_t>(n));
        if (n) {
          std::memcpy(order_out.mutable_data(), order.data(), n * sizeof(int64_t));
          std::memcpy(codes_out.mutable_data(), codes.data(), n * sizeof(uint64_t));
        }
        return py::make_tuple(order_out, codes_out);
      },
      py::arg("points"), py::arg("origin"), py::arg("size"),
      "(order, sorted codes): the stable permutation that sorts (N, 3) points by their Morton codes "
      "in the cube [origin, origin + size] (21 bits per axis, x lowest), and the codes in that order.");
}
