// Voxel-grid downsampling: one point (the centroid) per occupied cubic voxel.
//
// Usage:
//   twin::Points down = twin::voxel_downsample(points, 0.25);      // std::vector<Eigen::Vector3d>
//   twin::Points down = twin::voxel_downsample(xyz, n, 0.25);      // C-contiguous (n, 3) float64
//   // voxels come out in the order in which the input first touches them (deterministic)
//
// Throws std::invalid_argument for a voxel size that is not positive and finite, for non-finite
// coordinates, and for clouds too large for the voxel size (more than 2^20 voxels from the origin
// along an axis). Fixed blocks of points are hashed in parallel, each into its own open-addressing
// table (one pass, no sort); the block tables are then merged in block order. The output order and
// the sums therefore depend neither on the thread count nor on scheduling.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kdtree.hpp"  // twin::Points

namespace twin {

namespace detail {

constexpr int kVoxelKeyBits = 21;
constexpr int64_t kVoxelKeyOffset = int64_t(1) << (kVoxelKeyBits - 1);

// Packs the voxel of p into 63 bits; returns false when it does not fit (or p is not finite).
inline bool voxel_key(const double* p, double inv_size, uint64_t& key) {
  key = 0;
  for (int axis = 0; axis < 3; ++axis) {
    const double x = p[axis] * inv_size;
    if (!(x >= -double(kVoxelKeyOffset) && x < double(kVoxelKeyOffset))) return false;
    int64_t c = static_cast<int64_t>(x);  // truncates; floor without a libm call (no SSE4.1 assumed)
    c -= x < static_cast<double>(c);
    key = (key << kVoxelKeyBits) | static_cast<uint64_t>(c + kVoxelKeyOffset);
  }
  return true;
}

// Sums of points per voxel key, in the order in which keys first arrive.
class VoxelSums {
 public:
  explicit VoxelSums(size_t expected_voxels) {
    resize_table(expected_voxels);
    sums_.reserve(expected_voxels);
    order_.reserve(expected_voxels);
  }

  // sum = (x, y, z, count)
  void add(uint64_t key, const Eigen::Vector4d& sum) {
    size_t slot = find(key);
    if (keys_[slot] != kEmpty) {
      sums_[slots_[slot]] += sum;
      return;
    }
    if (2 * (sums_.size() + 1) > keys_.size()) {  // keep the load under one half
      resize_table(2 * (sums_.size() + 1));
      slot = find(key);
    }
    keys_[slot] = key;
    slots_[slot] = static_cast<uint32_t>(sums_.size());
    order_.push_back(key);
    sums_.push_back(sum);
  }

  size_t size() const { return sums_.size(); }
  uint64_t key(size_t voxel) const { return order_[voxel]; }
  const Eigen::Vector4d& sum(size_t voxel) const { return sums_[voxel]; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);  // never a key: keys use 63 bits

  size_t find(uint64_t key) const {
    const size_t mask = keys_.size() - 1;
    size_t slot = (key * 0x9E3779B97F4A7C15ull) >> shift_;  // Fibonacci hashing
    while (keys_[slot] != key && keys_[slot] != kEmpty) slot = (slot + 1) & mask;
    return slot;
  }

  void resize_table(size_t voxels) {
    size_t capacity = 16;
    while (capacity < 2 * voxels) capacity <<= 1;
    keys_.assign(capacity, kEmpty);
    slots_.resize(capacity);
    shift_ = 64 - __builtin_ctzll(capacity);
    for (size_t v = 0; v < order_.size(); ++v) {
      const size_t slot = find(order_[v]);
      keys_[slot] = order_[v];
      slots_[slot] = static_cast<uint32_t>(v);
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> slots_;
  std::vector<uint64_t> order_;
  std::vector<Eigen::Vector4d> sums_;
  int shift_;
};

}  // namespace detail

inline Points voxel_downsample(const double* xyz, size_t n, double voxel_size) {
  if (!(voxel_size > 0.0) || !std::isfinite(voxel_size))
    throw std::invalid_argument("voxel size must be a positive finite number of metres, got " +
                                std::to_string(voxel_size));
  if (n == 0) return {};
  const double inv = 1.0 / voxel_size;
  constexpr int64_t kBlock = 16384;
  const int64_t blocks = (static_cast<int64_t>(n) + kBlock - 1) / kBlock;
  std::vector<std::unique_ptr<detail::VoxelSums>> partial(blocks);
  std::atomic<int64_t> bad{-1};
#pragma omp parallel for num_threads(max_threads()) schedule(dynamic, 1) if (blocks > 1)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t begin = block * kBlock, end = std::min<int64_t>(begin + kBlock, n);
    auto sums = std::make_unique<detail::VoxelSums>(static_cast<size_t>(end - begin) / 8);
    for (int64_t i = begin; i < end; ++i) {
      const double* p = xyz + 3 * i;
      uint64_t key;
      if (!detail::voxel_key(p, inv, key)) {
        int64_t seen = bad.load();
        while ((seen < 0 || i < seen) && !bad.compare_exchange_weak(seen, i)) {
        }
        break;
      }
      sums->add(key, Eigen::Vector4d(p[0], p[1], p[2], 1.0));
    }
    partial[block] = std::move(sums);
  }
  if (bad >= 0) {
    const double* p = xyz + 3 * bad;
    throw std::invalid_argument(
        "point " + std::to_string(bad) + " (" + std::to_string(p[0]) + ", " + std::to_string(p[1]) +
        ", " + std::to_string(p[2]) + ") is not finite or lies more than 2^20 voxels of " +
        std::to_string(voxel_size) + " m from the origin; remove it, recentre the cloud or use a "
        "larger voxel size");
  }

  detail::VoxelSums& merged = *partial[0];
  for (int64_t block = 1; block < blocks; ++block)
    for (size_t v = 0; v < partial[block]->size(); ++v) merged.add(partial[block]->key(v), partial[block]->sum(v));

  Points out(merged.size());
  for (size_t v = 0; v < merged.size(); ++v) out[v] = merged.sum(v).head<3>() / merged.sum(v)[3];
  return out;
}

inline Points voxel_downsample(const Points& points, double voxel_size) {
  return voxel_downsample(points.empty() ? nullptr : points.front().data(), points.size(), voxel_size);
}

}  // namespace twin
