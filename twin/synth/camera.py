"""Pinhole cameras with OpenCV axes (x right, y down, z forward) and how to aim them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_WORLD_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class PinholeCamera:
    width: int
    height: int
    fx: float
    fy: float

    def __post_init__(self):
        if self.width < 8 or self.height < 8 or self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"a camera of {self.width}x{self.height} px with fx={self.fx}, fy={self.fy} cannot "
                             "render; use at least 8x8 pixels and positive focal lengths")

    @classmethod
    def with_fov(cls, width: int, height: int, horizontal_fov_deg: float) -> "PinholeCamera":
        f = (width / 2) / np.tan(np.radians(horizontal_fov_deg) / 2)
        return cls(width, height, float(f), float(f))

    @property
    def K(self) -> np.ndarray:
        # Pixel centres at integer coordinates (OpenCV), so the principal point is the image centre.
        return np.array([[self.fx, 0.0, (self.width - 1) / 2], [0.0, self.fy, (self.height - 1) / 2], [0.0, 0.0, 1.0]])


def look_at(eye: np.ndarray, target: np.ndarray, roll_rad: float = 0.0) -> np.ndarray:
    """T_world_camera of a camera at `eye` looking at `target`, level with the world's z-up apart from `roll_rad`."""
    forward = np.asarray(target, float) - np.asarray(eye, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, _WORLD_UP)
    if np.linalg.norm(right) < 1e-6:
        raise ValueError("the camera looks straight up or down, so its roll is undefined; tilt it a little")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = np.cos(roll_rad), np.sin(roll_rad)
    right, down = c * right + s * down, -s * right + c * down
    T = np.eye(4)
    T[:3, :3] = np.stack([right, down, forward], axis=1)
    T[:3, 3] = eye
    return T
