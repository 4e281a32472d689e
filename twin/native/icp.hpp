// Iterative closest point: point-to-point, point-to-plane and GICP with robust kernels.
//
// Usage:
//   twin::PreparedCloud target(txyz, tn, 0.25, 10);
//   twin::PreparedCloud source(sxyz, sn, 0.25, 10, /*local_geometry=*/method == twin::IcpMethod::Gicp);
//   twin::IcpSettings s; s.max_correspondence_distance = 1.0; s.max_iterations = 64;
//   twin::IcpResult r = twin::align(source, target, twin::IcpMethod::Gicp, init_T_target_source, s);
//
// Gauss-Newton on SE(3) with left updates T <- exp(xi) T, xi = (rotation, translation). Each
// iteration finds every source point's nearest target point within the correspondence distance
// (k-d tree); the threads accumulate 6x6 systems per fixed block of points, summed once in block
// order, so results do not depend on the thread count or on scheduling. Stops when the rotation and
// translation increments both fall below their thresholds (converged) or at the iteration cap.
// fitness, inlier_rmse and information describe the correspondences of the last linearisation.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lie.hpp"
#include "parallel.hpp"
#include "prepared_cloud.hpp"
#include "robust_kernel.hpp"

namespace twin {

enum class IcpMethod { PointToPoint, PointToPlane, Gicp };

struct IcpSettings {
  double max_correspondence_distance = 1.0;  // metres
  int max_iterations = 64;
  double rotation_epsilon = 0.1 * M_PI / 180.0;  // radians per iteration
  double translation_epsilon = 1e-3;             // metres per iteration
  RobustKernel kernel;
};

struct IcpResult {
  Eigen::Matrix4d T_target_source = Eigen::Matrix4d::Identity();
  int iterations = 0;
  bool converged = false;
  double fitness = 0.0;      // inlier correspondences / source points
  double inlier_rmse = 0.0;  // metres, over inlier correspondences
  size_t num_inliers = 0;
  // Open3D's definition (usable as a pose-graph edge): sum over inlier correspondences of
  // G^T G with G = [-skew(q) | I], q the target point; rotation first.
  Matrix6d information = Matrix6d::Zero();
};

namespace detail {

// One thread's share of an iteration: the normal equations plus the correspondence statistics.
struct IcpSums {
  Matrix6d H = Matrix6d::Zero();
  Vector6d b = Vector6d::Zero();
  size_t inliers = 0;
  double sq_dist = 0.0;
  Eigen::Vector3d q_sum = Eigen::Vector3d::Zero();
  Eigen::Matrix3d qq_sum = Eigen::Matrix3d::Zero();

  void add(const IcpSums& o) {
    H += o.H;
    b += o.b;
    inliers += o.inliers;
    sq_dist += o.sq_dist;
    q_sum += o.q_sum;
    qq_sum += o.qq_sum;
  }

