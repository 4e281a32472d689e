// Pose-graph optimisation over SE(3): Levenberg-Marquardt on a sparse system, with graduated
// non-convexity (Geman-McClure line processes) to find and drop wrong loop-closure edges.
#pragma once
#include <Eigen/Dense>
#include <Eigen/Sparse>
#include <Eigen/SparseCholesky>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "lie.hpp"

namespace twin {

// T_i_j maps node j's coordinates into node i's frame. The information matrix weighs the
// error [rotation vector; translation] of that edge, expressed in node i's frame (Open3D's
// order and definition, as IcpResult::information). Uncertain edges (loop closures) may be wrong.
struct PoseGraphEdge {
  int i = 0;
  int j = 0;
  Eigen::Matrix4d T_i_j = Eigen::Matrix4d::Identity();
  Matrix6d information = Matrix6d::Identity();
  bool uncertain = false;
};

struct PoseGraphOptions {
  // An uncertain edge is rejected when it would move the points it was measured on by more
  // than this (root mean square, metres) in the optimised graph.
  double outlier_distance_m = 0.1;
  int max_iterations = 100;            // Levenberg-Marquardt iterations of the final solve
  int gnc_iterations = 10;             // ... and of each warm-started step of the non-convexity
  double relative_tolerance = 1e-8;    // stop when the cost decreases less than this, relatively
  double gnc_factor = 1.4;             // shrink of the non-convexity per step (TEASER++'s choice)
  double gnc_start = 16.0;             // widest kernel: (4 x outlier distance)^2, nearly least squares
};

struct PoseGraphResult {
  std::vector<Eigen::Matrix4d> poses;  // T_world_node; node 0 keeps its initial pose
  std::vector<bool> edge_accepted;     // false for uncertain edges found to be wrong
  double initial_cost = 0.0;
  double final_cost = 0.0;
  int iterations = 0;
};

namespace pose_graph_detail {

inline Eigen::Vector3d rotation_vector(const Eigen::Matrix3d& R) {
  const Eigen::AngleAxisd angle_axis(R);
  return angle_axis.angle() * angle_axis.axis();
}

// Inverse of SO(3)'s left Jacobian: how the rotation vector of Exp(w) R moves with small w.
inline Eigen::Matrix3d inverse_left_jacobian(const Eigen::Vector3d& phi) {
  const double angle = std::min(phi.norm(), M_PI - 1e-6);  // wrong edges may sit near pi
  const Eigen::Matrix3d Phi = skew(phi);
  if (angle < 1e-6) return Eigen::Matrix3d::Identity() - 0.5 * Phi;
  const double c = 1.0 / (angle * angle) - (1.0 + std::cos(angle)) / (2.0 * angle * std::sin(angle));
  return Eigen::Matrix3d::Identity() - 0.5 * Phi + c * Phi * Phi;
}

struct Linearised {
  Vector6d error;
  Matrix6d jacobian_j;  // of the error w.r.t. a world-frame increment of node j; node i's is its negative
};

// Error of edge i->j: E = P_i^-1 P_j T_i_j^-1 (the identity when the poses agree), as
// [rotation vector; translation]. A world increment Exp(d) P_k moves E by Exp(+-Ad(P_i^-1) d).
inline Linearised linearise(const Eigen::Matrix4d& P_i, const Eigen::Matrix4d& P_j, const Eigen::Matrix4d& T_i_j,
                            bool with_jacobian) {
  Eigen::Matrix4d P_i_inv = Eigen::Matrix4d::Identity();
  P_i_inv.topLeftCorner<3, 3>() = P_i.topLeftCorner<3, 3>().transpose();
  P_i_inv.topRightCorner<3, 1>() = -P_i_inv.topLeftCorner<3, 3>() * P_i.topRightCorner<3, 1>();
  Eigen::Matrix4d T_inv = Eigen::Matrix4d::Identity();
  T_inv.topLeftCorner<3, 3>() = T_i_j.topLeftCorner<3, 3>().transpose();
  T_inv.topRightCorner<3, 1>() = -T_inv.topLeftCorner<3, 3>() * T_i_j.topRightCorner<3, 1>();
  const Eigen::Matrix4d E = P_i_inv * P_j * T_inv;
  Linearised out;
  out.error.head<3>() = rotation_vector(E.topLeftCorner<3, 3>());
  out.error.tail<3>() = E.topRightCorner<3, 1>();
  if (!with_jacobian) return out;
  Matrix6d d_error_d_left = Matrix6d::Zero();  // d error / d xi for Exp(xi) E
  d_error_d_left.topLeftCorner<3, 3>() = inverse_left_jacobian(out.error.head<3>());
  d_error_d_left.bottomLeftCorner<3, 3>() = -skew(out.error.tail<3>());
  d_error_d_left.bottomRightCorner<3, 3>() = Eigen::Matrix3d::Identity();
  Matrix6d adjoint = Matrix6d::Zero();  // Ad(P_i^-1) for [rotation; translation] increments
  const Eigen::Matrix3d R = P_i_inv.topLeftCorner<3, 3>();
  adjoint.topLeftCorner<3, 3>() = R;
  adjoint.bottomLeftCorner<3, 3>() = skew(P_i_inv.topRightCorner<3, 1>()) * R;
  adjoint.bottomRightCorner<3, 3>() = R;
  out.jacobian_j = d_error_d_left * adjoint;
  return out;
}

// e^T Lambda e divided by the information's translational weight: for ICP's information
// (a sum over point pairs) that is the mean squared displacement of those points, in m^2.
inline double squared_displacement(const Vector6d& error, const Matrix6d& information) {
  const double translational_weight = information.bottomRightCorner<3, 3>().trace() / 3.0;
  return error.dot(information * error) / std::max(translational_weight, 1e-300);
}

class Solver {
 public:
  Solver(std::vector<Eigen::Matrix4d> poses, const std::vector<PoseGraphEdge>& edges, const PoseGraphOptions& options)
      : poses_(std::move(poses)), edges_(edges), options_(options), weights_(edges.size(), 1.0) {}

