"""Up from the floor: the similarity that scales a photo reconstruction to metres, turns the normal
of its floor plane to +z and puts the floor at z = 0 (the twin's world frame, docs/architecture.md).

The floor is the lowest large plane whose normal is near the photos' mean up direction (people
hold cameras roughly upright), so that a facade or a table top is not taken for it."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import open3d as o3d

from twin.geometry import rotation_onto_z

log = logging.getLogger(__name__)

MAX_FLOOR_TILT_DEG = 45.0
MIN_PLANE_SHARE = 0.03
PLANES_TRIED = 5


@dataclass
class Levelling:
    T_world_model: np.ndarray  # 4x4 similarity: scale * rotation, then translation
    scale: float
    up_source: str  # "floor plane" or why the photos' mean up direction was used instead


def camera_up(T_world_cameras: list[np.ndarray]) -> np.ndarray:
    """Mean world direction of the cameras' up (-y in OpenCV axes), unit length."""
    up = -np.sum([T[:3, 1] for T in T_world_cameras], axis=0)
    norm = np.linalg.norm(up)
    if norm < 1e-9:
        raise ValueError("the photos' up directions cancel out; cannot tell which way is up")
    return up / norm


def find_floor(points: np.ndarray, up_hint: np.ndarray, distance: float) -> tuple[np.ndarray, float] | None:
    """(unit normal towards `up_hint`, offset d with n.x = d on the plane) of the floor, or None."""
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    total = len(points)
    o3d.utility.random.seed(0)  # the same floor on every run
    candidates = []
    for _ in range(PLANES_TRIED):
        if len(cloud.points) < 100:
            break
        (a, b, c, d), inliers = cloud.segment_plane(distance, 3, 500)
        normal = np.array([a, b, c])
        offset = -d
        if normal @ up_hint < 0:
            normal, offset = -normal, -offset
        if len(inliers) >= MIN_PLANE_SHARE * total and \
                np.degrees(np.arccos(np.clip(normal @ up_hint, -1, 1))) <= MAX_FLOOR_TILT_DEG:
            candidates.append((offset, normal))
        cloud = cloud.select_by_index(inliers, invert=True)
    if not candidates:
        return None
    offset, normal = min(candidates, key=lambda item: item[0])  # lowest along up: the floor
    return normal, offset


def level(points: np.ndarray, T_world_cameras: list[np.ndarray], scale: float) -> Levelling:
    """The similarity taking model coordinates (`points`, cameras) into the twin's z-up metric world."""
    scaled = points * scale
    up_hint = camera_up(T_world_cameras)
    extent = float(np.linalg.norm(np.percentile(scaled, 95, axis=0) - np.percentile(scaled, 5, axis=0)))
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(scaled))
    sample = np.asarray(cloud.voxel_down_sample(max(extent / 300, 1e-9)).points)
    floor = find_floor(sample, up_hint, distance=extent / 200)
    if floor is None:
        up, up_source = up_hint, "the photos' mean up direction (no floor plane was found)"
        heights = scaled @ up
        floor_height = float(np.percentile(heights, 1))
    else:
        up, floor_height = floor
        up_source = "floor plane"
    R = rotation_onto_z(up)
    levelled = scaled @ R.T
    centre = np.median(levelled[:, :2], axis=0)
    T = np.eye(4)
    T[:3, :3] = R * scale
    T[:3, 3] = [-centre[0], -centre[1], -floor_height]
    log.info("up from %s; scale %.6g m per unit", up_source, scale)
    return Levelling(T, scale, up_source)


def transform_points(T_world_model: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ T_world_model[:3, :3].T + T_world_model[:3, 3]


def transform_pose(T_world_model: np.ndarray, T_model_frame: np.ndarray, scale: float) -> np.ndarray:
    """A rigid pose (camera, marker) carried through the similarity: rotation kept orthonormal."""
    T = T_world_model @ T_model_frame
    T[:3, :3] /= scale
    return T