  Matrix6d information() const {
    Matrix6d info;
    const Eigen::Matrix3d qx = skew(q_sum);
    info.topLeftCorner<3, 3>() = qq_sum.trace() * Eigen::Matrix3d::Identity() - qq_sum;  // sum skew(q)^T skew(q)
    info.topRightCorner<3, 3>() = qx;                                                    // sum -skew(q)^T
    info.bottomLeftCorner<3, 3>() = qx.transpose();
    info.bottomRightCorner<3, 3>() = double(inliers) * Eigen::Matrix3d::Identity();
    return info;
  }
};

template <IcpMethod Method>
inline void accumulate_point(const PreparedCloud& source, const PreparedCloud& target, size_t i,
                             const Eigen::Matrix3d& R, const Eigen::Vector3d& t, double max_sq_dist,
                             const RobustKernel& kernel, IcpSums& sums) {
  const Eigen::Vector3d p = R * source.points()[i] + t;
  int j;
  double d2;
  if (!target.tree().nearest(p, j, d2, max_sq_dist)) return;
  const Eigen::Vector3d& q = target.points()[j];
  const Eigen::Vector3d r = p - q;
  ++sums.inliers;
  sums.sq_dist += d2;
  sums.q_sum += q;
  sums.qq_sum.noalias() += q * q.transpose();

  if constexpr (Method == IcpMethod::PointToPlane) {
    const Eigen::Vector3d& n = target.normals()[j];
    const double e = n.dot(r);
    Vector6d J;
    J << p.cross(n), n;
    const double w = kernel.weight(e);
    sums.H.noalias() += (w * J) * J.transpose();
    sums.b.noalias() += (w * e) * J;
  } else {
    const double w = kernel.weight(std::sqrt(d2));
    if constexpr (Method == IcpMethod::PointToPoint) {
      Eigen::Matrix<double, 3, 6> J;
      J << -skew(p), Eigen::Matrix3d::Identity();
      sums.H.noalias() += w * J.transpose() * J;
      sums.b.noalias() += w * J.transpose() * r;
    } else {
      // Fused GICP factor. Both covariances are plane discs, I - a n n^T, so their sum needs only
      // the two normals; with J = [-skew(p) | I] the 6x6 blocks are products of 3x3 matrices.
      const double a = 1.0 - kPlaneEpsilon;
      const Eigen::Vector3d& u = target.normals()[j];
      const Eigen::Vector3d m = R * source.normals()[i];
      const Eigen::Matrix3d C = 2.0 * Eigen::Matrix3d::Identity() - a * (u * u.transpose() + m * m.transpose());
      const Eigen::Matrix3d M = w * C.inverse();
      const Eigen::Vector3d Mr = M * r;
      const Eigen::Matrix3d Px = skew(p);
      const Eigen::Matrix3d PxM = Px * M;
      sums.H.topLeftCorner<3, 3>().noalias() -= PxM * Px;
      sums.H.topRightCorner<3, 3>() += PxM;
      sums.H.bottomLeftCorner<3, 3>() += PxM.transpose();
      sums.H.bottomRightCorner<3, 3>() += M;
      sums.b.head<3>() += p.cross(Mr);
      sums.b.tail<3>() += Mr;
    }
  }
}

template <IcpMethod Method>
inline IcpSums linearize(const PreparedCloud& source, const PreparedCloud& target, const Eigen::Matrix4d& T,
                         const IcpSettings& settings) {
  const Eigen::Matrix3d R = T.topLeftCorner<3, 3>();
  const Eigen::Vector3d t = T.topRightCorner<3, 1>();
  const double max_sq_dist = settings.max_correspondence_distance * settings.max_correspondence_distance;
  // Fixed blocks of source points, handed out dynamically (a thread that the OS pauses does not
  // hold up the others); each block accumulates its own system and the blocks are summed once,
  // in order, so the result depends neither on the thread count nor on scheduling.
  constexpr int64_t kBlock = 512;
  const int64_t n = static_cast<int64_t>(source.points().size());
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<IcpSums> parts(blocks);
#pragma omp parallel for num_threads(max_threads()) schedule(dynamic, 1)
  for (int64_t block = 0; block < blocks; ++block) {
    IcpSums local;
    for (int64_t i = block * kBlock, end = std::min(n, i + kBlock); i < end; ++i)
      accumulate_point<Method>(source, target, static_cast<size_t>(i), R, t, max_sq_dist, settings.kernel, local);
    parts[block] = local;
  }
  IcpSums total;
  for (const IcpSums& part : parts) total.add(part);
  return total;
}

template <IcpMethod Method>
inline IcpResult align_with(const PreparedCloud& source, const PreparedCloud& target, const Eigen::Matrix4d& init,
                            const IcpSettings& settings) {
  IcpResult result;
  Eigen::Matrix4d T = init;
  for (int iteration = 0; iteration < settings.max_iterations; ++iteration) {
    const IcpSums sums = linearize<Method>(source, target, T, settings);
    result.iterations = iteration + 1;
    result.num_inliers = sums.inliers;
    result.fitness = double(sums.inliers) / double(source.points().size());
    result.inlier_rmse = sums.inliers ? std::sqrt(sums.sq_dist / double(sums.inliers)) : 0.0;
    result.information = sums.information();
    if (sums.inliers < 3) break;  // nothing to align to: report not converged

    const Vector6d xi = sums.H.ldlt().solve(-sums.b);
    if (!xi.allFinite()) break;
    T = normalized_rigid(se3_exp(xi) * T);
    if (xi.head<3>().norm() < settings.rotation_epsilon && xi.tail<3>().norm() < settings.translation_epsilon) {
      result.converged = true;
      break;
    }
  }
  result.T_target_source = T;
  return result;
}

}  // namespace detail

inline IcpResult align(const PreparedCloud& source, const PreparedCloud& target, IcpMethod method,
                       const Eigen::Matrix4d& init_T_target_source, const IcpSettings& settings) {
  if (!(settings.max_correspondence_distance > 0.0) || !std::isfinite(settings.max_correspondence_distance))
    throw std::invalid_argument("the maximum correspondence distance must be a positive number of metres");
  if (settings.max_iterations < 1) throw std::invalid_argument("the iteration cap must be at least 1");
  if (!(settings.rotation_epsilon >= 0.0) || !(settings.translation_epsilon >= 0.0))
    throw std::invalid_argument("convergence thresholds must be non-negative");
  if (settings.kernel.type != KernelType::None && !(settings.kernel.scale > 0.0))
    throw std::invalid_argument("the robust kernel's scale must be a positive number of metres");
  if (!is_rigid(init_T_target_source, 1e-6))
    throw std::invalid_argument("the initial transform is not rigid: it needs an orthonormal rotation with "
                                "determinant +1 and a last row of 0 0 0 1");
  if (!target.has_local_geometry())
    throw std::invalid_argument("the target was prepared without normals and covariances");
  switch (method) {
    case IcpMethod::PointToPoint: return detail::align_with<IcpMethod::PointToPoint>(source, target, init_T_target_source, settings);
    case IcpMethod::PointToPlane: return detail::align_with<IcpMethod::PointToPlane>(source, target, init_T_target_source, settings);
    case IcpMethod::Gicp:
      if (!source.has_local_geometry())
        throw std::invalid_argument("GICP needs the source's covariances: prepare it with local geometry");
      return detail::align_with<IcpMethod::Gicp>(source, target, init_T_target_source, settings);
  }
  throw std::invalid_argument("unknown ICP method");
}

}  // namespace twin
