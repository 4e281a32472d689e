// A cloud made ready for registration once and reused by many alignments: downsampled points,
// their k-d tree and unit normals, which also fix GICP's plane-regularised covariances.
//
// Usage:
//   twin::PreparedCloud target(xyz, n, 0.25, 10);         // voxel 0.25 m (<= 0: keep all), k = 10
//   target.points(); target.tree(); target.normals(); target.covariances();
//   twin::PreparedCloud source(xyz, n, 0.25, 10, false);  // points only: enough for point-to-point
//                                                         // and for the source side of point-to-plane
//
// Normals come out of one k-nearest query and one 3x3 eigen-decomposition per point. GICP's
// covariance of a point is plane_covariance(normal) = I - (1 - 1e-3) n n^T exactly, so only the
// normal is stored (a third of the memory traffic in the registration loop). Throws
// std::invalid_argument for too few points (fewer than 3 after downsampling).
#pragma once

#include <Eigen/Core>

#include <memory>
#include <string>
#include <vector>

#include "covariances.hpp"
#include "kdtree.hpp"
#include "normals.hpp"
#include "voxel_grid.hpp"

namespace twin {

class PreparedCloud {
 public:
  PreparedCloud(const double* xyz, size_t n, double voxel_size, int num_neighbors, bool local_geometry = true)
      : voxel_size_(voxel_size), num_neighbors_(num_neighbors) {
    if (voxel_size > 0.0) {
      points_ = voxel_downsample(xyz, n, voxel_size);
    } else {
      points_.resize(n);
      for (size_t i = 0; i < n; ++i) points_[i] = Eigen::Map<const Eigen::Vector3d>(xyz + 3 * i);
    }
    if (points_.size() < 3)
      throw std::invalid_argument("the cloud has " + std::to_string(points_.size()) +
                                  " points after downsampling; registration needs at least 3 (use a "
                                  "smaller voxel size or a denser cloud)");
    if (!local_geometry) return;
    tree_ = std::make_unique<KdTree>(points_);
    normals_ = estimate_normals(points_, *tree_, num_neighbors);
  }

  const Points& points() const { return points_; }
  bool has_local_geometry() const { return tree_ != nullptr; }
  const KdTree& tree() const { return *tree_; }
  const Points& normals() const { return normals_; }
  Covariances covariances() const {
    Covariances covs(normals_.size());
    for (size_t i = 0; i < normals_.size(); ++i) covs[i] = plane_covariance(normals_[i]);
    return covs;
  }
  double voxel_size() const { return voxel_size_; }
  int num_neighbors() const { return num_neighbors_; }

 private:
  double voxel_size_;
  int num_neighbors_;
  Points points_;
  std::unique_ptr<KdTree> tree_;
  Points normals_;
};

}  // namespace twin
