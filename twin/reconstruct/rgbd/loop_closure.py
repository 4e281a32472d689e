"""Loop closure between fragments: register fragment clouds to each other, then let the pose
graph spread the drift that the loops reveal over the whole trajectory.

Neighbouring fragments are registered from their tracked relative pose (certain edges). Other
pairs whose tracked poses say they overlap first try ICP from the tracked pose, which succeeds
where drift is still small; where it fails, global registration (FPFH + RANSAC) gets a try. Every loop edge is uncertain: the pose graph drops those that disagree with the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from twin import registration
from twin.geometry import rotation_angle_deg
from twin.reconstruct.rgbd.tracking_stage import Fragment

# An edge counts when this share of one fragment's points meets the other's surface.
MIN_FITNESS = 0.3
GLOBAL_VOXEL_M = 0.05


@dataclass(frozen=True)
class LoopClosureSettings:
    voxel_size_m: float = 0.02
    max_correspondence_m: float = 0.05
    # Tracked poses must put fragments' bounding boxes this much in common (share of the smaller
    # box) before a loop between them is looked for.
    min_box_overlap: float = 0.3


@dataclass(frozen=True)
class Edge:
    i: int
    j: int
    T_i_j: np.ndarray
    information: np.ndarray
    uncertain: bool
    fitness: float
    found_by: str       # "tracking", "icp" or "global"


@dataclass(frozen=True)
class LoopClosureResult:
    T_world_fragments: list[np.ndarray]
    edges: list[Edge]
    accepted: list[bool]
    pairs_tried: int
    global_tried: int

    def summary(self, before: list[np.ndarray]) -> dict:
        loops = [(e, ok) for e, ok in zip(self.edges, self.accepted) if e.uncertain]
        moves = [_motion(np.linalg.inv(b) @ a) for b, a in zip(before, self.T_world_fragments)]
        return {"enabled": True, "fragments": len(self.T_world_fragments), "pairs_tried": self.pairs_tried,
                "global_registrations_tried": self.global_tried, "candidates": len(loops),
                "accepted": sum(ok for _, ok in loops),
                "found_by": {kind: sum(ok for e, ok in loops if e.found_by == kind) for kind in ("icp", "global")},
                "largest_fragment_correction_m": round(max(m[0] for m in moves), 4),
                "largest_fragment_correction_deg": round(max(m[1] for m in moves), 3)}


def close_loops(fragments: list[Fragment], settings: LoopClosureSettings,
                report: Callable[[int, int], None]) -> LoopClosureResult:
    anchors = [f.T_world_anchor for f in fragments]
    prepared = [registration.prepare(f.points, voxel_size=settings.voxel_size_m) for f in fragments]
    pairs = [(i, j) for i in range(len(fragments)) for j in range(i + 1, len(fragments))]
    edges, tried, global_tried = [], 0, 0
    for done, (i, j) in enumerate(pairs):
        report(done, len(pairs))
        tracked = np.linalg.inv(anchors[i]) @ anchors[j]
        overlap = _box_overlap(fragments[i], fragments[j], tracked)
        if j > i + 1 and overlap < settings.min_box_overlap:
            continue   # tracking says these fragments saw different parts of the scene
        tried += 1
        result = _refine(prepared[j], prepared[i], tracked, settings)
        if j == i + 1:
            # Neighbours always share frames; a failed refinement keeps the tracked pose.
            T = result.T_target_source if result.fitness >= MIN_FITNESS else tracked
            edges.append(Edge(i, j, T, result.information, False, result.fitness, "tracking"))
            continue
        found_by = "icp"
        if result.fitness < MIN_FITNESS:
            global_tried += 1
            rough = registration.align_global(fragments[j].points, fragments[i].points, voxel_size=GLOBAL_VOXEL_M)
            if rough.converged:
                result, found_by = _refine(prepared[j], prepared[i], rough.T_target_source, settings), "global"
        if result.fitness >= MIN_FITNESS:
            edges.append(Edge(i, j, result.T_target_source, result.information, True, result.fitness, found_by))
    report(len(pairs), len(pairs))
    if len(fragments) == 1:
        return LoopClosureResult(anchors, edges, [], tried, global_tried)
    graph = registration.optimize_pose_graph(
        np.array(anchors), [(e.i, e.j, e.T_i_j, e.information, e.uncertain) for e in edges])
    return LoopClosureResult([np.array(T) for T in graph.poses], edges, [bool(a) for a in graph.edge_accepted],
                             tried, global_tried)


def _refine(source, target, init, settings: LoopClosureSettings) -> registration.RegistrationResult:
    # Wide then tight, as in tracking: fragments drift apart by more than a frame does.
    coarse = registration.align(source, target, method="point_to_plane",
                                max_correspondence_distance=3 * settings.max_correspondence_m, init=init,
                                robust_kernel="huber", max_iterations=30)
    return registration.align(source, target, method="point_to_plane",
                              max_correspondence_distance=settings.max_correspondence_m,
                              init=coarse.T_target_source, robust_kernel="huber", max_iterations=30)


def _box_overlap(a: Fragment, b: Fragment, T_a_b: np.ndarray) -> float:
    """Volume shared by the two fragments' bounding boxes (b moved into a's frame), as a share
    of the smaller box."""
    b_points = b.points @ T_a_b[:3, :3].T + T_a_b[:3, 3]
    lo_a, hi_a = a.points.min(0), a.points.max(0)
    lo_b, hi_b = b_points.min(0), b_points.max(0)
    shared = np.prod(np.clip(np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b), 0, None))
    smaller = min(np.prod(hi_a - lo_a), np.prod(hi_b - lo_b))
    return float(shared / smaller) if smaller > 0 else 0.0


def _motion(T: np.ndarray) -> tuple[float, float]:
    return float(np.linalg.norm(T[:3, 3])), rotation_angle_deg(T)
