// Morton (z-order) codes of points and the permutation that sorts them: the spatial order of
// exported clouds and the keys of their LOD octree (twin/export/tiles.py).
//
// A code interleaves the bits of a point's cell coordinates in a cube split into 2^21 cells per
// axis, x in the lowest bit. Sorting uses a least-significant-digit radix sort (11-bit digits,
// passes whose digit is the same for every key skipped), stable and linear in the point count.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "parallel.hpp"

namespace twin {

constexpr int kMortonLevels = 21;  // bits per axis: 3 * 21 = 63 bits

inline uint64_t spread_bits_21(uint64_t v) {
  v &= 0x1FFFFF;
  v = (v | v << 32) & 0x1F00000000FFFFull;
  v = (v | v << 16) & 0x1F0000FF0000FFull;
  v = (v | v << 8) & 0x100F00F00F00F00Full;
  v = (v | v << 4) & 0x10C30C30C30C30C3ull;
  v = (v | v << 2) & 0x1249249249249249ull;
  return v;
}

// Codes of n points (xyz, row-major) in the cube with min corner `origin` and edge `size`;
// points outside the cube are clamped onto its faces.
inline std::vector<uint64_t> morton_codes(const double* xyz, size_t n, const double origin[3], double size) {
  std::vector<uint64_t> codes(n);
  const double cells = static_cast<double>(1u << kMortonLevels);
  const double scale = cells / size;
  const double top = cells - 1;
#pragma omp parallel for num_threads(twin::max_threads()) schedule(static)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    uint64_t code = 0;
    for (int axis = 0; axis < 3; ++axis) {
      double c = (xyz[3 * i + axis] - origin[axis]) * scale;
      c = c < 0 ? 0 : (c > top ? top : c);
      code |= spread_bits_21(static_cast<uint64_t>(c)) << axis;
    }
    codes[i] = code;
  }
  return codes;
}

// Sorts `codes` in place and returns the permutation: sorted[k] = original[order[k]]; stable.
inline std::vector<int64_t> radix_sort_with_order(std::vector<uint64_t>& codes) {
  constexpr int kDigitBits = 11;
  constexpr int kPasses = (64 + kDigitBits - 1) / kDigitBits;
  constexpr size_t kBuckets = size_t(1) << kDigitBits;
  const size_t n = codes.size();
  std::vector<std::array<size_t, kBuckets>> counts(kPasses);
  for (auto& c : counts) c.fill(0);
  for (uint64_t code : codes)
    for (int p = 0; p < kPasses; ++p) ++counts[p][(code >> (p * kDigitBits)) & (kBuckets - 1)];

  std::vector<int64_t> order(n), order_tmp(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(i);
  std::vector<uint64_t> codes_tmp(n);
  for (int p = 0; p < kPasses; ++p) {
    auto& count = counts[p];
    if (n == 0 || std::find(count.begin(), count.end(), n) != count.end()) continue;  // one digit for all: nothing moves
    size_t offset = 0;
    for (auto& c : count) {
      const size_t here = c;
      c = offset;
      offset += here;
    }
    const int shift = p * kDigitBits;
    for (size_t i = 0; i < n; ++i) {
      const size_t slot = count[(codes[i] >> shift) & (kBuckets - 1)]++;
      codes_tmp[slot] = codes[i];
      order_tmp[slot] = order[i];
    }
    codes.swap(codes_tmp);
    order.swap(order_tmp);
  }
  return order;
}

}  // namespace twin
