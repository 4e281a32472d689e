// Python bindings of global registration (FPFH, feature matching, RANSAC, similarity) and of
// pose-graph optimisation. Called from bindings.cpp; every function releases the GIL.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>
#include <vector>

#include "array_in.hpp"
#include "feature_matching.hpp"
#include "fpfh.hpp"
#include "pose_graph.hpp"
#include "prepared_cloud.hpp"
#include "ransac.hpp"
#include "similarity.hpp"

namespace py = pybind11;
using twin::bindings::ArrayIn;

namespace {

using ColumnPoints = Eigen::Map<const Eigen::Matrix<double, 3, Eigen::Dynamic>>;  // an (N, 3) C array
using RowMajor4d = Eigen::Matrix<double, 4, 4, Eigen::RowMajor>;
using RowMajor6d = Eigen::Matrix<double, 6, 6, Eigen::RowMajor>;

// Shapes other than (N, 3): stacks of 4x4 poses and 6x6 information matrices.
void check_shape(const ArrayIn& array, py::ssize_t rows, std::initializer_list<py::ssize_t> tail, const char* what) {
  bool ok = array.ndim() == static_cast<py::ssize_t>(1 + tail.size()) && (rows < 0 || array.shape(0) == rows);
  int axis = 1;
  for (py::ssize_t size : tail) ok = ok && array.shape(axis++) == size;
  if (!ok) throw py::value_error(std::string(what) + " has the wrong shape " + twin::bindings::shape_text(array));
}

ColumnPoints columns_of(const ArrayIn& array, const char* what) {
  const twin::bindings::PointsIn p = twin::bindings::points_of(array, what);
  return ColumnPoints(p.xyz, 3, static_cast<Eigen::Index>(p.n));
}

py::array_t<double> features_to_numpy(const twin::Features& features) {
  py::array_t<double> out({static_cast<py::ssize_t>(features.rows()), py::ssize_t(twin::kFpfhBins)});
  if (features.size()) std::memcpy(out.mutable_data(), features.data(), features.size() * sizeof(double));
  return out;
}

py::array_t<bool> to_numpy(const std::vector<bool>& flags) {
  py::array_t<bool> out(static_cast<py::ssize_t>(flags.size()));
  for (size_t k = 0; k < flags.size(); ++k) out.mutable_data()[k] = flags[k];
  return out;
}

using FeatureMap = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

FeatureMap features_of(const ArrayIn& array, const char* what) {
  if (array.ndim() != 2) throw py::value_error(std::string(what) + " must be an (N, D) array of features");
  return FeatureMap(array.data(), array.shape(0), array.shape(1));
}

}  // namespace

