// Surface normals from the covariance of the k nearest neighbours.
//
// Usage:
//   twin::KdTree tree(points);
//   twin::Points normals = twin::estimate_normals(points, tree, 10);   // unit length, sign arbitrary
//   twin::orient_normals_towards(points, normals, Eigen::Vector3d::Zero());  // e.g. the sensor
//   Eigen::Vector3d n = twin::normal_of(covariance);                    // from one covariance
//
// The normal is the eigenvector of the smallest eigenvalue of the neighbourhood covariance
// (see covariances.hpp for the neighbourhood and the errors thrown). Parallel over points.
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <cstdint>
#include <vector>

#include "covariances.hpp"
#include "kdtree.hpp"

namespace twin {

inline Eigen::Vector3d normal_of(const Eigen::Matrix3d& covariance) {
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig;
  eig.computeDirect(covariance);
  return eig.eigenvectors().col(0).normalized();
}

inline Points estimate_normals(const Points& points, const KdTree& tree, int k) {
  detail::check_neighbourhood(points, tree, k);
  Points normals(points.size());
#pragma omp parallel num_threads(max_threads())
  {
    std::vector<int> idx(k);
    std::vector<double> d2(k);
#pragma omp for schedule(dynamic, 256)
    for (int64_t j = 0; j < static_cast<int64_t>(points.size()); ++j) {
      const int i = tree.leaf_order()[j];  // neighbours of consecutive queries share cache lines
      const size_t found = tree.knn(points[i], k, idx.data(), d2.data());
      normals[i] = normal_of(detail::covariance_of(points, idx.data(), found));
    }
  }
  return normals;
}

// Flips each normal so that it points towards `viewpoint` (a scanner position, for example).
inline void orient_normals_towards(const Points& points, Points& normals, const Eigen::Vector3d& viewpoint) {
#pragma omp parallel for num_threads(max_threads()) schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(points.size()); ++i)
    if (normals[i].dot(viewpoint - points[i]) < 0.0) normals[i] = -normals[i];
}

}  // namespace twin
