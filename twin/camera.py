"""The one pinhole camera type every room shares: intrinsics (fx, fy, cx, cy in pixels for a
`width` x `height` image), optionally a camera-to-world pose, a name and OpenCV distortion.

OpenCV axes (x right, y down, z forward), pixel centres at integer coordinates; `T_world_camera`
is camera-to-world. Capture frames, reconstructed cameras (`cameras.json`), registered photos and
the sample workshop's renderer all use it. Imports numpy only (like `twin.geometry`), so any room
may use it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

_WORLD_UP = np.array([0.0, 0.0, 1.0])


def checked_intrinsics(fx: float, fy: float, cx: float, cy: float) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) as floats, else ValueError: all finite, focal lengths positive."""
    values = tuple(float(v) for v in (fx, fy, cx, cy))
    if not all(math.isfinite(v) for v in values) or values[0] <= 0 or values[1] <= 0:
        raise ValueError(f"intrinsics fx={fx} fy={fy} cx={cx} cy={cy} are not valid; focal lengths must be positive")
    return values


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera. `distortion` is OpenCV's (k1, k2, p1, p2) where the photo has any (None: none);
    `name` is the image it belongs to where that matters (cameras.json frames, registered photos)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    T_world_camera: np.ndarray | None = None
    name: str = ""
    distortion: np.ndarray | None = None

    def __post_init__(self):
        fx, fy, cx, cy = checked_intrinsics(self.fx, self.fy, self.cx, self.cy)
        if int(self.width) != self.width or int(self.height) != self.height or self.width < 1 or self.height < 1:
            raise ValueError(f"a camera image of {self.width}x{self.height} pixels is not valid; "
                             "width and height must be whole numbers of at least 1")
        for field, value in (("fx", fx), ("fy", fy), ("cx", cx), ("cy", cy), ("width", int(self.width)),
                             ("height", int(self.height)), ("name", str(self.name))):
            object.__setattr__(self, field, value)
        if self.T_world_camera is not None:
            T = np.array(self.T_world_camera, dtype=np.float64)
            if T.shape != (4, 4):
                raise ValueError(f"camera {self.name!r}: T_world_camera must be 4x4, got shape {T.shape}")
            object.__setattr__(self, "T_world_camera", T)
        if self.distortion is not None:
            object.__setattr__(self, "distortion", np.array(self.distortion, dtype=np.float64).reshape(4))

    @classmethod
    def from_K(cls, K, width: int, height: int, **pose_name_distortion) -> "Camera":
        """From a 3x3 pinhole matrix; ValueError where it has skew or its last row is not 0 0 1."""
        K = np.asarray(K, dtype=np.float64)
        if K.shape != (3, 3):
            raise ValueError(f"a pinhole matrix K must be 3x3, got shape {K.shape}")
        # Files from phones and other tools hold rounded zeros; a real skew or projective row is refused.
        if not np.allclose([K[0, 1], K[1, 0], *K[2]], [0.0, 0.0, 0.0, 0.0, 1.0], rtol=0.0, atol=1e-9 * max(abs(K[0, 0]), 1.0)):
            raise ValueError(f"K {K.tolist()} is not a pinhole matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]")
        return cls(K[0, 0], K[1, 1], K[0, 2], K[1, 2], width, height, **pose_name_distortion)

    @classmethod
    def with_fov(cls, width: int, height: int, horizontal_fov_deg: float) -> "Camera":
        """Square pixels, the principal point at the image centre, `horizontal_fov_deg` across."""
        f = (width / 2) / np.tan(np.radians(horizontal_fov_deg) / 2)
        # Pixel centres at integer coordinates (OpenCV), so the image centre is at (w - 1) / 2.
        return cls(float(f), float(f), (width - 1) / 2, (height - 1) / 2, width, height)

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def with_pose(self, T_world_camera: np.ndarray | None, name: str | None = None) -> "Camera":
        """The same intrinsics at another pose (and, where given, under another name)."""
        return replace(self, T_world_camera=T_world_camera, name=self.name if name is None else name)

    def scaled(self, width: int, height: int) -> "Camera":
        """The camera of the image resized to `width` x `height` (pixel centres: x' + 0.5 = s (x + 0.5))."""
        sx, sy = width / self.width, height / self.height
        return replace(self, fx=self.fx * sx, fy=self.fy * sy, cx=(self.cx + 0.5) * sx - 0.5,
                       cy=(self.cy + 0.5) * sy - 0.5, width=width, height=height)

    def project(self, points_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) pixel coordinates and (N,) depths of camera-frame points (N, 3); points at or behind
        the camera get inf or NaN pixels, so callers keep `depth > 0`."""
        points = np.asarray(points_camera, dtype=np.float64).reshape(-1, 3)
        z = points[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = np.column_stack([points[:, 0] / z * self.fx + self.cx, points[:, 1] / z * self.fy + self.cy])
        return uv, z

    def back_project(self, u: np.ndarray, v: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """(N, 3) float64 camera-frame points of pixels (u, v) at depths `depth` (along z, not along the ray)."""
        z = np.asarray(depth, dtype=np.float64)
        return np.column_stack([(u - self.cx) * z / self.fx, (v - self.cy) * z / self.fy, z])

    def __eq__(self, other) -> bool:
        if not isinstance(other, Camera):
            return NotImplemented
        return (self._scalars() == other._scalars()
                and _same_array(self.T_world_camera, other.T_world_camera)
                and _same_array(self.distortion, other.distortion))

    def __hash__(self) -> int:
        return hash(self._scalars())

    def _scalars(self) -> tuple:
        return self.fx, self.fy, self.cx, self.cy, self.width, self.height, self.name


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None) == (b is None) and (a is None or np.array_equal(a, b))


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
