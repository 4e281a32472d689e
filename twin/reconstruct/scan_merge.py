"""Several scans of one place, from any initial placement, put into the frame of the first.

    merged = merge_scans([cloud0, cloud1, cloud2], voxel_size=0.05)
    merged.poses[k]    # (4, 4) T_first_scan of scan k, or None where no trusted alignment reaches it

Every pair is registered globally (`align_global`; `align_pair` and `place_scans` serve callers that
register only some pairs, e.g. as cluster tasks). The trusted pairs form a graph; its maximum
spanning tree by fitness places the scans (those edges are kept as certain, like odometry), the
other trusted pairs become uncertain loop closures that the pose graph may drop, and each placed
scan is finally refined by point-to-plane ICP against all the others.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin import registration
from twin.progress import Progress
from twin.registration.global_registration import FeatureCloud, describe

OUTLIER_DISTANCE_VOXELS = 2.0  # a loop closure that moves its points by more than this is dropped
REFINE_DISTANCE_VOXELS = 1.5


@dataclass(frozen=True)
class PairAlignment:
    """Scan j registered onto scan i: T_i_j maps j's coordinates into i's frame."""

    i: int
    j: int
    T_i_j: np.ndarray
    information: np.ndarray
    fitness: float
    trusted: bool
    in_graph: bool = False   # trusted and both scans placed
    accepted: bool = False   # kept by the pose graph


@dataclass(frozen=True)
class ScanMerge:
    poses: list[np.ndarray | None]
    pairs: list[PairAlignment]
    residuals_m: list[float | None]  # each placed scan's inlier RMSE against the others after refinement


def merge_scans(clouds, voxel_size: float = 0.05, seed: int = 0, progress: Progress | None = None) -> ScanMerge:
    """Poses of `clouds` ((N_k, 3) arrays, metres) in the frame of the first, and the pairwise results."""
    clouds = [registration.as_points(cloud, f"scan {k}") for k, cloud in enumerate(clouds)]
    count = len(clouds)
    if count < 2:
        raise ValueError(f"merging needs at least two scans, got {count}")
    report = progress or (lambda stage, done, total: None)
    total = count * (count - 1) // 2 + count - 1

    described = [describe(cloud, voxel_size) for cloud in clouds]  # features once per scan, not per pair
    pairs = []
    for i in range(count):
        for j in range(i + 1, count):
            pairs.append(align_pair(described[i], described[j], i, j, voxel_size, seed))
            report("pairs", len(pairs), total)
    return place_scans(clouds, pairs, voxel_size,
                       progress=lambda stage, done, _: report(stage, len(pairs) + done, total))


def align_pair(described_i: FeatureCloud, described_j: FeatureCloud, i: int, j: int, voxel_size: float,
               seed: int = 0) -> PairAlignment:
    """Scan j registered globally onto scan i (both described with `voxel_size`)."""
    result = registration.align_global(described_j, described_i, voxel_size, seed=seed)
    return PairAlignment(i, j, result.T_target_source, result.information, result.fitness, result.converged)


def place_scans(clouds: list[np.ndarray], pairs: list[PairAlignment], voxel_size: float,
                progress: Progress | None = None, preferred: set[tuple[int, int]] = frozenset()) -> ScanMerge:
    """The scans' poses in the first one's frame from pairwise alignments (any subset of the pairs).

    The trusted pairs' maximum spanning tree by fitness places the scans, a pose graph over all
    trusted pairs drops the inconsistent ones, and each placed scan is refined against the others.
    `preferred` pairs (i < j) go into the tree before any other, whatever their fitness: e.g.
    consecutive captures, which a near-symmetric room cannot fool the way it fools geometry alone
    (a wrong alignment turned 90 or 180 degrees can fit better than the right one). The others
    then only close loops, which the pose graph may drop.
    """
    report = progress or (lambda stage, done, total: None)
    count = len(clouds)
    tree = _maximum_spanning_tree(count, [p for p in pairs if p.trusted], preferred)
    initial = _poses_along(tree, count)
    placed = [k for k in range(count) if initial[k] is not None]
    index = {k: n for n, k in enumerate(placed)}
    graph = [p for p in pairs if p.trusted and p.i in index and p.j in index]
    in_graph = {(p.i, p.j) for p in graph}
    poses: list[np.ndarray | None] = [None] * count
    accepted_pairs = set()
    if len(placed) > 1:
        edges = [(index[p.i], index[p.j], p.T_i_j, p.information, (p.i, p.j) not in tree) for p in graph]
        optimised = registration.optimize_pose_graph(np.array([initial[k] for k in placed]), edges,
                                                     outlier_distance_m=OUTLIER_DISTANCE_VOXELS * voxel_size)
        accepted_pairs = {(p.i, p.j) for p, kept in zip(graph, optimised.edge_accepted) if kept}
        for k in placed:
            poses[k] = np.array(optimised.poses[index[k]])
    poses[0] = np.eye(4)

    residuals: list[float | None] = [None] * count
    for n, k in enumerate(placed[1:], start=1):
        others = np.concatenate([clouds[m] @ poses[m][:3, :3].T + poses[m][:3, 3] for m in placed if m != k])
        refined = registration.align(clouds[k], registration.prepare(others, voxel_size), method="point_to_plane",
                                     max_correspondence_distance=REFINE_DISTANCE_VOXELS * voxel_size,
                                     init=poses[k], max_iterations=30)
        poses[k] = np.array(refined.T_target_source)
        residuals[k] = float(refined.inlier_rmse)
        report("refinement", n, len(placed) - 1)

    pairs = [PairAlignment(p.i, p.j, p.T_i_j, p.information, p.fitness, p.trusted,
                           in_graph=(p.i, p.j) in in_graph, accepted=(p.i, p.j) in accepted_pairs) for p in pairs]
    return ScanMerge(poses=poses, pairs=pairs, residuals_m=residuals)


def _maximum_spanning_tree(count: int, trusted: list[PairAlignment],
                           preferred: set[tuple[int, int]] = frozenset()) -> dict[tuple[int, int], PairAlignment]:
    """Prim's algorithm from scan 0 over the trusted pairs: preferred pairs first, then best fitness."""
    reached = {0}
    tree = {}
    while True:
        frontier = [p for p in trusted if (p.i in reached) != (p.j in reached)]
        if not frontier:
            return tree
        best = max(frontier, key=lambda p: ((p.i, p.j) in preferred, p.fitness, -p.i, -p.j))
        tree[(best.i, best.j)] = best
        reached |= {best.i, best.j}


def _poses_along(tree: dict[tuple[int, int], PairAlignment], count: int) -> list[np.ndarray | None]:
    """T_first_scan of every scan the tree reaches from scan 0 (None for the others)."""
    poses: list[np.ndarray | None] = [None] * count
    poses[0] = np.eye(4)
    changed = True
    while changed:
        changed = False
        for (i, j), pair in tree.items():
            if poses[i] is not None and poses[j] is None:
                poses[j] = poses[i] @ pair.T_i_j
                changed = True
            elif poses[j] is not None and poses[i] is None:
                poses[i] = poses[j] @ np.linalg.inv(pair.T_i_j)
                changed = True
    return poses
