"""Pose-graph optimisation over SE(3), robust to wrong loop closures.

    from twin import registration
    result = registration.optimize_pose_graph(nodes, edges)
    result.poses            # (N, 4, 4) T_world_node; node 0 keeps its initial pose
    result.edge_accepted    # (E,) bool: False for uncertain edges found to be wrong

nodes: (N, 4, 4) initial poses T_world_node (e.g. chained odometry).
edges: (i, j, T_i_j, information, uncertain) tuples. T_i_j maps node j's coordinates into node
    i's frame (registering j onto i gives T_i_j = T_target_source). information is (6, 6),
    rotation first, in node i's frame: `RegistrationResult.information` of that registration
    (None: the identity). uncertain marks loop closures that may be wrong.

The core runs Levenberg-Marquardt on a sparse system. Uncertain edges carry Geman-McClure line
processes under graduated non-convexity: the kernel starts wide (nearly least squares) and
tightens step by step, so that wrong edges lose their weight before they can bend the graph.
An uncertain edge is finally kept when it agrees with the optimised graph to within
`outlier_distance_m` (the root-mean-square displacement it implies for the points it was
measured on, using the information's own weighting), and the graph is solved once more on what
was kept.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin import _native
from twin.geometry import as_rigid_transform


@dataclass(frozen=True)
class PoseGraphResult:
    """poses: (N, 4, 4) optimised T_world_node. edge_accepted: (E,) bool, False for rejected
    uncertain edges. initial_cost / final_cost: the weighted squared error before and after.
    iterations: Levenberg-Marquardt iterations over all steps."""

    poses: np.ndarray
    edge_accepted: np.ndarray
    initial_cost: float
    final_cost: float
    iterations: int


def optimize_pose_graph(nodes, edges, outlier_distance_m: float = 0.1,
                        max_iterations: int = 100) -> PoseGraphResult:
    """Optimise the poses `nodes` (N, 4, 4) under `edges` [(i, j, T_i_j, information, uncertain)],
    dropping uncertain edges that disagree with the rest by more than `outlier_distance_m`."""
    poses = _as_poses(nodes)
    count = len(poses)
    if not (isinstance(outlier_distance_m, (int, float)) and math.isfinite(outlier_distance_m)
            and outlier_distance_m > 0):
        raise ValueError(f"outlier_distance_m must be a positive number of metres, got {outlier_distance_m!r}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, (int, np.integer)) or max_iterations < 1:
        raise ValueError(f"max_iterations must be a positive integer, got {max_iterations!r}")

    edges = list(edges)
    pairs = np.zeros((len(edges), 2), dtype=np.int64)
    transforms = np.zeros((len(edges), 4, 4))
    information = np.zeros((len(edges), 6, 6))
    uncertain = np.zeros(len(edges), dtype=bool)
    for k, edge in enumerate(edges):
        pairs[k], transforms[k], information[k], uncertain[k] = _parse_edge(edge, k, count)
    _check_connected(count, pairs)

    raw = _native.optimize_pose_graph(poses, pairs, transforms, information, uncertain,
                                      float(outlier_distance_m), int(max_iterations))
    poses, accepted = raw.poses, raw.edge_accepted  # each access copies: take them once
    poses.setflags(write=False)
    accepted.setflags(write=False)
    return PoseGraphResult(poses=poses, edge_accepted=accepted, initial_cost=raw.initial_cost,
                           final_cost=raw.final_cost, iterations=raw.iterations)


def _as_poses(nodes) -> np.ndarray:
    try:
        poses = np.ascontiguousarray(nodes, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"nodes must be an (N, 4, 4) array of poses: {error}") from None
    if poses.ndim != 3 or poses.shape[1:] != (4, 4) or len(poses) == 0:
        raise ValueError(f"nodes must be an (N, 4, 4) array of at least one pose, got shape {poses.shape}")
    for n, pose in enumerate(poses):
        as_rigid_transform(pose, f"node {n}")
    return poses


def _parse_edge(edge, k: int, count: int):
    try:
        i, j, T_i_j, info, is_uncertain = edge
    except (TypeError, ValueError):
        raise ValueError(f"edge {k} must be a tuple (i, j, T_i_j, information, uncertain)") from None
    for name, index in (("i", i), ("j", j)):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < count:
            raise ValueError(f"edge {k}: node {name}={index!r} is not an index from 0 to {count - 1}")
    if i == j:
        raise ValueError(f"edge {k} joins node {i} to itself; an edge needs two different nodes")
    T = as_rigid_transform(T_i_j, f"edge {k}'s T_i_j")
    try:
        W = np.eye(6) if info is None else np.asarray(info, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"edge {k}: information must be a 6x6 matrix of numbers: {error}") from None
    if W.shape != (6, 6) or not np.isfinite(W).all() or not np.allclose(W, W.T, rtol=1e-6, atol=1e-9 * abs(W).max()):
        raise ValueError(f"edge {k}: information must be a finite symmetric 6x6 matrix")
    eigenvalues = np.linalg.eigvalsh(W)
    if eigenvalues[0] < -1e-9 * max(eigenvalues[-1], 1e-300) or eigenvalues[-1] <= 0:
        raise ValueError(f"edge {k}: information must be positive semi-definite and not zero")
    if W[3:, 3:].trace() <= 0:
        raise ValueError(f"edge {k}: information has no translational weight; the robust test needs it")
    return (int(i), int(j)), T, W, bool(is_uncertain)


def _check_connected(count: int, pairs: np.ndarray) -> None:
    """Every node must be reachable from node 0, or its pose would be undetermined."""
    parent = list(range(count))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in pairs:
        parent[root(int(i))] = root(int(j))
    unreached = [n for n in range(count) if root(n) != root(0)]
    if unreached:
        raise ValueError(f"node(s) {unreached[:10]} are not connected to node 0 by any edge; add edges "
                         "(e.g. odometry) or leave those nodes out")

