// Per-point covariance of the k nearest neighbours, and GICP's plane regularisation.
//
// Usage:
//   twin::KdTree tree(points);
//   std::vector<Eigen::Matrix3d> covs = twin::estimate_covariances(points, tree, 10);
//   twin::regularize_plane(covs);            // GICP: eigenvalues -> (1e-3, 1, 1), same axes
//   Eigen::Matrix3d c = twin::neighbourhood_covariance(points, tree, points[0], 10);  // one point
//
// The neighbourhood includes the point itself. `tree` must be built on `points`. Runs in
// parallel over points. Throws std::invalid_argument when k < 3 or the cloud has fewer than
// 3 points (a covariance of fewer points has no plane to describe).
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

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

}  // namespace detail

// Covariance of the k nearest neighbours of an arbitrary query point q (k <= 64).
inline Eigen::Matrix3d neighbourhood_covariance(const Points& points, const KdTree& tree,
                                                const Eigen::Vector3d& q, int k) {
  detail::check_neighbourhood(points, tree, k);
  if (k > 64) throw std::invalid_argument("use at most 64 neighbours per point");
  int idx[64];
  double d2[64];
  const size_t found = tree.knn(q, k, idx, d2);
  return detail::covariance_of(points, idx, found);
}

inline Covariances estimate_covariances(const Points& points, const KdTree& tree, int k) {
  detail::check_neighbourhood(points, tree, k);
  Covariances covs(points.size());
#pragma omp parallel num_threads(max_threads())
  {
    std::vector<int> idx(k);
    std::vector<double> d2(k);
#pragma omp for schedule(dynamic, 256)
    for (int64_t j = 0; j < static_cast<int64_t>(points.size()); ++j) {
      const int i = tree.leaf_order()[j];  // neighbours of consecutive queries share cache lines
      const size_t found = tree.knn(points[i], k, idx.data(), d2.data());
      covs[i] = detail::covariance_of(points, idx.data(), found);
    }
  }
  return covs;
}

// A small disc on the plane with unit normal n: eigenvalues (epsilon, 1, 1), which is
// U diag(epsilon, 1, 1) U^T = I - (1 - epsilon) n n^T (Segal et al., GICP's plane-to-plane model).
constexpr double kPlaneEpsilon = 1e-3;

inline Eigen::Matrix3d plane_covariance(const Eigen::Vector3d& n, double epsilon = kPlaneEpsilon) {
  return Eigen::Matrix3d::Identity() - (1.0 - epsilon) * n * n.transpose();
}

// Replaces a covariance's eigenvalues by (epsilon, 1, 1), keeping its axes.
inline Eigen::Matrix3d plane_regularized(const Eigen::Matrix3d& cov, double epsilon = kPlaneEpsilon) {
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig;
  eig.computeDirect(cov);
  return plane_covariance(eig.eigenvectors().col(0).normalized(), epsilon);  // smallest eigenvalue first
}

inline void regularize_plane(Covariances& covs, double epsilon = kPlaneEpsilon) {
#pragma omp parallel for num_threads(max_threads()) schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(covs.size()); ++i) covs[i] = plane_regularized(covs[i], epsilon);
}

}  // namespace twin
