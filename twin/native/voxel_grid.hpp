// Voxel-grid downsampling: one point (the centroid) per occupied cubic voxel.
//
// Usage:
//   twin::Points down = twin::voxel_downsample(points, 0.25);      // std::vector<Eigen::Vector3d>
//   twin::Points down = twin::voxel_downsample(xyz, n, 0.25);      // C-contiguous (n, 3) float64
//   // voxels come out in the order in which the input first touches them (deterministic)
//
// Throws std::invalid_argument for a voxel size that is not positive and finite, for non-finite
// coordinates, and for clouds too large for the voxel size (more than 2^20 voxels from the origin
// along an axis). Voxel keys are computed in parallel; one open-addressing hash table then
// accumulates the sums in a single pass, which beats sorting for the cloud sizes we see.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <cstdint>
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
    const double c = std::floor(p[axis] * inv_size);
    if (!(c >= -double(kVoxelKeyOffset) && c < double(kVoxelKeyOffset))) return false;
    key = (key << kVoxelKeyBits) | static_cast<uint64_t>(static_cast<int64_t>(c) + kVoxelKeyOffset);
  }
  return true;
}

}  // namespace detail

inline Points voxel_downsample(const double* xyz, size_t n, double voxel_size) {
  if (!(voxel_size > 0.0) || !std::isfinite(voxel_size))
    throw std::invalid_argument("voxel size must be a positive finite number of metres, got " +
                                std::to_string(voxel_size));
  if (n == 0) return {};
  const double inv = 1.0 / voxel_size;
  std::vector<uint64_t> keys(n);
  int64_t bad = -1;
#pragma omp parallel for num_threads(max_threads()) schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    if (!detail::voxel_key(xyz + 3 * i, inv, keys[i])) {
#pragma omp critical(twin_voxel_bad)
      bad = (bad < 0 || i < bad) ? i : bad;
    }
  }
  if (bad >= 0) {
    const double* p = xyz + 3 * bad;
    throw std::invalid_argument(
        "point " + std::to_string(bad) + " (" + std::to_string(p[0]) + ", " + std::to_string(p[1]) +
        ", " + std::to_string(p[2]) + ") is not finite or lies more than 2^20 voxels of " +
        std::to_string(voxel_size) + " m from the origin; remove it, recentre the cloud or use a "
        "larger voxel size");
  }

  size_t capacity = 16;
  while (capacity < 2 * n) capacity <<= 1;
  const int shift = 64 - __builtin_ctzll(capacity);
  constexpr uint64_t kEmpty = ~uint64_t(0);
  std::vector<uint64_t> table_keys(capacity, kEmpty);
  std::vector<int32_t> table_voxels(capacity);
  std::vector<Eigen::Vector4d> sums;  // x, y, z, count
  sums.reserve(n / 4 + 16);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t key = keys[i];
    size_t slot = (key * 0x9E3779B97F4A7C15ull) >> shift;
    while (table_keys[slot] != key && table_keys[slot] != kEmpty) slot = (slot + 1) & (capacity - 1);
    if (table_keys[slot] == kEmpty) {
      table_keys[slot] = key;
      table_voxels[slot] = static_cast<int32_t>(sums.size());
      sums.emplace_back(Eigen::Vector4d::Zero());
    }
    const double* p = xyz + 3 * i;
    sums[table_voxels[slot]] += Eigen::Vector4d(p[0], p[1], p[2], 1.0);
  }

  Points out(sums.size());
#pragma omp parallel for num_threads(max_threads()) schedule(static)
  for (int64_t v = 0; v < static_cast<int64_t>(sums.size()); ++v)
    out[v] = sums[v].head<3>() / sums[v][3];
  return out;
}

inline Points voxel_downsample(const Points& points, double voxel_size) {
  return voxel_downsample(points.empty() ? nullptr : points.front().data(), points.size(), voxel_size);
}

}  // namespace twin
