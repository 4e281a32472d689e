// Python bindings of the change-detection distances: cloud-to-cloud and M3C2 with its level of
// detection. Both build their k-d trees and compute with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "array_in.hpp"
#include "cloud_distances.hpp"
#include "kdtree.hpp"
#include "m3c2.hpp"

namespace py = pybind11;
using twin::bindings::ArrayIn;
using twin::bindings::points_of;

namespace {

twin::Points points_from(const ArrayIn& array, const char* what) {
  const twin::bindings::PointsIn p = points_of(array, what);
  twin::Points points(p.n);
  if (p.n) std::memcpy(points.front().data(), p.xyz, p.n * 3 * sizeof(double));
  return points;
}

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(T));
  return out;
}

void check_positive(double value, const char* name) {
  if (!(value > 0) || !std::isfinite(value))
    throw py::value_error(std::string(name) + " must be a positive number of metres");
}

}  // namespace

void bind_changes(py::module_& m) {
  m.def(
      "cloud_to_cloud",
      [](const ArrayIn& queries, const ArrayIn& reference, double max_distance) {
        twin::Points q = points_from(queries, "queries"), ref = points_from(reference, "reference points");
        if (!(max_distance > 0)) throw py::value_error("max_distance must be a positive number of metres");
        std::vector<double> distances;
        {
          py::gil_scoped_release release;
          const twin::KdTree tree(ref);
          distances = twin::cloud_to_cloud(q, tree, max_distance);
        }
        return to_numpy(distances);
      },
      py::arg("queries"), py::arg("reference"), py::arg("max_distance"),
      "(N,) distances from each query to its nearest reference point; inf beyond max_distance.");

  m.def(
      "m3c2",
      [](const ArrayIn& core, const ArrayIn& epoch1, const ArrayIn& epoch2, double normal_radius,
         double cylinder_radius, double max_depth, double registration_error) {
        twin::Points c = points_from(core, "core points"), e1 = points_from(epoch1, "epoch 1 points"),
                     e2 = points_from(epoch2, "epoch 2 points");
        check_positive(normal_radius, "normal_radius");
        check_positive(cylinder_radius, "cylinder_radius");
        check_positive(max_depth, "max_depth");
        if (!(registration_error >= 0) || !std::isfinite(registration_error))
          throw py::value_error("registration_error must be a non-negative number of metres");
        twin::M3c2Result r;
        {
          py::gil_scoped_release release;
          const twin::KdTree tree1(e1), tree2(e2);
          r = twin::m3c2(c, e1, tree1, e2, tree2,
                         twin::M3c2Settings{normal_radius, cylinder_radius, max_depth, registration_error});
        }
        py::array_t<double> normals({static_cast<py::ssize_t>(c.size()), py::ssize_t(3)});
        if (!c.empty()) std::memcpy(normals.mutable_data(), r.normal.front().data(), c.size() * 3 * sizeof(double));
        return py::make_tuple(to_numpy(r.distance), to_numpy(r.lod), normals, to_numpy(r.count1), to_numpy(r.count2));
      },
      py::arg("core"), py::arg("epoch1"), py::arg("epoch2"), py::arg("normal_radius"), py::arg("cylinder_radius"),
      py::arg("max_depth"), py::arg("registration_error"),
      "(distance, lod, normals, count1, count2) per core point: M3C2 along epoch 1's local normal; NaN where a "
      "cylinder holds no point of an epoch (or no normal could be estimated).");
}
