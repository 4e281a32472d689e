"""A small synthetic room rendered into RGB-D frames by ray casting, for the capture and RGB-D
tests: real geometry, exact poses, written into each capture format by the tests themselves."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d

ROOM_SIZE_M = (4.0, 3.0, 2.5)
# Boxes on the floor and a shelf on a wall, (min corner, size) in metres, so every frame sees
# geometry that pins all six degrees of freedom.
BOXES = [((0.6, 0.5, 0.0), (0.8, 0.6, 0.9)), ((2.6, 0.3, 0.0), (0.5, 0.5, 1.4)),
         ((1.5, 2.2, 0.0), (1.2, 0.5, 0.75)), ((3.2, 2.0, 1.0), (0.6, 0.8, 0.3)),
         ((0.2, 2.4, 1.2), (0.9, 0.4, 0.5))]


@dataclass(frozen=True)
class RenderedFrame:
    color: np.ndarray           # HxWx3 uint8
    depth_m: np.ndarray         # HxW float32, 0 = no hit
    T_world_camera: np.ndarray  # camera-to-world, OpenCV axes


def intrinsics(width: int, height: int) -> np.ndarray:
    f = 0.9 * width
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def look_at(eye, target) -> np.ndarray:
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    T = np.eye(4)
    T[:3, :3] = np.column_stack([right, down, forward])
    T[:3, 3] = eye
    return T


def walk(count: int) -> list[np.ndarray]:
    """Camera poses along a short arc through the room, turning slowly."""
    poses = []
    for i in range(count):
        s = i / max(count - 1, 1)
        eye = (1.2 + 1.4 * s, 1.3 + 0.3 * np.sin(np.pi * s), 1.4)
        angle = -0.9 + 1.6 * s
        poses.append(look_at(eye, (eye[0] + np.cos(angle) * 2, eye[1] + np.sin(angle) * 2 + 1.0, 0.9)))
    return poses


def _scene() -> tuple[o3d.t.geometry.RaycastingScene, int]:
    scene = o3d.t.geometry.RaycastingScene()
    room = o3d.geometry.TriangleMesh.create_box(*ROOM_SIZE_M)
    scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(room))
    for corner, size in BOXES:
        box = o3d.geometry.TriangleMesh.create_box(*size).translate(corner)
        scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(box))
    return scene, len(BOXES) + 1


def render(poses: list[np.ndarray], width: int = 160, height: int = 120) -> list[RenderedFrame]:
    scene, _ = _scene()
    K = intrinsics(width, height)
    u, v = np.meshgrid(np.arange(width), np.arange(height))
    rays_camera = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u, float)], axis=-1)
    frames = []
    for T in poses:
        directions = rays_camera @ T[:3, :3].T
        origins = np.broadcast_to(T[:3, 3], directions.shape)
        rays = np.concatenate([origins, directions], axis=-1).astype(np.float32)
        hits = scene.cast_rays(o3d.core.Tensor(rays))
        depth = hits["t_hit"].numpy()   # rays have unit z in the camera, so t is the z depth
        depth = np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)
        ids = hits["geometry_ids"].numpy()
        points = origins + directions * depth[..., None]
        frames.append(RenderedFrame(_shade(points, ids), depth, T))
    return frames


def _shade(points: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """A checker of 0.2 m cells tinted per object: colour varies on every surface. The 0.1-cell
    offset keeps faces (all on multiples of 5 cm) off cell borders, where rounding would flicker."""
    checker = (np.floor(points / 0.2 + 0.1).astype(int).sum(axis=-1) % 2).astype(float)
    hue = (ids.astype(float) * 0.37) % 1.0
    base = np.stack([0.3 + 0.6 * hue, 0.4 + 0.4 * (1 - hue), 0.5 + 0.3 * np.sin(6 * hue)], axis=-1)
    return np.clip(255 * base * (0.55 + 0.45 * checker[..., None]), 0, 255).astype(np.uint8)
