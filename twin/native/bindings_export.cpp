// Python bindings of the export helpers: the Morton order of a cloud and its LOD octree.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "array_in.hpp"
#include "morton.hpp"
#include "octree.hpp"

namespace py = pybind11;
using twin::bindings::ArrayIn;

namespace {

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(T));
  return out;
}

}  // namespace

void bind_export(py::module_& m) {
  m.def(
      "morton_order",
      [](const ArrayIn& points, const ArrayIn& origin, double size) {
        const twin::bindings::PointsIn p = twin::bindings::points_of(points, "points");
        if (origin.size() != 3) throw py::value_error("origin must hold 3 numbers (the cube's min corner)");
        if (!(size > 0) || !std::isfinite(size)) throw py::value_error("size must be a positive number of metres");
        const double corner[3] = {origin.data()[0], origin.data()[1], origin.data()[2]};
        std::vector<uint64_t> codes;
        std::vector<int64_t> order;
        {
          py::gil_scoped_release release;
          codes = twin::morton_codes(p.xyz, p.n, corner, size);
          order = twin::radix_sort_with_order(codes);
        }
        return py::make_tuple(to_numpy(order), to_numpy(codes));
      },
      py::arg("points"), py::arg("origin"), py::arg("size"),
      "(order, sorted codes): the stable permutation that sorts (N, 3) points by their Morton codes "
      "in the cube [origin, origin + size] (21 bits per axis, x lowest), and the codes in that order.");

  m.def(
      "octree_nodes",
      [](const py::array_t<uint64_t, py::array::c_style | py::array::forcecast>& sorted_codes, int64_t budget,
         int sampling_depth, uint64_t seed) {
        if (sorted_codes.ndim() != 1) throw py::value_error("sorted_codes must be a 1-D array of Morton codes");
        if (budget < 1) throw py::value_error("the point budget of a node must be at least 1");
        if (sampling_depth < 1 || sampling_depth > 10) throw py::value_error("sampling_depth must be between 1 and 10");
        const uint64_t* codes = sorted_codes.data();
        const size_t n = static_cast<size_t>(sorted_codes.size());
        for (size_t i = 1; i < n; ++i)
          if (codes[i] < codes[i - 1]) throw py::value_error("sorted_codes must be in ascending order (use morton_order)");
        twin::OctreeNodes nodes;
        {
          py::gil_scoped_release release;
          nodes = twin::build_octree(codes, n, static_cast<size_t>(budget), sampling_depth, seed);
        }
        return py::make_tuple(to_numpy(nodes.level), to_numpy(nodes.key), to_numpy(nodes.offset),
                              to_numpy(nodes.indices), to_numpy(nodes.occupied), nodes.dropped);
      },
      py::arg("sorted_codes"), py::arg("max_points_per_node"), py::arg("sampling_depth"), py::arg("seed"),
      "(levels, keys, offsets, indices, occupied cells, dropped): the LOD octree of Morton-sorted codes in "
      "breadth-first order; node i holds indices[offsets[i]:offsets[i + 1]] (positions in the codes).");
}
