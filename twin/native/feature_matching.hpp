// Correspondences between two clouds by nearest neighbours in feature space (e.g. FPFH):
// mutual nearest neighbours, optionally with Lowe's ratio test.
//
// Usage:
//   twin::Correspondences c = twin::match_features(source_features, target_features, true, 0.0);
//   // c[k] = {source index, target index}
//
// Exhaustive search with blocked matrix products (|a|^2 + |b|^2 - 2 a.b, in float): for the few
// thousand features of a downsampled cloud this is faster than a 33-dimensional tree, and each
// row's answer is independent of the thread count (fixed blocks; ties go to the lower index).
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "parallel.hpp"

namespace twin {

using Correspondences = std::vector<std::pair<int, int>>;

namespace matching_detail {

using FloatRows = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Nearest {
  std::vector<int> index;          // nearest row of `to` for each row of `from`
  std::vector<float> ratio;        // nearest over second-nearest distance (1 where undefined)
};

inline Nearest nearest_rows(const FloatRows& from, const FloatRows& to) {
  constexpr int64_t kBlock = 128;
  const int64_t n = from.rows();
  const Eigen::VectorXf to_norms = to.rowwise().squaredNorm();
  Nearest out{std::vector<int>(n, -1), std::vector<float>(n, 1.0f)};
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for num_threads(max_threads()) schedule(dynamic)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kBlock, rows = std::min(kBlock, n - begin);
    // Eigen runs this product on one thread inside the parallel loop.
    const Eigen::MatrixXf dot = from.middleRows(begin, rows) * to.transpose();
    for (int64_t r = 0; r < rows; ++r) {
      float best = std::numeric_limits<float>::infinity(), second = best;
      int best_index = -1;
      for (int64_t c = 0; c < to.rows(); ++c) {
        const float d2 = to_norms(c) - 2.0f * dot(r, c);  // + |from row|^2, the same for every c
        if (d2 < best) {
          second = best;
          best = d2;
          best_index = static_cast<int>(c);
        } else if (d2 < second) {
          second = d2;
        }
      }
      const float own = from.row(begin + r).squaredNorm();
      const float nearest = std::max(best + own, 0.0f), next = std::max(second + own, 0.0f);
      out.index[begin + r] = best_index;
      out.ratio[begin + r] = next > 0.0f && std::isfinite(next) ? std::sqrt(nearest / next) : 1.0f;
    }
  }
  return out;
}

}  // namespace matching_detail

// ratio > 0 also drops source features whose nearest target is not clearly nearer than the
// second nearest (nearest / second nearest distance >= ratio).
template <typename SourceFeatures, typename TargetFeatures>
Correspondences match_features(const Eigen::MatrixBase<SourceFeatures>& source, const Eigen::MatrixBase<TargetFeatures>& target,
                               bool mutual, double ratio) {
  using matching_detail::FloatRows;
  const FloatRows s = source.template cast<float>(), t = target.template cast<float>();
  Correspondences out;
  if (s.rows() == 0 || t.rows() == 0) return out;
  const matching_detail::Nearest forward = matching_detail::nearest_rows(s, t);
  matching_detail::Nearest backward;
  if (mutual) backward = matching_detail::nearest_rows(t, s);
  for (int i = 0; i < static_cast<int>(s.rows()); ++i) {
    const int j = forward.index[i];
    if (mutual && backward.index[j] != i) continue;
    if (ratio > 0.0 && forward.ratio[i] >= ratio) continue;
    out.emplace_back(i, j);
  }
  return out;
}

}  // namespace twin
