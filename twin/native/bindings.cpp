// The module `twin._native` and its bindings of local registration (the k-d tree, prepared clouds,
// ICP / point-to-plane / GICP): numpy arrays to the core's types and back. One of the bindings*.cpp
// files, the only ones that know about Python: each other area binds itself in bindings_<area>.cpp
// (`bind_<area>`, called from PYBIND11_MODULE at the end of this file).
// Every function that does real work releases the GIL while it computes.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <limits>
#include <string>

#include "covariances.hpp"
#include "icp.hpp"
#include "kdtree.hpp"
#include "normals.hpp"
#include "parallel.hpp"
#include "prepared_cloud.hpp"
#include "voxel_grid.hpp"

namespace py = pybind11;

namespace {

using ArrayIn = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Checks an (n, 3) array and returns its buffer; the caller keeps `array` alive.
const double* xyz_of(const ArrayIn& array, size_t& n, const char* what) {
  if (array.ndim() != 2 || array.shape(1) != 3)
    throw py::value_error(std::string(what) + " must be an (N, 3) array of points");
  n = static_cast<size_t>(array.shape(0));
  return array.data();
}

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

twin::Points copy_points(const double* xyz, size_t n) {
  twin::Points points(n);
  if (n) std::memcpy(points.front().data(), xyz, n * 3 * sizeof(double));
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
             size_t n;
             const double* xyz = xyz_of(points, n, "points");
             py::gil_scoped_release release;
             return new twin::KdTree(xyz, n, leaf_size);
           }),
           py::arg("points"), py::arg("leaf_size") = twin::KdTree::kDefaultLeafSize)
      .def("__len__", &twin::KdTree::size)
      .def(
          "knn",
          [](const twin::KdTree& tree, const ArrayIn& queries, int k, double max_distance) {
            size_t m;
            const double* q = xyz_of(queries, m, "queries");
            if (k < 1) throw py::value_error("k must be at least 1");
            py::array_t<int32_t> indices({static_cast<py::ssize_t>(m), py::ssize_t(k)});
            py::array_t<double> sq_dists({static_cast<py::ssize_t>(m), py::ssize_t(k)});
            int32_t* idx = indices.mutable_data();
            double* d2 = sq_dists.mutable_data();
            const double bound = max_distance * max_distance;
            {
              py::gil_scoped_release release;
#pragma omp parallel for num_threads(twin::max_threads()) schedule(static)
              for (int64_t i = 0; i < static_cast<int64_t>(m); ++i) {
                const size_t found = tree.knn(Eigen::Map<const Eigen::Vector3d>(q + 3 * i), k, idx + i * k,
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
        size_t n;
        const double* xyz = xyz_of(points, n, "points");
        twin::Points down;
        {
          py::gil_scoped_release release;
          down = twin::voxel_downsample(xyz, n, voxel_size);
        }
        return to_numpy(down);
      },
      py::arg("points"), py::arg("voxel_size"));
  m.def(
      "estimate_normals",
      [](const ArrayIn& points, int k) {
        size_t n;
        const double* xyz = xyz_of(points, n, "points");
        twin::Points normals;
        {
          py::gil_scoped_release release;
          const twin::Points pts = copy_points(xyz, n);
          normals = twin::estimate_normals(pts, twin::KdTree(pts), k);
        }
        return to_numpy(normals);
      },
      py::arg("points"), py::arg("k"));
  m.def(
      "estimate_covariances",
      [](const ArrayIn& points, int k) {
        size_t n;
        const double* xyz = xyz_of(points, n, "points");
        twin::Covariances covs;
        {
          py::gil_scoped_release release;
          const twin::Points pts = copy_points(xyz, n);
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
             size_t n;
             const double* xyz = xyz_of(points, n, "points");
             py::gil_scoped_release release;
             return new twin::PreparedCloud(xyz, n, voxel_size, num_neighbors, local_geometry);
           }),
           py::arg("points"), py::arg("voxel_size"), py::arg("num_neighbors"), py::arg("local_geometry") = true)
      .def("__len__", [](const twin::PreparedCloud& c) { return c.points().size(); })
      .def_property_readonly("points", [](const twin::PreparedCloud& c) { return to_numpy(c.points()); })
      .def_property_readonly("normals", [](const twin::PreparedCloud& c) { return to_numpy(c.normals()); })
      .def_property_readonly("covariances", [](const twin::PreparedCloud& c) { return to_numpy(c.covariances()); })
      .def_property_readonly("has_local_geometry", &twin::PreparedCloud::has_local_geometry)
      .def_property_readonly("voxel_size", &twin::PreparedCloud::voxel_size)
      .def_property_readonly("num_neighbors", &twin::PreparedCloud::num_neighbors);

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
        twin::IcpResult r;
        {
          py::gil_scoped_release release;
          r = twin::align(source, target, icp_method, init, settings);
        }
        py::dict out;
        out["T_target_source"] = r.T_target_source;
        out["iterations"] = r.iterations;
        out["converged"] = r.converged;
        out["fitness"] = r.fitness;
        out["inlier_rmse"] = r.inlier_rmse;
        out["num_inliers"] = r.num_inliers;
        out["information"] = r.information;
        return out;
      },
      py::arg("source"), py::arg("target"), py::arg("method"), py::arg("init"),
      py::arg("max_correspondence_distance"), py::arg("max_iterations"), py::arg("rotation_epsilon"),
      py::arg("translation_epsilon"), py::arg("kernel"), py::arg("kernel_scale"));
}

}  // namespace

void bind_global(py::module_& m);  // bindings_global.cpp: global registration and pose graphs
void bind_export(py::module_& m);  // bindings_export.cpp: Morton order of clouds for export

PYBIND11_MODULE(_native, m) {
  m.doc() = "twin's C++ registration core (use twin.registration, not this module)";
  m.def("set_num_threads", &twin::set_max_threads, py::arg("n"),
        "Threads for the core's parallel loops; n <= 0 restores the default (OMP_NUM_THREADS, else one per core).");
  m.def("get_num_threads", &twin::max_threads);
  bind_kdtree(m);
  bind_local_geometry(m);
  bind_icp(m);
  bind_global(m);
  bind_export(m);
}