void bind_global(py::module_& m) {
  // Read-only results; each array property is a fresh copy, which the Python face freezes.
  py::class_<twin::RansacResult>(m, "RansacResult", "the outcome of `ransac` on paired rows")
      .def_property_readonly("T_target_source", [](const twin::RansacResult& r) -> Eigen::Matrix4d { return r.T_target_source; })
      .def_property_readonly("inliers", [](const twin::RansacResult& r) { return to_numpy(r.inliers); },
                             "(K,) bool: which correspondences agree with the transform")
      .def_readonly("num_inliers", &twin::RansacResult::num_inliers)
      .def_readonly("inlier_rmse", &twin::RansacResult::inlier_rmse)
      .def_readonly("hypotheses", &twin::RansacResult::hypotheses)
      .def_readonly("found", &twin::RansacResult::found);

  py::class_<twin::PoseGraphResult>(m, "PoseGraphResult", "the outcome of `optimize_pose_graph`")
      .def_property_readonly(
          "poses",
          [](const twin::PoseGraphResult& r) {
            py::array_t<double> out({static_cast<py::ssize_t>(r.poses.size()), py::ssize_t(4), py::ssize_t(4)});
            for (size_t n = 0; n < r.poses.size(); ++n) Eigen::Map<RowMajor4d>(out.mutable_data() + 16 * n) = r.poses[n];
            return out;
          },
          "(N, 4, 4) optimised T_world_node")
      .def_property_readonly("edge_accepted", [](const twin::PoseGraphResult& r) { return to_numpy(r.edge_accepted); })
      .def_readonly("initial_cost", &twin::PoseGraphResult::initial_cost)
      .def_readonly("final_cost", &twin::PoseGraphResult::final_cost)
      .def_readonly("iterations", &twin::PoseGraphResult::iterations);

  m.def(
      "fpfh",
      [](const twin::PreparedCloud& cloud, double radius, int max_neighbors) {
        if (!cloud.has_local_geometry()) throw py::value_error("FPFH needs a cloud prepared with normals");
        twin::Features features;
        {
          py::gil_scoped_release release;
          features = twin::compute_fpfh(cloud.points(), cloud.normals(), cloud.tree(), radius, max_neighbors);
        }
        return features_to_numpy(features);
      },
      py::arg("cloud"), py::arg("radius"), py::arg("max_neighbors"),
      "(N, 33) FPFH features of a prepared cloud's points");

  m.def(
      "match_features",
      [](const ArrayIn& source, const ArrayIn& target, bool mutual, double ratio) {
        const FeatureMap s = features_of(source, "source features"), t = features_of(target, "target features");
        if (s.cols() != t.cols()) throw py::value_error("source and target features differ in length");
        twin::Correspondences pairs;
        {
          py::gil_scoped_release release;
          pairs = twin::match_features(s, t, mutual, ratio);
        }
        py::array_t<int32_t> out({static_cast<py::ssize_t>(pairs.size()), py::ssize_t(2)});
        int32_t* dst = out.mutable_data();
        for (size_t k = 0; k < pairs.size(); ++k) {
          dst[2 * k] = pairs[k].first;
          dst[2 * k + 1] = pairs[k].second;
        }
        return out;
      },
      py::arg("source"), py::arg("target"), py::arg("mutual"), py::arg("ratio"),
      "(K, 2) int32 pairs (source row, target row) of nearest features");

  m.def(
      "ransac",
      [](const ArrayIn& source, const ArrayIn& target, double inlier_distance, double edge_length_similarity,
         bool with_scale, int max_hypotheses, double confidence, uint64_t seed) {
        const ColumnPoints s = columns_of(source, "source points"), t = columns_of(target, "target points");
        if (s.cols() != t.cols()) throw py::value_error("source and target correspondences differ in number");
        twin::RansacSettings settings;
        settings.inlier_distance = inlier_distance;
        settings.edge_length_similarity = edge_length_similarity;
        settings.with_scale = with_scale;
        settings.max_hypotheses = max_hypotheses;
        settings.confidence = confidence;
        settings.seed = seed;
        py::gil_scoped_release release;
        return twin::ransac(s, t, settings);
      },
      py::arg("source"), py::arg("target"), py::arg("inlier_distance"), py::arg("edge_length_similarity"),
      py::arg("with_scale"), py::arg("max_hypotheses"), py::arg("confidence"), py::arg("seed"),
      "RANSAC on paired rows of source and target (K, 3)");

  m.def(
      "estimate_similarity",
      [](const ArrayIn& source, const ArrayIn& target, bool with_scale) -> py::object {
        const ColumnPoints s = columns_of(source, "source points"), t = columns_of(target, "target points");
        if (s.cols() != t.cols()) throw py::value_error("source and target differ in number of points");
        std::optional<Eigen::Matrix4d> T;
        {
          py::gil_scoped_release release;
          T = twin::estimate_similarity(s, t, with_scale);
        }
        if (!T) return py::none();
        return py::cast(*T);
      },
      py::arg("source"), py::arg("target"), py::arg("with_scale"),
      "Umeyama: the 4x4 (scaled) rigid transform mapping source rows onto target rows, or None if degenerate");

  m.def(
      "optimize_pose_graph",
      [](const ArrayIn& poses, const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& pairs,
         const ArrayIn& transforms, const ArrayIn& information, const py::array_t<bool, py::array::c_style | py::array::forcecast>& uncertain,
         double outlier_distance_m, int max_iterations) {
        check_shape(poses, -1, {4, 4}, "poses");
        const py::ssize_t edges_count = transforms.ndim() > 0 ? transforms.shape(0) : 0;
        check_shape(transforms, edges_count, {4, 4}, "edge transforms");
        check_shape(information, edges_count, {6, 6}, "edge information");
        if (pairs.ndim() != 2 || pairs.shape(0) != edges_count || pairs.shape(1) != 2 || uncertain.ndim() != 1 ||
            uncertain.shape(0) != edges_count)
          throw py::value_error("edge node pairs and uncertain flags must have one row per edge");
        std::vector<Eigen::Matrix4d> initial(poses.shape(0));
        for (size_t n = 0; n < initial.size(); ++n) initial[n] = Eigen::Map<const RowMajor4d>(poses.data() + 16 * n);
        std::vector<twin::PoseGraphEdge> edges(edges_count);
        for (py::ssize_t e = 0; e < edges_count; ++e) {
          edges[e].i = static_cast<int>(pairs.data()[2 * e]);
          edges[e].j = static_cast<int>(pairs.data()[2 * e + 1]);
          edges[e].T_i_j = Eigen::Map<const RowMajor4d>(transforms.data() + 16 * e);
          edges[e].information = Eigen::Map<const RowMajor6d>(information.data() + 36 * e);
          edges[e].uncertain = uncertain.data()[e];
        }
        twin::PoseGraphOptions options;
        options.outlier_distance_m = outlier_distance_m;
        options.max_iterations = max_iterations;
        py::gil_scoped_release release;
        return twin::optimize_pose_graph(std::move(initial), edges, options);
      },
      py::arg("poses"), py::arg("pairs"), py::arg("transforms"), py::arg("information"), py::arg("uncertain"),
      py::arg("outlier_distance_m"), py::arg("max_iterations"),
      "Levenberg-Marquardt over SE(3) with graduated non-convexity on uncertain edges");
}
