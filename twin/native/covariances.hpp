// Per-point covariance of the k nearest neighbours, and GICP's plane regularisation.
//
// Usage:
//   twin::KdTree tree(points);
//   std::vector<Eigen::Matrix3d> covs = twin::estimate_covariances(points, tree, 10);
//   Eigen::Matrix3d disc = twin::plane_covariance(normal);   // GICP's model of a plane
//
// The neighbourhood includes the point itself. `tree` must be built on `points`. Runs in
// parallel over points. Throws std::invalid_argument when k < 3 or the cloud has fewer than
// 3 points (a covariance of fewer points has no plane to describe).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kdtree.hpp"

namespace twin {

using Covariances = std::vector<Eigen::Matrix3d>;

namespace detail {

inline void check_neighbourhood(const Points& points, const KdTree& tree, int k) {
  if (k < 3) throw std::invalid_argument("need at least 3 neighbours per point, got " + std::to_string(k));
  if (points.size() < 3)
    throw std::invalid_argument("need at least 3 points to estimate normals or covariances, got " +
                                std::to_string(points.size()));
  if (tree.size() != points.size())
    throw std::invalid_argument("the k-d tree was built on a different cloud than the one given");
}

// Covariance (divided by the count) of the points listed in `indices`, centred on their mean.
inline Eigen::Matrix3d covariance_of(const Points& points, const int* indices, size_t count) {
  // Shift by the first point so that large coordinates do not cost precision.
  const Eigen::Vector3d origin = points[indices[0]];
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  Eigen::Matrix3d outer = Eigen::Matrix3d::Zero();
  for (size_t j = 0; j < count; ++j) {
    const Eigen::Vector3d d = points[indices[j]] - origin;
    sum += d;
    outer.noalias() += d * d.transpose();
  }
  const Eigen::Vector3d mean = sum / double(count);
  return outer / double(count) - mean * mean.transpose();
}

// Calls visit(i, covariance of the k nearest neighbours of point i) for every point, in parallel.
template <typename Visit>
void for_each_neighbourhood_covariance(const Points& points, const KdTree& tree, int k, Visit&& visit) {
  check_neighbourhood(points, tree, k);
#pragma omp parallel num_threads(max_threads())
  {
    std::vector<int> idx(k);
    std::vector<double> d2(k);
#pragma omp for schedule(dynamic, 256)
    for (int64_t j = 0; j < static_cast<int64_t>(points.size()); ++j) {
      const int i = tree.leaf_order()[j];  // neighbours of consecutive queries share cache lines
      const size_t found = tree.knn(points[i], k, idx.data(), d2.data());
      visit(i, covariance_of(points, idx.data(), found));
    }
  }
}

}  // namespace detail

inline Covariances estimate_covariances(const Points& points, const KdTree& tree, int k) {
  Covariances covs(points.size());
  detail::for_each_neighbourhood_covariance(points, tree, k,
                                            [&](int i, const Eigen::Matrix3d& cov) { covs[i] = cov; });
  return covs;
}

// A small disc on the plane with unit normal n: eigenvalues (epsilon, 1, 1), which is
// U diag(epsilon, 1, 1) U^T = I - (1 - epsilon) n n^T (Segal et al., GICP's plane-to-plane model).
constexpr double kPlaneEpsilon = 1e-3;

inline Eigen::Matrix3d plane_covariance(const Eigen::Vector3d& n, double epsilon = kPlaneEpsilon) {
  return Eigen::Matrix3d::Identity() - (1.0 - epsilon) * n * n.transpose();
}

}  // namespace twin
