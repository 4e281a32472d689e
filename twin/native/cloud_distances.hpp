// Cloud-to-cloud distances (CloudCompare's C2C): for every query point, the distance to the
// nearest point of a reference cloud.
//
// Usage:
//   twin::KdTree reference_tree(reference);
//   std::vector<double> d = twin::cloud_to_cloud(queries, reference_tree, 0.5);  // metres
//
// Queries with no reference point within max_distance get +infinity (no counterpart), so a
// bounded search never reports a made-up distance. Parallel over queries, taken in the leaf order
// of a k-d tree over them (neighbouring queries share tree nodes and cache lines); the tree is const.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kdtree.hpp"
#include "parallel.hpp"

namespace twin {

inline std::vector<double> cloud_to_cloud(const Points& queries, const KdTree& reference,
                                          double max_distance = std::numeric_limits<double>::infinity()) {
  std::vector<double> distances(queries.size(), std::numeric_limits<double>::infinity());
  const double bound = std::isinf(max_distance) ? max_distance : max_distance * max_distance;
  const KdTree query_tree(queries);  // for its leaf order only
  const std::vector<int>& order = query_tree.leaf_order();
#pragma omp parallel for num_threads(max_threads()) schedule(dynamic, 512)
  for (int64_t t = 0; t < static_cast<int64_t>(queries.size()); ++t) {
    const int64_t i = order[t];
    int index;
    double d2;
    if (reference.nearest(queries[i], index, d2, bound)) distances[i] = std::sqrt(d2);
  }
  return distances;
}

}  // namespace twin
