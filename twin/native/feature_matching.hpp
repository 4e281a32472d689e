// Correspondences between two clouds by nearest neighbours in feature space (e.g. FPFH):
// mutual nearest neighbours, optionally with Lowe's ratio test.
//
// Usage:
//   twin::Correspondences c = twin::match_features(source_features, target_features, true, 0.0);
//   // c[k] = {source index, target index}
//
// Exhaustive search with blocked matrix products (|a|^2 + |b|^2 - 2 a.b, in float), both ways in
// one pass: for the few thousand features of a downsampled cloud this is faster than a
// 33-dimensional tree, and every answer is independent of the thread count (fixed blocks; ties
// go to the lower index).
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
  std::vector<int> forward;        // nearest row of `to` for each row of `from`
  std::vector<float> ratio;        // its distance over the second nearest's (1 where undefined)
  std::vector<int> backward;       // nearest row of `from` for each row of `to`
};

// Distances up to the row's own |a|^2, which changes no comparison along a row; the backward
// search adds it back. Ties go to the lower index.
inline Nearest nearest_both_ways(const FloatRows& from, const FloatRows& to) {
  constexpr int64_t kBlock = 128;
  const int64_t n = from.rows(), m = to.rows();
  const Eigen::VectorXf from_norms = from.rowwise().squaredNorm();
  const Eigen::VectorXf to_norms = to.rowwise().squaredNorm();
  Nearest out{std::vector<int>(n, -1), std::vector<float>(n, 1.0f), std::vector<int>(m, -1)};
  std::vector<float> backward_best(m, std::numeric_limits<float>::infinity());
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel num_threads(max_threads())
  {
    std::vector<float> column_best(m, std::numeric_limits<float>::infinity());
    std::vector<int> column_index(m, -1);
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t begin = b * kBlock, rows = std::min(kBlock, n - begin);
      // Eigen runs this product on one thread inside the parallel loop.
      const FloatRows dot = from.middleRows(begin, rows) * to.transpose();
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = begin + r;
        float best = std::numeric_limits<float>::infinity(), second = best;
        int best_index = -1;
        for (int64_t c = 0; c < m; ++c) {
          const float partial = to_norms(c) - 2.0f * dot(r, c);
          if (partial < best) {
            second = best;
            best = partial;
            best_index = static_cast<int>(c);
          } else if (partial < second) {
            second = partial;
          }
          const float full = partial + from_norms(i);
          if (full < column_best[c]) {  // rows arrive in increasing order within a thread
            column_best[c] = full;
            column_index[c] = static_cast<int>(i);
          }
        }
        const float nearest = std::max(best + from_norms(i), 0.0f), next = std::max(second + from_norms(i), 0.0f);
        out.forward[i] = best_index;
        out.ratio[i] = next > 0.0f && std::isfinite(next) ? std::sqrt(nearest / next) : 1.0f;
      }
    }
#pragma omp critical(twin_feature_matching)
    for (int64_t c = 0; c < m; ++c) {
      if (column_index[c] < 0) continue;
      const bool better = column_best[c] < backward_best[c] ||
                          (column_best[c] == backward_best[c] && column_index[c] < out.backward[c]);
      if (better) {
        backward_best[c] = column_best[c];
        out.backward[c] = column_index[c];
      }
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
  const matching_detail::Nearest nearest = matching_detail::nearest_both_ways(s, t);
  for (int i = 0; i < static_cast<int>(s.rows()); ++i) {
    const int j = nearest.forward[i];
    if (mutual && nearest.backward[j] != i) continue;
    if (ratio > 0.0 && nearest.ratio[i] >= ratio) continue;
    out.emplace_back(i, j);
  }
  return out;
}

}  // namespace twin
