// What every bindings*.cpp file takes in from numpy: one input array type and one (N, 3) check.
// Bindings only (it includes pybind11); the core's headers never include it.
//
// Usage, inside a binding:
//   twin::bindings::ArrayIn points;                                    // the argument's type
//   const twin::bindings::PointsIn p = twin::bindings::points_of(points, "source points");
//   twin::voxel_downsample(p.xyz, p.n, voxel_size);                    // `points` keeps p.xyz alive
//
// ArrayIn takes anything numpy turns into float64 (other dtypes, strided views) and hands the
// binding a C-contiguous array, copying only where the input is not one already. points_of raises
// ValueError with a sentence naming the array and the shape it had; finiteness is checked by the
// Python face (twin.registration.as_points) or by the core where it matters (voxel keys).
#pragma once

#include <pybind11/numpy.h>

#include <cstddef>
#include <string>

namespace twin::bindings {

namespace py = pybind11;

using ArrayIn = py::array_t<double, py::array::c_style | py::array::forcecast>;

// n points as x0 y0 z0 x1 y1 z1 ...; borrowed from the array it came from.
struct PointsIn {
  const double* xyz;
  size_t n;
};

// "(4, 2)": a numpy-style shape for error messages.
inline std::string shape_text(const py::array& array) {
  std::string text = "(";
  for (py::ssize_t axis = 0; axis < array.ndim(); ++axis)
    text += (axis ? ", " : "") + std::to_string(array.shape(axis));
  return text + (array.ndim() == 1 ? ",)" : ")");
}

// The buffer of an (N, 3) array, or ValueError naming `what`.
inline PointsIn points_of(const ArrayIn& array, const char* what) {
  if (array.ndim() != 2 || array.shape(1) != 3)
    throw py::value_error(std::string(what) + " must be an (N, 3) array of x, y, z rows, got shape " +
                          shape_text(array));
  return {array.data(), static_cast<size_t>(array.shape(0))};
}

}  // namespace twin::bindings
