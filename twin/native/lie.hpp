// SE(3) helpers for Gauss-Newton on rigid transforms: skew matrices and the exponential map.
//
// Usage:
//   Eigen::Matrix3d S = twin::skew(v);                  // S * w == v.cross(w)
//   Eigen::Matrix3d R = twin::so3_exp(omega);           // rotation vector (rad) -> rotation
//   Eigen::Matrix4d T = twin::se3_exp(xi) * T;          // xi = (omega, v): a left update
//   bool ok = twin::is_rigid(T, 1e-6);                  // orthonormal rotation, det +1, last row 0 0 0 1
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

#include <cmath>

namespace twin {

using Vector6d = Eigen::Matrix<double, 6, 1>;
using Matrix6d = Eigen::Matrix<double, 6, 6>;

inline Eigen::Matrix3d skew(const Eigen::Vector3d& v) {
  Eigen::Matrix3d s;
  s << 0.0, -v.z(), v.y(), v.z(), 0.0, -v.x(), -v.y(), v.x(), 0.0;
  return s;
}

inline Eigen::Matrix3d so3_exp(const Eigen::Vector3d& omega) {
  const double theta = omega.norm();
  if (theta < 1e-12) return Eigen::Matrix3d::Identity() + skew(omega);
  return Eigen::AngleAxisd(theta, omega / theta).toRotationMatrix();
}

// exp of the twist xi = (omega, v) with the translation taken as is: for the small steps of
// Gauss-Newton the exact SE(3) left Jacobian changes nothing but the path to the same minimum.
inline Eigen::Matrix4d se3_exp(const Vector6d& xi) {
  Eigen::Matrix4d T = Eigen::Matrix4d::Identity();
  T.topLeftCorner<3, 3>() = so3_exp(xi.head<3>());
  T.topRightCorner<3, 1>() = xi.tail<3>();
  return T;
}

inline bool is_rigid(const Eigen::Matrix4d& T, double tolerance) {
  if (!T.allFinite()) return false;
  const Eigen::Matrix3d R = T.topLeftCorner<3, 3>();
  return (R.transpose() * R - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff() < tolerance &&
         std::abs(R.determinant() - 1.0) < tolerance &&
         (T.row(3) - Eigen::RowVector4d(0, 0, 0, 1)).cwiseAbs().maxCoeff() < tolerance;
}

// Re-orthonormalises the rotation block after many multiplications.
inline Eigen::Matrix4d normalized_rigid(const Eigen::Matrix4d& T) {
  Eigen::Matrix4d out = T;
  out.topLeftCorner<3, 3>() = Eigen::Quaterniond(Eigen::Matrix3d(T.topLeftCorner<3, 3>())).normalized().toRotationMatrix();
  out.row(3) << 0, 0, 0, 1;
  return out;
}

}  // namespace twin
