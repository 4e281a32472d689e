// Surface normals from the covariance of the k nearest neighbours.
//
// Usage:
//   twin::KdTree tree(points);
//   twin::Points normals = twin::estimate_normals(points, tree, 10);   // unit length, sign arbitrary
//   Eigen::Vector3d n = twin::normal_of(covariance);                    // from one covariance
//
// The normal is the eigenvector of the smallest eigenvalue of the neighbourhood covariance
// (see covariances.hpp for the neighbourhood and the errors thrown). Parallel over points.
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include "covariances.hpp"
#include "kdtree.hpp"

namespace twin {

inline Eigen::Vector3d normal_of(const Eigen::Matrix3d& covariance) {
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig;
  eig.computeDirect(covariance);
  return eig.eigenvectors().col(0).normalized();
}

inline Points estimate_normals(const Points& points, const KdTree& tree, int k) {
  Points normals(points.size());
  detail::for_each_neighbourhood_covariance(
      points, tree, k, [&](int i, const Eigen::Matrix3d& cov) { normals[i] = normal_of(cov); });
  return normals;
}

}  // namespace twin
