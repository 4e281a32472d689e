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


def rigid_pose(T, where: str) -> np.ndarray:
    """`T` as an exactly rigid 4x4 pose: rounding in files (8 decimals, float32) is cleaned up;
    scale, shear or mirroring is a ValueError naming `where` the pose came from."""
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.all(np.isfinite(T)):
        raise ValueError(f"{where}: a pose must be a finite 4x4 matrix")
    U, singular, Vt = np.linalg.svd(T[:3, :3])
    if np.max(np.abs(singular - 1.0)) > 1e-3 or np.linalg.det(U @ Vt) < 0 or not np.allclose(T[3], [0, 0, 0, 1]):
        raise ValueError(f"{where}: the pose is not a rigid transform (its rotation has scale, shear or a "
                         "mirror, or its last row is not 0 0 0 1); poses must be camera-to-world rotations "
                         "and translations in metres")
    clean = np.eye(4)
    clean[:3, :3] = U @ Vt
    clean[:3, 3] = T[:3, 3]
    return clean
