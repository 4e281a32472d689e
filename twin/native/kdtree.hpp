// k-d tree over 3D points: parallel build, k-nearest, bounded nearest and radius queries.
//
// Usage:
//   twin::KdTree tree(points);                      // std::vector<Eigen::Vector3d> or (xyz, n)
//   int idx[10]; double d2[10];
//   size_t k = tree.knn(q, 10, idx, d2);            // sorted by squared distance; original indices
//   size_t h = tree.knn(q, 30, idx30, d230, 0.25);  // hybrid: at most 30 within sqrt(0.25) m
//   std::vector<int> near; std::vector<double> near_d2; tree.radius(q, 0.5, near, near_d2);
//   std::vector<double> along; tree.cylinder(c, unit_axis, 0.5, 0.05, near, along);  // M3C2's cylinders
//
// The tree keeps its own copy of the points, reordered so that each leaf bucket is contiguous
// in memory (one array per axis: cache-friendly, vectorised distance loops); queries always return indices into the caller's array.
// Nodes split at the median of the widest axis, so the layout is fixed by n alone and the
// two halves of each node build in parallel (OpenMP tasks) without locks. Queries are const
// and thread-safe. Indices are int: clouds of up to 2^31 - 1 points.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <stdexcept>
#include <vector>

#include "parallel.hpp"

namespace twin {

using Points = std::vector<Eigen::Vector3d>;

class KdTree {
 public:
  static constexpr int kDefaultLeafSize = 16;
  static constexpr int kMaxLeafSize = 64;
  static constexpr int kParallelGrain = 8192;  // fewer points build faster on one thread

  explicit KdTree(const Points& points, int leaf_size = kDefaultLeafSize)
      : KdTree(points.empty() ? nullptr : points.front().data(), points.size(), leaf_size) {}

  // xyz: n points as x0 y0 z0 x1 y1 z1 ... (a C-contiguous (n, 3) float64 array).
  KdTree(const double* xyz, size_t n, int leaf_size = kDefaultLeafSize) : leaf_size_(leaf_size) {
    if (leaf_size < 1 || leaf_size > kMaxLeafSize)
      throw std::invalid_argument("k-d tree leaf size must be between 1 and " + std::to_string(kMaxLeafSize));
    if (n > static_cast<size_t>(std::numeric_limits<int>::max()))
      throw std::invalid_argument("k-d tree holds at most 2^31 - 1 points");
    index_.resize(n);
    std::iota(index_.begin(), index_.end(), 0);
    if (n == 0) return;
    nodes_.resize(node_count(n));
    for (auto* axis : {&xs_, &ys_, &zs_}) axis->resize(n);
#pragma omp parallel num_threads(max_threads()) if (n > kParallelGrain)
#pragma omp single nowait
    build(xyz, 0, 0, static_cast<int>(n));
  }

  size_t size() const { return index_.size(); }
  // Original indices in leaf order: per-point queries issued in this order stay cache-friendly.
  const std::vector<int>& leaf_order() const { return index_; }
  bool empty() const { return index_.empty(); }

  // The k nearest points to q with squared distance < max_sq_dist, nearest first.
  // Writes up to k entries into indices/sq_dists and returns how many it wrote.
  size_t knn(const Eigen::Vector3d& q, int k, int* indices, double* sq_dists,
             double max_sq_dist = std::numeric_limits<double>::infinity()) const {
    if (k <= 0 || empty()) return 0;
    KnnSet set{indices, sq_dists, static_cast<size_t>(k), 0, max_sq_dist};
    knn_node(0, q, set);
    return set.count;
  }

  // The single nearest point with squared distance < max_sq_dist; false if there is none.
  bool nearest(const Eigen::Vector3d& q, int& index, double& sq_dist,
               double max_sq_dist = std::numeric_limits<double>::infinity()) const {
    return knn(q, 1, &index, &sq_dist, max_sq_dist) == 1;
  }

  // All points within radius of q (unordered unless sorted = true). Clears and fills the vectors.
  size_t radius(const Eigen::Vector3d& q, double radius, std::vector<int>& indices,
                std::vector<double>& sq_dists, bool sorted = false) const {
    indices.clear();
    sq_dists.clear();
    if (empty() || !(radius >= 0.0)) return 0;
    radius_node(0, q, radius * radius, indices, sq_dists);
    if (sorted) sort_by_distance(indices, sq_dists);
    return indices.size();
  }