  std::vector<Eigen::Matrix4d>& poses() { return poses_; }
  std::vector<double>& weights() { return weights_; }
  int iterations() const { return iterations_; }

  double cost(const std::vector<Eigen::Matrix4d>& poses) const {
    double total = 0.0;
    for (size_t e = 0; e < edges_.size(); ++e) {
      if (weights_[e] <= 0.0) continue;
      const PoseGraphEdge& edge = edges_[e];
      const Vector6d error = linearise(poses[edge.i], poses[edge.j], edge.T_i_j, false).error;
      total += weights_[e] * error.dot(edge.information * error);
    }
    return total;
  }

  // Levenberg-Marquardt with the current edge weights; node 0 stays fixed (it sets the gauge).
  void solve(int max_iterations) {
    const int variables = 6 * (static_cast<int>(poses_.size()) - 1);
    if (variables == 0) return;
    double current = cost(poses_);
    double lambda = 1e-4;
    Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> ldlt;
    for (int iteration = 0; iteration < max_iterations; ++iteration) {
      ++iterations_;
      Eigen::SparseMatrix<double> H(variables, variables);
      Eigen::VectorXd gradient = Eigen::VectorXd::Zero(variables);
      assemble(H, gradient);
      const Eigen::VectorXd diagonal = H.diagonal();
      // A floor on the damping keeps unconstrained nodes (all their edges rejected) where they are.
      const double floor = 1e-12 * std::max(diagonal.maxCoeff(), 1e-300);
      if (iteration == 0) ldlt.analyzePattern(H);  // the pattern is fixed while the weights are
      bool improved = false;
      while (!improved && lambda < 1e12) {
        Eigen::SparseMatrix<double> damped = H;
        for (int k = 0; k < variables; ++k) damped.coeffRef(k, k) += lambda * diagonal(k) + floor;
        ldlt.factorize(damped);
        if (ldlt.info() != Eigen::Success) { lambda *= 10.0; continue; }
        const Eigen::VectorXd step = ldlt.solve(-gradient);
        std::vector<Eigen::Matrix4d> candidate = poses_;
        for (size_t n = 1; n < poses_.size(); ++n) candidate[n] = se3_exp(step.segment<6>(6 * (n - 1))) * poses_[n];
        const double updated = cost(candidate);
        if (std::isfinite(updated) && updated < current) {
          poses_ = std::move(candidate);
          const double decrease = (current - updated) / std::max(current, 1e-300);
          current = updated;
          lambda = std::max(lambda / 10.0, 1e-12);
          improved = true;
          if (decrease < options_.relative_tolerance) return;
        } else {
          lambda *= 10.0;
        }
      }
      if (!improved) return;  // no step lowers the cost: at a minimum
    }
  }

