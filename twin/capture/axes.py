"""Conversions from the axis conventions of phone apps to ours (OpenCV cameras, z-up world)."""
from __future__ import annotations

import numpy as np

# OpenGL/ARKit cameras look down -z with y up; OpenCV cameras look down +z with y down.
T_GL_CV = np.diag([1.0, -1.0, -1.0, 1.0])

# ARKit's gravity-aligned world is y up; ours is z up. Maps y to z and z to -y.
T_ZUP_YUP = np.array([[1.0, 0.0, 0.0, 0.0],
                      [0.0, 0.0, -1.0, 0.0],
                      [0.0, 1.0, 0.0, 0.0],
                      [0.0, 0.0, 0.0, 1.0]])


def opengl_to_opencv_pose(T_world_glcamera: np.ndarray) -> np.ndarray:
    """Camera-to-world pose of an OpenGL-axes camera -> the same camera with OpenCV axes."""
    return np.asarray(T_world_glcamera, dtype=np.float64) @ T_GL_CV


def arkit_to_twin_pose(T_arworld_glcamera: np.ndarray) -> np.ndarray:
    """An ARKit camera pose (y-up world, OpenGL camera) -> our convention (z-up world, OpenCV camera)."""
    return T_ZUP_YUP @ opengl_to_opencv_pose(T_arworld_glcamera)


def pose_from_quaternion(translation, quaternion_xyzw) -> np.ndarray:
    """A 4x4 pose from a translation and a unit quaternion in (x, y, z, w) order."""
    x, y, z, w = (float(v) for v in quaternion_xyzw)
    norm = np.sqrt(x * x + y * y + z * z + w * w)
    if not np.isfinite(norm) or norm < 1e-9:
        raise ValueError(f"quaternion {quaternion_xyzw} is zero or not finite; expected a unit quaternion")
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    T = np.eye(4)
    T[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                 [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                 [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    T[:3, 3] = [float(v) for v in translation]
    return T
