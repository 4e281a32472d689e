"""The ground truth that a camera path could see: surface points within a sensor's reach.

A reconstruction can only be complete where its cameras looked; comparing it with the whole
ground-truth mesh (ceiling, backs of machines) would charge it for what nobody filmed. These
clouds hold the true surface points that the frames or photos saw, thinned to one per voxel.
"""
from __future__ import annotations

import numpy as np

from twin.synth.render import RenderedView

# Room coordinates in voxels stay far below this, so three of them pack into one int64 key.
_KEY_SPAN = 1 << 20


def voxel_keys(points_m: np.ndarray, voxel_m: float) -> np.ndarray:
    cells = np.floor(points_m / voxel_m).astype(np.int64) + _KEY_SPAN // 2
    return (cells[:, 0] * _KEY_SPAN + cells[:, 1]) * _KEY_SPAN + cells[:, 2]


def seen_points(view: RenderedView, stride: int, min_depth_m: float, max_depth_m: float, min_cos: float,
                voxel_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 3) and colours (N, 3) of one view's surface within reach, one per voxel."""
    depth = view.depth_m[::stride, ::stride]
    keep = (depth >= min_depth_m) & (depth <= max_depth_m) & (view.cos_incidence[::stride, ::stride] >= min_cos)
    points = view.points_m[::stride, ::stride][keep]
    colors = view.color[::stride, ::stride][keep]
    _, first = np.unique(voxel_keys(points, voxel_m), return_index=True)
    return points[first], colors[first]


def merge(seen: list[tuple[np.ndarray, np.ndarray]], voxel_m: float) -> tuple[np.ndarray, np.ndarray]:
    """One cloud from the views' points, one point per voxel (the earliest view's, for determinism).
    Neighbouring views see mostly the same voxels, so thinning in groups first keeps the sort small."""
    def thin(points: np.ndarray, colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, first = np.unique(voxel_keys(points, voxel_m), return_index=True)
        first.sort()  # keep the earliest views' points first, so the next round keeps them
        return points[first], colors[first]

    groups = [thin(np.vstack([p for p, _ in seen[i:i + 16]]), np.vstack([c for _, c in seen[i:i + 16]]))
              for i in range(0, len(seen), 16)]
    return thin(np.vstack([p for p, _ in groups]), np.vstack([c for _, c in groups]))
