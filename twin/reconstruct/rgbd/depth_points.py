"""From a frame's depth image to the 3D points that tracking and fragments use, and the checks
that decide whether a frame's depth is usable at all."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.camera import Camera
from twin.capture import Frame, FrameData

# A frame with fewer valid depth pixels than this fraction says little about the scene.
MIN_VALID_FRACTION = 0.02


@dataclass(frozen=True)
class DepthLimits:
    depth_min_m: float
    depth_max_m: float
    min_confidence: int


def usable_depth(frame: Frame, data: FrameData, limits: DepthLimits) -> np.ndarray:
    """The frame's depth in metres with unreliable pixels zeroed (out of range, low confidence).

    Raises ValueError with the reason to record when the frame cannot be used.
    """
    depth = data.depth_m
    if depth.shape != (frame.camera.height, frame.camera.width):
        raise ValueError(f"depth is {depth.shape[1]}x{depth.shape[0]} but the capture's intrinsics are for "
                         f"{frame.camera.width}x{frame.camera.height}")
    if not np.any(depth > 0):
        raise ValueError("the depth image is all zero")
    keep = (depth >= limits.depth_min_m) & (depth <= limits.depth_max_m) & np.isfinite(depth)
    if data.confidence is not None:
        keep &= data.confidence >= limits.min_confidence
    if keep.mean() < MIN_VALID_FRACTION:
        raise ValueError(f"only {keep.mean():.1%} of the depth pixels are valid and in range "
                         f"({limits.depth_min_m}-{limits.depth_max_m} m)")
    return np.where(keep, depth, 0.0).astype(np.float32)


def back_project(depth_m: np.ndarray, camera: Camera, stride: int = 1,
                 color: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Camera-frame points (N, 3) float64 of the non-zero depth pixels on a `stride` grid, and
    their colours (N, 3) uint8 where `color` is given."""
    sampled = depth_m[::stride, ::stride]
    v, u = np.nonzero(sampled > 0)
    z = sampled[v, u].astype(np.float64)
    u, v = u * stride, v * stride
    points = camera.back_project(u, v, z)
    colors = color[v, u] if color is not None else None
    return points, colors


def transform_points(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ T[:3, :3].T + T[:3, 3]
