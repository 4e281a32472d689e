// The module `twin._native` and its bindings of local registration (the k-d tree, voxel
// downsampling, prepared clouds, ICP / point-to-plane / GICP): numpy arrays to the core's types and
// back. One of the bindings*.cpp files, the only ones that know about Python: each other area binds
// itself in bindings_<area>.cpp (`bind_<area>`, called from PYBIND11_MODULE at the end of this
// file), and all of them take arrays in through array_in.hpp.
// Every function that does real work releases the GIL while it computes.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <limits>
#include <string>

#include "array_in.hpp"
#include "covariances.hpp"
#include "icp.hpp"
#include "kdtree.hpp"
#include "normals.hpp"
#include "parallel.hpp"
#include "prepared_cloud.hpp"
#include "voxel_grid.hpp"

namespace py = pybind11;
using twin::bindings::ArrayIn;
using twin::bindings::points_of;
using twin::bindings::PointsIn;

namespace {

py::array_t<double> to_numpy(const twin::Points& points) {
  py::array_t<double> out({static_cast<py::ssize_t>(points.size()), py::ssize_t(3)});
  if (!points.empty()) std::memcpy(out.mutable_data(), points.front().data(), points.size() * 3 * sizeof(double));
  return out;
}

py::array_t<double> to_numpy(const twin::Covariances& covs) {
  py::array_t<double> out({static_cast<py::ssize_t>(covs.size()), py::ssize_t(3), py::ssize_t(3)});
  double* dst = out.mutable_data();
  for (size_t i = 0; i < covs.size(); ++i)  // Eigen is column-major, numpy row-major; covariances are symmetric
    std::memcpy(dst + 9 * i, covs[i].data(), 9 * sizeof(double));
  return out;
}

twin::Points copy_points(const PointsIn& in) {
  twin::Points points(in.n);
  if (in.n) std::memcpy(points.front().data(), in.xyz, in.n * 3 * sizeof(double));
  return points;
}

twin::IcpMethod method_from_name(const std::string& name) {
  if (name == "point_to_point") return twin::IcpMethod::PointToPoint;
  if (name == "point_to_plane") return twin::IcpMethod::PointToPlane;
  if (name == "gicp") return twin::IcpMethod::Gicp;
  throw py::value_error("unknown method '" + name + "'; use point_to_point, point_to_plane or gicp");
}

void bind_kdtree(py::module_& m) {
  py::class_<twin::KdTree>(m, "KdTree", "k-d tree over an (N, 3) array (keeps its own copy)")
      .def(py::init([](const ArrayIn& points, int leaf_size) {
             const PointsIn p = points_of(points, "points");
             py::gil_scoped_release release;
             return new twin::KdTree(p.xyz, p.n, leaf_size);
           }),
           py::arg("points"), py::arg("leaf_size") = twin::KdTree::kDefaultLeafSize)
      .def("__len__", &twin::KdTree::size)
      .def(
          "knn",
          [](const twin::KdTree& tree, const ArrayIn& queries, int k, double max_distance) {
            const PointsIn q = points_of(queries, "queries");
            if (k < 1) throw py::value_error("k must be at least 1");
            py::array_t<int32_t> indices({static_cast<py::ssize_t>(q.n), py::ssize_t(k)});
            py::array_t<double> sq_dists({static_cast<py::ssize_t>(q.n), py::ssize_t(k)});
            int32_t* idx = indices.mutable_data();
            double* d2 = sq_dists.mutable_data();
            const double bound = max_distance * max_distance;
            {
              py::gil_scoped_release release;
#pragma omp parallel for num_threads(twin::max_threads()) schedule(static)
              for (int64_t i = 0; i < static_cast<int64_t>(q.n); ++i) {
                const size_t found = tree.knn(Eigen::Map<const Eigen::Vector3d>(q.xyz + 3 * i), k, idx + i * k,
                                              d2 + i * k, bound);
                for (int j = static_cast<int>(found); j < k; ++j) {
                  idx[i * k + j] = -1;
                  d2[i * k + j] = std::numeric_limits<double>::infinity();
                }
              }
            }
            return py::make_tuple(indices, sq_dists);
          },
          py::arg("queries"), py::arg("k"), py::arg("max_distance") = std::numeric_limits<double>::infinity(),
          "(M, k) int32 indices (-1 where fewer) and squared distances of the k nearest, nearest first")
      .def(
          "radius",
          [](const twin::KdTree& tree, const Eigen::Vector3d& query, double radius) {
            std::vector<int> idx;
            std::vector<double> d2;
            {
              py::gil_scoped_release release;
              tree.radius(query, radius, idx, d2, true);
            }
            return py::make_tuple(py::array_t<int32_t>(idx.size(), idx.data()), py::array_t<double>(d2.size(), d2.data()));
          },
          py::arg("query"), py::arg("radius"), "indices and squared distances within radius, nearest first");
}

void bind_local_geometry(py::module_& m) {
  m.def(
      "voxel_downsample",
      [](const ArrayIn& points, double voxel_size) {
        const PointsIn p = points_of(points, "points");
        twin::Points down;
        {
          py::gil_scoped_release release;
          down = twin::voxel_downsample(p.xyz, p.n, voxel_size);
        }
        return to_numpy(down);
      },
      py::arg("points"), py::arg("voxel_size"),
      "(M, 3) centroids of the occupied voxels (grid anchored at the origin), in first-touch order");
  m.def(
      "estimate_normals",
      [](const ArrayIn& points, int k) {
        const PointsIn p = points_of(points, "points");
        twin::Points normals;
        {
          py::gil_scoped_release release;
          const twin::Points pts = copy_points(p);
          normals = twin::estimate_normals(pts, twin::KdTree(pts), k);
        }
        return to_numpy(normals);
      },
      py::arg("points"), py::arg("k"));
  m.def(
      "estimate_covariances",
      [](const ArrayIn& points, int k) {
        const PointsIn p = points_of(points, "points");
        twin::Covariances covs;
        {
          py::gil_scoped_release release;
          const twin::Points pts = copy_points(p);
          covs = twin::estimate_covariances(pts, twin::KdTree(pts), k);
        }
        return to_numpy(covs);
      },
      py::arg("points"), py::arg("k"));
}

void bind_icp(py::module_& m) {
  py::class_<twin::PreparedCloud>(m, "PreparedCloud",
                                  "downsampled points, k-d tree, normals and GICP covariances, built once")
      .def(py::init([](const ArrayIn& points, double voxel_size, int num_neighbors, bool local_geometry) {
             const PointsIn p = points_of(points, "points");
             py::gil_scoped_release release;
             return new twin::PreparedCloud(p.xyz, p.n, voxel_size, num_neighbors, local_geometry);
           }),
           py::arg("points"), py::arg("voxel_size"), py::arg("num_neighbors"), py::arg("local_geometry") = true)
      .def("__len__", [](const twin::PreparedCloud& c) { return c.points().size(); })
      .def_property_readonly("points", [](const twin::PreparedCloud& c) { return to_numpy(c.points()); })
      .def_property_readonly("normals", [](const twin::PreparedCloud& c) { return to_numpy(c.normals()); })
      .def_property_readonly("covariances", [](const twin::PreparedCloud& c) { return to_numpy(c.covariances()); })
      .def_property_readonly("has_local_geometry", &twin::PreparedCloud::has_local_geometry)
      .def_property_readonly("voxel_size", &twin::PreparedCloud::voxel_size)
      .def_property_readonly("num_neighbors", &twin::PreparedCloud::num_neighbors);

  // Read-only, and each array a fresh copy: the Python face freezes them into RegistrationResult.
  py::class_<twin::IcpResult>(m, "IcpResult", "the outcome of one `align` (see twin.registration.RegistrationResult)")
      .def_property_readonly("T_target_source", [](const twin::IcpResult& r) -> Eigen::Matrix4d { return r.T_target_source; })
      .def_readonly("iterations", &twin::IcpResult::iterations)
      .def_readonly("converged", &twin::IcpResult::converged)
      .def_readonly("fitness", &twin::IcpResult::fitness)
      .def_readonly("inlier_rmse", &twin::IcpResult::inlier_rmse)
      .def_readonly("num_inliers", &twin::IcpResult::num_inliers)
      .def_property_readonly("information", [](const twin::IcpResult& r) -> twin::Matrix6d { return r.information; });

  m.def(
      "align",
      [](const twin::PreparedCloud& source, const twin::PreparedCloud& target, const std::string& method,
         const Eigen::Matrix4d& init, double max_correspondence_distance, int max_iterations,
         double rotation_epsilon, double translation_epsilon, const std::string& kernel, double kernel_scale) {
        twin::IcpSettings settings;
        settings.max_correspondence_distance = max_correspondence_distance;
        settings.max_iterations = max_iterations;
        settings.rotation_epsilon = rotation_epsilon;
        settings.translation_epsilon = translation_epsilon;
        settings.kernel = twin::RobustKernel{twin::kernel_from_name(kernel), kernel_scale};
        const twin::IcpMethod icp_method = method_from_name(method);
        py::gil_scoped_release release;
        return twin::align(source, target, icp_method, init, settings);
      },
      py::arg("source"), py::arg("target"), py::arg("method"), py::arg("init"),
      py::arg("max_correspondence_distance"), py::arg("max_iterations"), py::arg("rotation_epsilon"),
      py::arg("translation_epsilon"), py::arg("kernel"), py::arg("kernel_scale"));
}

}  // namespace

void bind_global(py::module_& m);  // bindings_global.cpp: global registration and pose graphs
void bind_export(py::module_& m);  // bindings_export.cpp: Morton order of clouds for export
void bind_changes(py::module_& m);  // bindings_changes.cpp: distances for change detection

PYBIND11_MODULE(_native, m) {
  m.doc() = "twin's C++ registration core (use twin.registration, not this module)";
  // The core's own process-wide cap (twin::set_max_threads in parallel.hpp), which every parallel
  // loop names; not OpenMP's per-thread setting, whose name `set_num_threads` it used to borrow.
  m.def("set_max_threads", &twin::set_max_threads, py::arg("n"),
        "Threads for the core's parallel loops, process-wide; n <= 0 restores the default "
        "(OMP_NUM_THREADS, else one per core).");
  m.def("max_threads", &twin::max_threads, "The core's current cap on threads per parallel loop.");
  bind_kdtree(m);
  bind_local_geometry(m);
  bind_icp(m);
  bind_global(m);
  bind_export(m);
  bind_changes(m);
}
