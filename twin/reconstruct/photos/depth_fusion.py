"""Multi-view geometric consistency of depth maps, and their fusion into one coloured cloud.

A ref pixel's 3D point is kept when, in at least `min_views` other photos, the depth there maps
back to within `max_reprojection_px` of the pixel and `max_relative_depth` of its depth (the
check of Gipuma / MVSNet fusion); the kept point is the mean of the agreeing estimates.
"""
from __future__ import annotations

import numpy as np

from twin.reconstruct.photos.dense_stereo import View


def select_neighbours(centres: np.ndarray, visible: list[np.ndarray], points: np.ndarray,
                      count: int, min_angle_deg: float = 3.0, best_angle_deg: float = 15.0) -> list[list[int]]:
    """For each photo, up to `count` others ranked by shared sparse points weighted by how well their
    triangulation angle suits stereo (too small: depth is noisy; too large: appearance changes)."""
    n = len(centres)
    sets = [set(v.tolist()) for v in visible]
    scores = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            shared = np.fromiter(sets[i] & sets[j], dtype=np.int64)
            if len(shared) < 10:
                continue
            rays_i = centres[i] - points[shared]
            rays_j = centres[j] - points[shared]
            cos = np.sum(rays_i * rays_j, 1) / (np.linalg.norm(rays_i, axis=1) * np.linalg.norm(rays_j, axis=1))
            angles = np.degrees(np.arccos(np.clip(cos, -1, 1)))
            weight = np.where(angles < min_angle_deg, 0.0,
                              np.where(angles < best_angle_deg, angles / best_angle_deg,
                                       np.exp(-((angles - best_angle_deg) / 20.0) ** 2)))
            scores[i, j] = scores[j, i] = weight.sum()
    neighbours = []
    for i in range(n):
        order = [j for j in np.argsort(-scores[i]) if j != i and scores[i, j] > 0]
        neighbours.append(order[:count])
    return neighbours


def _backproject(depth: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray, rows: np.ndarray,
                 cols: np.ndarray) -> np.ndarray:
    z = depth[rows, cols].astype(np.float64)
    x = (cols - K[0, 2]) * z / K[0, 0]
    y = (rows - K[1, 2]) * z / K[1, 1]
    return (T_world_camera[:3, :3] @ np.stack([x, y, z])).T + T_world_camera[:3, 3]


def _project(points_world: np.ndarray, K: np.ndarray, T_camera_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cam = (T_camera_world[:3, :3] @ points_world.T).T + T_camera_world[:3, 3]
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (K[:2, :2] @ (cam[:, :2] / z[:, None]).T).T + K[:2, 2]
    return uv, z


def fuse_view(ref: View, ref_depth: np.ndarray, others: list[tuple[View, np.ndarray]], *, min_views: int = 2,
              max_reprojection_px: float = 1.0, max_relative_depth: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """The consistent points of one depth map: ((N, 3) float64 world points, (N, 3) uint8 colours)."""
    rows, cols = np.nonzero(ref_depth > 0)
    T_world_ref = np.linalg.inv(ref.T_camera_world)
    points = _backproject(ref_depth, ref.K, T_world_ref, rows, cols)
    depth_ref = ref_depth[rows, cols].astype(np.float64)
    total = points.copy()
    agreeing = np.zeros(len(points), dtype=np.int32)
    for view, depth in others:
        uv, z = _project(points, view.K, view.T_camera_world)
        height, width = depth.shape
        c = np.round(uv[:, 0]).astype(np.int64, copy=False) if len(uv) else np.zeros(0, np.int64)
        r = np.round(uv[:, 1]).astype(np.int64, copy=False) if len(uv) else np.zeros(0, np.int64)
        inside = (z > 0) & (c >= 0) & (c < width) & (r >= 0) & (r < height)
        idx = np.nonzero(inside)[0]
        idx = idx[depth[r[idx], c[idx]] > 0]
        back = _backproject(depth, view.K, np.linalg.inv(view.T_camera_world), r[idx], c[idx])
        uv_ref, z_ref = _project(back, ref.K, ref.T_camera_world)
        error_px = np.hypot(uv_ref[:, 0] - cols[idx], uv_ref[:, 1] - rows[idx])
        ok = (error_px < max_reprojection_px) & (np.abs(z_ref - depth_ref[idx]) < max_relative_depth * depth_ref[idx])
        good = idx[ok]
        agreeing[good] += 1
        total[good] += back[ok]
    keep = agreeing >= min_views
    fused = total[keep] / (agreeing[keep] + 1)[:, None]
    colors = ref.image[rows[keep], cols[keep]]
    return fused, colors
