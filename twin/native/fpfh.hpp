// Fast Point Feature Histograms (Rusu et al. 2009), 33 bins per point, as Open3D computes them:
// three 11-bin histograms of the angles between a point's normal and its neighbours' normals
// (SPFH), then each point's SPFH plus its neighbours' weighted by inverse squared distance.
//
// Usage:
//   twin::KdTree tree(points);
//   twin::Features f = twin::compute_fpfh(points, normals, tree, 5 * voxel, 100);  // (n, 33)
//
// Neighbours are the at most max_neighbors nearest within radius (Open3D's hybrid search).
// Parallel over points; every point's result is independent of the thread count.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "kdtree.hpp"
#include "parallel.hpp"

namespace twin {

constexpr int kFpfhBins = 33;
using Features = Eigen::Matrix<double, Eigen::Dynamic, kFpfhBins, Eigen::RowMajor>;

namespace fpfh_detail {

// The Darboux-frame angles of a point pair: (alpha as atan2, phi, theta); false when undefined.
inline bool pair_features(const Eigen::Vector3d& p1, const Eigen::Vector3d& n1, const Eigen::Vector3d& p2,
                          const Eigen::Vector3d& n2, Eigen::Vector3d& f) {
  Eigen::Vector3d d = p2 - p1;
  const double distance = d.norm();
  if (distance == 0.0) return false;
  const double angle1 = n1.dot(d) / distance;
  const double angle2 = n2.dot(d) / distance;
  // Take the frame at the point whose normal is closer to the pair's line: a symmetric choice.
  Eigen::Vector3d u = n1, other = n2;
  double f3 = angle1;
  if (std::abs(angle1) < std::abs(angle2)) {  // acos(|angle1|) > acos(|angle2|)
    u = n2;
    other = n1;
    d = -d;
    f3 = -angle2;
  }
  Eigen::Vector3d v = d.cross(u);
  const double v_norm = v.norm();
  if (v_norm == 0.0) return false;
  v /= v_norm;
  const Eigen::Vector3d w = u.cross(v);
  f = Eigen::Vector3d(std::atan2(w.dot(other), u.dot(other)), v.dot(other), f3);
  return true;
}

inline int bin_of(double value, double lo, double hi) {
  const int bin = static_cast<int>(std::floor(11.0 * (value - lo) / (hi - lo)));
  return std::clamp(bin, 0, 10);
}

}  // namespace fpfh_detail

inline Features compute_fpfh(const Points& points, const Points& normals, const KdTree& tree, double radius,
                             int max_neighbors) {
  if (normals.size() != points.size() || tree.size() != points.size())
    throw std::invalid_argument("FPFH needs one normal per point and a k-d tree built on the same points");
  if (!(radius > 0.0) || max_neighbors < 2)
    throw std::invalid_argument("FPFH needs a positive radius and at least 2 neighbours per point");
  const int64_t n = static_cast<int64_t>(points.size());

  // Neighbourhoods once, for both passes: a radius search, cut to the max_neighbors nearest
  // where there are more (Open3D's hybrid search; the cut is by distance, then by index).
  std::vector<std::vector<int>> neighbors(n);
  std::vector<std::vector<double>> sq_distances(n);
#pragma omp parallel num_threads(max_threads())
  {
    std::vector<int> order;
#pragma omp for schedule(dynamic, 256)
    for (int64_t i = 0; i < n; ++i) {
      std::vector<int>& idx = neighbors[i];
      std::vector<double>& d2 = sq_distances[i];
      tree.radius(points[i], radius, idx, d2);
      if (idx.size() <= static_cast<size_t>(max_neighbors)) continue;
      order.resize(idx.size());
      std::iota(order.begin(), order.end(), 0);
      std::nth_element(order.begin(), order.begin() + max_neighbors, order.end(), [&](int a, int b) {
        return d2[a] < d2[b] || (d2[a] == d2[b] && idx[a] < idx[b]);
      });
      std::vector<int> kept(max_neighbors);
      std::vector<double> kept_d2(max_neighbors);
      for (int k = 0; k < max_neighbors; ++k) {
        kept[k] = idx[order[k]];
        kept_d2[k] = d2[order[k]];
      }
      idx.swap(kept);
      d2.swap(kept_d2);
    }
  }

  Features spfh = Features::Zero(n, kFpfhBins);
#pragma omp parallel for num_threads(max_threads()) schedule(dynamic, 256)
  for (int64_t i = 0; i < n; ++i) {
    const size_t found = neighbors[i].size();
    if (found < 2) continue;
    const double increment = 100.0 / static_cast<double>(found - 1);
    for (const int j : neighbors[i]) {
      if (j == i) continue;
      Eigen::Vector3d f;
      if (!fpfh_detail::pair_features(points[i], normals[i], points[j], normals[j], f)) continue;
      spfh(i, fpfh_detail::bin_of(f(0), -M_PI, M_PI)) += increment;
      spfh(i, 11 + fpfh_detail::bin_of(f(1), -1.0, 1.0)) += increment;
      spfh(i, 22 + fpfh_detail::bin_of(f(2), -1.0, 1.0)) += increment;
    }
  }

  Features fpfh(n, kFpfhBins);
#pragma omp parallel for num_threads(max_threads()) schedule(dynamic, 256)
  for (int64_t i = 0; i < n; ++i) {
    Eigen::Matrix<double, 1, kFpfhBins> sum = Eigen::Matrix<double, 1, kFpfhBins>::Zero();
    for (size_t k = 0; k < neighbors[i].size(); ++k)
      if (sq_distances[i][k] > 0.0) sum += spfh.row(neighbors[i][k]) / sq_distances[i][k];
    for (int block = 0; block < 3; ++block) {
      const double total = sum.segment<11>(11 * block).sum();
      if (total > 0.0) sum.segment<11>(11 * block) *= 100.0 / total;
    }
    fpfh.row(i) = sum + spfh.row(i);
  }
  return fpfh;
}

}  // namespace twin