  // All points of the cylinder around the axis through c along unit vector u, half length
  // half_length, radius r: |(p - c).u| <= half_length and distance to the axis <= r; `along` gets
  // each one's (p - c).u. One traversal that narrows the axis interval [t0, t1] at each split
  // (the part of the axis whose cross-section disc reaches that side), so a long thin cylinder
  // visits only the leaves along it.
  size_t cylinder(const Eigen::Vector3d& c, const Eigen::Vector3d& u, double half_length, double r,
                  std::vector<int>& indices, std::vector<double>& along) const {
    indices.clear();
    along.clear();
    if (empty() || !(r >= 0.0) || !(half_length >= 0.0)) return 0;
    const Eigen::Array3d reach = r * (1.0 - u.array().square()).max(0.0).sqrt();  // the disc's extent per axis
    const Cylinder cyl{c, u, reach, half_length, r * r};
    cylinder_node(0, cyl, -half_length, half_length, indices, along);
    return indices.size();
  }

 private:
  struct Cylinder {
    Eigen::Vector3d c, u;
    Eigen::Array3d reach;
    double half_length, r2;
  };

  // Internal node: children at self + 1 and `right`; leaf (axis < 0): points [begin, end).
  struct Node {
    double split;
    int32_t axis;
    int32_t right_or_begin;
    int32_t end;
  };

  struct KnnSet {
    int* indices;
    double* sq_dists;
    size_t capacity, count;
    double bound;  // only points strictly closer than this can enter
    void insert(int index, double d2) {
      size_t i = count < capacity ? count++ : capacity - 1;
      for (; i > 0 && sq_dists[i - 1] > d2; --i) {
        sq_dists[i] = sq_dists[i - 1];
        indices[i] = indices[i - 1];
      }
      sq_dists[i] = d2;
      indices[i] = index;
      if (count == capacity) bound = std::min(bound, sq_dists[capacity - 1]);
    }
  };

  size_t node_count(size_t n) const {
    if (n <= static_cast<size_t>(leaf_size_)) return 1;
    return 1 + node_count(n / 2) + node_count(n - n / 2);
  }

  void build(const double* xyz, int node, int begin, int end) {
    const int n = end - begin;
    if (n <= leaf_size_) {
      nodes_[node] = Node{0.0, -1, begin, end};
      for (int i = begin; i < end; ++i) {
        xs_[i] = xyz[3 * index_[i]];
        ys_[i] = xyz[3 * index_[i] + 1];
        zs_[i] = xyz[3 * index_[i] + 2];
      }
      return;
    }
    Eigen::Array3d lo = Eigen::Array3d::Constant(std::numeric_limits<double>::infinity());
    Eigen::Array3d hi = -lo;
    for (int i = begin; i < end; ++i) {
      const Eigen::Array3d p = Eigen::Map<const Eigen::Array3d>(xyz + 3 * index_[i]);
      lo = lo.min(p);
      hi = hi.max(p);
    }
    int axis;
    (hi - lo).maxCoeff(&axis);
    const int mid = begin + n / 2;
    std::nth_element(index_.begin() + begin, index_.begin() + mid, index_.begin() + end,
                     [xyz, axis](int a, int b) { return xyz[3 * a + axis] < xyz[3 * b + axis]; });
    const int right = node + 1 + static_cast<int>(node_count(static_cast<size_t>(n / 2)));
    nodes_[node] = Node{xyz[3 * index_[mid] + axis], axis, right, 0};
#pragma omp task if (n > kParallelGrain)
    build(xyz, node + 1, begin, mid);
    build(xyz, right, mid, end);
#pragma omp taskwait
  }

  void knn_node(int node, const Eigen::Vector3d& q, KnnSet& set) const {
    const Node& nd = nodes_[node];
    if (nd.axis < 0) {
      double d2[kMaxLeafSize];
      const int begin = nd.right_or_begin, count = nd.end - begin;
      leaf_sq_dists(q, begin, count, d2);
      for (int j = 0; j < count; ++j)
        if (d2[j] < set.bound) set.insert(index_[begin + j], d2[j]);
      return;
    }
    const double diff = q[nd.axis] - nd.split;
    const int near = diff < 0.0 ? node + 1 : nd.right_or_begin;
    const int far = diff < 0.0 ? nd.right_or_begin : node + 1;
    knn_node(near, q, set);
    if (diff * diff < set.bound) knn_node(far, q, set);
  }