 private:
  void assemble(Eigen::SparseMatrix<double>& H, Eigen::VectorXd& gradient) const {
    std::vector<Eigen::Triplet<double>> triplets;
    triplets.reserve(edges_.size() * 4 * 36 + H.rows());
    for (Eigen::Index k = 0; k < H.rows(); ++k) triplets.emplace_back(k, k, 0.0);  // room for the damping
    auto add_block = [&](int a, int b, const Matrix6d& block) {
      for (int r = 0; r < 6; ++r)
        for (int c = 0; c < 6; ++c) triplets.emplace_back(6 * (a - 1) + r, 6 * (b - 1) + c, block(r, c));
    };
    for (size_t e = 0; e < edges_.size(); ++e) {
      if (weights_[e] <= 0.0) continue;
      const PoseGraphEdge& edge = edges_[e];
      if (edge.i == edge.j) continue;
      const Linearised lin = linearise(poses_[edge.i], poses_[edge.j], edge.T_i_j, true);
      const Matrix6d W = weights_[e] * edge.information;
      const Matrix6d JtW = lin.jacobian_j.transpose() * W;
      const Matrix6d block = JtW * lin.jacobian_j;
      const Vector6d g = JtW * lin.error;
      // d error / d node i = -J, d error / d node j = +J.
      if (edge.i != 0) { add_block(edge.i, edge.i, block); gradient.segment<6>(6 * (edge.i - 1)) -= g; }
      if (edge.j != 0) { add_block(edge.j, edge.j, block); gradient.segment<6>(6 * (edge.j - 1)) += g; }
      if (edge.i != 0 && edge.j != 0) { add_block(edge.i, edge.j, -block); add_block(edge.j, edge.i, -block); }
    }
    H.setFromTriplets(triplets.begin(), triplets.end());
  }

  std::vector<Eigen::Matrix4d> poses_;
  const std::vector<PoseGraphEdge>& edges_;
  PoseGraphOptions options_;
  std::vector<double> weights_;
  int iterations_ = 0;
};

}  // namespace pose_graph_detail

// Poses are T_world_node. Throws std::invalid_argument for edges naming missing nodes.
inline PoseGraphResult optimize_pose_graph(std::vector<Eigen::Matrix4d> poses, const std::vector<PoseGraphEdge>& edges,
                                           const PoseGraphOptions& options = {}) {
  using namespace pose_graph_detail;
  const int nodes = static_cast<int>(poses.size());
  for (const PoseGraphEdge& edge : edges)
    if (edge.i < 0 || edge.j < 0 || edge.i >= nodes || edge.j >= nodes)
      throw std::invalid_argument("an edge joins node " + std::to_string(edge.i) + " and node " +
                                  std::to_string(edge.j) + " but the graph has " + std::to_string(nodes) +
                                  " nodes; give node indices from 0 to " + std::to_string(nodes - 1));

  Solver solver(std::move(poses), edges, options);
  PoseGraphResult result;
  result.initial_cost = solver.cost(solver.poses());
  const double c2 = options.outlier_distance_m * options.outlier_distance_m;
  auto displacement = [&](size_t e) {
    const PoseGraphEdge& edge = edges[e];
    const Vector6d error = linearise(solver.poses()[edge.i], solver.poses()[edge.j], edge.T_i_j, false).error;
    return squared_displacement(error, edge.information);
  };

  // Graduated non-convexity: Geman-McClure weights on uncertain edges, starting nearly convex
  // (mu large) and tightening to the true kernel (mu = 1), solving at each step. The initial
  // poses (usually chained odometry) give the first residuals.
  double largest = 0.0;
  for (size_t e = 0; e < edges.size(); ++e)
    if (edges[e].uncertain) largest = std::max(largest, displacement(e));
  for (double mu = std::min(2.0 * largest / c2, options.gnc_start); mu > 1.0; mu /= options.gnc_factor) {
    for (size_t e = 0; e < edges.size(); ++e) {
      if (!edges[e].uncertain) continue;
      const double ratio = mu * c2 / (displacement(e) + mu * c2);
      solver.weights()[e] = ratio * ratio;
    }
    solver.solve(options.gnc_iterations);
  }

  // Keep the uncertain edges that agree with the graph to within the outlier distance and solve
  // once more with plain least squares on what was kept.
  result.edge_accepted.assign(edges.size(), true);
  for (size_t e = 0; e < edges.size(); ++e) {
    if (!edges[e].uncertain) continue;
    result.edge_accepted[e] = displacement(e) < c2;
    solver.weights()[e] = result.edge_accepted[e] ? 1.0 : 0.0;
  }
  solver.solve(options.max_iterations);
  result.final_cost = solver.cost(solver.poses());
  result.iterations = solver.iterations();
  result.poses = std::move(solver.poses());
  return result;
}

}  // namespace twin
