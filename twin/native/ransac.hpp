// RANSAC over putative correspondences (e.g. from FPFH matching): rigid or similarity
// transforms from 3 pairs, pruned by Open3D's checkers (edge lengths, then distances), scored by
// how many correspondences they bring within the inlier distance, refined on the inliers.
//
// Usage:
//   twin::RansacSettings s; s.inlier_distance = 1.5 * voxel; s.seed = 0;
//   twin::RansacResult r = twin::ransac(source_xyz, target_xyz, s);   // 3 x K each, column k paired
//   r.T_target_source; r.inliers; r.hypotheses;
//
// Determinism: hypothesis h draws its 3 pairs from its own generator, seeded from (seed, h).
// Hypotheses run in fixed-size batches spread over threads; after each batch the best is chosen
// in hypothesis order and the stopping rule is checked, so 1 or 16 threads give the same answer.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "parallel.hpp"
#include "similarity.hpp"

namespace twin {

struct RansacSettings {
  double inlier_distance = 0.075;      // metres in the target frame
  double edge_length_similarity = 0.9;  // Open3D's checker: paired edge lengths within this ratio
  bool with_scale = false;              // similarity (one scale) instead of rigid
  int max_hypotheses = 100000;
  double confidence = 0.999;  // stop once an all-inlier sample has been drawn with this probability
  uint64_t seed = 0;
};

struct RansacResult {
  Eigen::Matrix4d T_target_source = Eigen::Matrix4d::Identity();
  std::vector<bool> inliers;  // per correspondence
  int num_inliers = 0;
  double inlier_rmse = 0.0;
  int hypotheses = 0;  // drawn, including those the checkers rejected
  bool found = false;  // false when no sample passed the checkers
};

namespace ransac_detail {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Three distinct correspondence indices for hypothesis h.
inline void draw_sample(uint64_t seed, int64_t h, int count, int sample[3]) {
  uint64_t state = seed ^ (0xD1B54A32D192ED03ull * static_cast<uint64_t>(h + 1));
  for (int k = 0; k < 3; ++k) {
    bool repeated = true;
    while (repeated) {
      sample[k] = static_cast<int>(splitmix64(state) % static_cast<uint64_t>(count));
      repeated = false;
      for (int m = 0; m < k; ++m) repeated |= sample[m] == sample[k];
    }
  }
}

struct Score {
  int inliers = 0;
  double squared_error = 0.0;
  bool better_than(const Score& other) const {
    return inliers > other.inliers || (inliers == other.inliers && squared_error < other.squared_error);
  }
};

template <typename M>
Score score(const Eigen::Matrix4d& T, const M& source, const M& target, double inlier_distance) {
  Score s;
  const double bound = inlier_distance * inlier_distance;
  const Eigen::Matrix3d A = T.topLeftCorner<3, 3>();
  const Eigen::Vector3d b = T.topRightCorner<3, 1>();
  for (Eigen::Index k = 0; k < source.cols(); ++k) {
    const double d2 = (A * source.col(k) + b - target.col(k)).squaredNorm();
    if (d2 < bound) {
      ++s.inliers;
      s.squared_error += d2;
    }
  }
  return s;
}

// Open3D's edge-length checker; with scale, the three length ratios must agree instead.
template <typename M>
bool edges_agree(const M& source, const M& target, const int sample[3], const RansacSettings& settings) {
  double ratios[3];
  for (int e = 0; e < 3; ++e) {
    const int a = sample[e], b = sample[(e + 1) % 3];
    const double ls = (source.col(a) - source.col(b)).norm(), lt = (target.col(a) - target.col(b)).norm();
    if (!(ls > 0.0) || !(lt > 0.0)) return false;
    ratios[e] = lt / ls;
  }
  const double lo = std::min({ratios[0], ratios[1], ratios[2]}), hi = std::max({ratios[0], ratios[1], ratios[2]});
  if (settings.with_scale) return lo > settings.edge_length_similarity * hi;
  return lo > settings.edge_length_similarity && hi * settings.edge_length_similarity < 1.0;
}

}  // namespace ransac_detail

template <typename M>
RansacResult ransac(const M& source, const M& target, const RansacSettings& settings) {
  using namespace ransac_detail;
  constexpr int64_t kBatch = 2048;  // few enough joins of the threads, little overshoot
  RansacResult result;
  const int count = static_cast<int>(source.cols());
  result.inliers.assign(count, false);
  if (count < 3 || target.cols() != count) return result;

  Score best;
  int64_t best_hypothesis = -1;
  int64_t needed = settings.max_hypotheses;
  std::vector<Score> scores(kBatch);
  std::vector<Eigen::Matrix4d> transforms(kBatch);
  int64_t drawn = 0;
  while (drawn < needed) {
    const int64_t batch = std::min(kBatch, needed - drawn);
#pragma omp parallel for num_threads(max_threads()) schedule(static)
    for (int64_t k = 0; k < batch; ++k) {
      scores[k] = Score{};
      int sample[3];
      draw_sample(settings.seed, drawn + k, count, sample);
      if (!edges_agree(source, target, sample, settings)) continue;
      Eigen::Matrix3d s3, t3;
      for (int m = 0; m < 3; ++m) {
        s3.col(m) = source.col(sample[m]);
        t3.col(m) = target.col(sample[m]);
      }
      const auto T = estimate_similarity(s3, t3, settings.with_scale);
      if (!T) continue;
      // Open3D's distance checker: the sample itself must land within the inlier distance.
      if (score(*T, s3, t3, settings.inlier_distance).inliers < 3) continue;
      transforms[k] = *T;
      scores[k] = score(*T, source, target, settings.inlier_distance);
    }
    for (int64_t k = 0; k < batch; ++k) {  // in hypothesis order: the earliest of equals wins
      if (scores[k].inliers >= 3 && scores[k].better_than(best)) {
        best = scores[k];
        best_hypothesis = drawn + k;
        result.T_target_source = transforms[k];
      }
    }
    drawn += batch;
    if (best_hypothesis >= 0) {
      const double inlier_ratio = static_cast<double>(best.inliers) / count;
      const double all_inlier = std::pow(inlier_ratio, 3);
      if (all_inlier >= 1.0) break;
      const double estimate = std::log(1.0 - settings.confidence) / std::log(1.0 - all_inlier);
      needed = std::min<int64_t>(settings.max_hypotheses, static_cast<int64_t>(std::ceil(estimate)));
    }
  }
  result.hypotheses = static_cast<int>(drawn);
  if (best_hypothesis < 0) return result;
  result.found = true;

  // Refit on the inliers while that gains inliers (local optimisation of the winner).
  for (int round = 0; round < 10; ++round) {
    Eigen::Matrix3Xd s(3, count), t(3, count);
    const double bound = settings.inlier_distance * settings.inlier_distance;
    int m = 0;
    const Eigen::Matrix4d& T = result.T_target_source;
    for (int k = 0; k < count; ++k) {
      if ((T.topLeftCorner<3, 3>() * source.col(k) + T.topRightCorner<3, 1>() - target.col(k)).squaredNorm() < bound) {
        s.col(m) = source.col(k);
        t.col(m) = target.col(k);
        ++m;
      }
    }
    const auto refit = estimate_similarity(s.leftCols(m), t.leftCols(m), settings.with_scale);
    if (!refit) break;
    const Score refit_score = score(*refit, source, target, settings.inlier_distance);
    if (!refit_score.better_than(best)) break;
    best = refit_score;
    result.T_target_source = *refit;
  }
  const Eigen::Matrix4d& T = result.T_target_source;
  const double bound = settings.inlier_distance * settings.inlier_distance;
  for (int k = 0; k < count; ++k)
    result.inliers[k] =
        (T.topLeftCorner<3, 3>() * source.col(k) + T.topRightCorner<3, 1>() - target.col(k)).squaredNorm() < bound;
  result.num_inliers = best.inliers;
  result.inlier_rmse = std::sqrt(best.squared_error / std::max(best.inliers, 1));
  return result;
}

}  // namespace twin