  void radius_node(int node, const Eigen::Vector3d& q, double r2, std::vector<int>& indices,
                   std::vector<double>& sq_dists) const {
    const Node& nd = nodes_[node];
    if (nd.axis < 0) {
      double d2[kMaxLeafSize];
      const int begin = nd.right_or_begin, count = nd.end - begin;
      leaf_sq_dists(q, begin, count, d2);
      for (int j = 0; j < count; ++j) {
        if (d2[j] <= r2) {
          indices.push_back(index_[begin + j]);
          sq_dists.push_back(d2[j]);
        }
      }
      return;
    }
    const double diff = q[nd.axis] - nd.split;
    if (diff <= 0.0 || diff * diff <= r2) radius_node(node + 1, q, r2, indices, sq_dists);
    if (diff >= 0.0 || diff * diff <= r2) radius_node(nd.right_or_begin, q, r2, indices, sq_dists);
  }

  // The sub-interval of [t0, t1] where the cross-section disc at c + t u reaches coordinate
  // `bound` from below (below = true: some point <= bound) or from above.
  static bool narrow(const Cylinder& cyl, int axis, double bound, bool below, double& t0, double& t1) {
    const double ua = cyl.u[axis];
    const double edge = below ? bound + cyl.reach[axis] : bound - cyl.reach[axis];  // where the axis must be
    const double ca = cyl.c[axis];
    if (ua == 0.0) return below ? ca <= edge : ca >= edge;
    const double t = (edge - ca) / ua;
    if ((ua > 0.0) == below) t1 = std::min(t1, t);
    else t0 = std::max(t0, t);
    return t0 <= t1;
  }

  void cylinder_node(int node, const Cylinder& cyl, double t0, double t1, std::vector<int>& indices,
                     std::vector<double>& along) const {
    const Node& nd = nodes_[node];
    if (nd.axis < 0) {
      const int begin = nd.right_or_begin, count = nd.end - begin;
      const double *x = xs_.data() + begin, *y = ys_.data() + begin, *z = zs_.data() + begin;
      for (int j = 0; j < count; ++j) {
        const double dx = x[j] - cyl.c.x(), dy = y[j] - cyl.c.y(), dz = z[j] - cyl.c.z();
        const double a = dx * cyl.u.x() + dy * cyl.u.y() + dz * cyl.u.z();
        if (std::abs(a) <= cyl.half_length && dx * dx + dy * dy + dz * dz - a * a <= cyl.r2) {
          indices.push_back(index_[begin + j]);
          along.push_back(a);
        }
      }
      return;
    }
    double l0 = t0, l1 = t1, r0 = t0, r1 = t1;
    if (narrow(cyl, nd.axis, nd.split, true, l0, l1)) cylinder_node(node + 1, cyl, l0, l1, indices, along);
    if (narrow(cyl, nd.axis, nd.split, false, r0, r1)) cylinder_node(nd.right_or_begin, cyl, r0, r1, indices, along);
  }

  // Squared distances from q to the points of one leaf; one array per axis lets this loop vectorise.
  void leaf_sq_dists(const Eigen::Vector3d& q, int begin, int count, double* d2) const {
    const double *x = xs_.data() + begin, *y = ys_.data() + begin, *z = zs_.data() + begin;
    const double qx = q.x(), qy = q.y(), qz = q.z();
    for (int j = 0; j < count; ++j) {
      const double dx = x[j] - qx, dy = y[j] - qy, dz = z[j] - qz;
      d2[j] = dx * dx + dy * dy + dz * dz;
    }
  }

  static void sort_by_distance(std::vector<int>& indices, std::vector<double>& sq_dists) {
    std::vector<size_t> order(indices.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return sq_dists[a] < sq_dists[b] || (sq_dists[a] == sq_dists[b] && indices[a] < indices[b]);
    });
    std::vector<int> i2(order.size());
    std::vector<double> d2(order.size());
    for (size_t j = 0; j < order.size(); ++j) {
      i2[j] = indices[order[j]];
      d2[j] = sq_dists[order[j]];
    }
    indices.swap(i2);
    sq_dists.swap(d2);
  }

  int leaf_size_;
  std::vector<Node> nodes_;
  std::vector<int> index_;  // position in the tree -> index in the caller's array
  std::vector<double> xs_, ys_, zs_;  // coordinates in tree order, one array per axis
};

}  // namespace twin
