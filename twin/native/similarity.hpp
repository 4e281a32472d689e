// Umeyama's closed form: the rotation, translation and (optionally) one scale that best map
// source points onto paired target points in the least-squares sense.
#pragma once
#include <Eigen/Dense>

#include <optional>

namespace twin {

// Points are the columns of `source` and `target` (3 x n, the same n >= 3). Returns the 4x4
// transform T with T.topLeftCorner<3,3>() = s * R, or nothing when the pairs cannot fix it
// (fewer than 3 pairs, or source points on one line or one spot).
template <typename SourceMatrix, typename TargetMatrix>
std::optional<Eigen::Matrix4d> estimate_similarity(const Eigen::MatrixBase<SourceMatrix>& source,
                                                   const Eigen::MatrixBase<TargetMatrix>& target,
                                                   bool with_scale) {
  const Eigen::Index n = source.cols();
  if (n < 3 || target.cols() != n) return std::nullopt;
  const Eigen::Vector3d source_mean = source.rowwise().mean();
  const Eigen::Vector3d target_mean = target.rowwise().mean();
  Eigen::Matrix3d covariance = Eigen::Matrix3d::Zero();
  double source_variance = 0.0;
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::Vector3d s = source.col(k) - source_mean;
    covariance.noalias() += (target.col(k) - target_mean) * s.transpose();
    source_variance += s.squaredNorm();
  }
  covariance /= static_cast<double>(n);
  source_variance /= static_cast<double>(n);

  const Eigen::JacobiSVD<Eigen::Matrix3d> svd(covariance, Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Eigen::Vector3d singular = svd.singularValues();
  // Collinear (or coincident) pairs leave the rotation about their line free.
  if (!(source_variance > 0.0) || !(singular(1) > 1e-9 * singular(0))) return std::nullopt;

  Eigen::Vector3d sign = Eigen::Vector3d::Ones();
  if (svd.matrixU().determinant() * svd.matrixV().determinant() < 0.0) sign(2) = -1.0;
  const Eigen::Matrix3d rotation = svd.matrixU() * sign.asDiagonal() * svd.matrixV().transpose();
  const double scale = with_scale ? singular.dot(sign) / source_variance : 1.0;
  if (!(scale > 0.0)) return std::nullopt;

  Eigen::Matrix4d T = Eigen::Matrix4d::Identity();
  T.topLeftCorner<3, 3>() = scale * rotation;
  T.topRightCorner<3, 1>() = target_mean - scale * rotation * source_mean;
  return T;
}

}  // namespace twin
