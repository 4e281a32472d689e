"""Conversions from the axis conventions of phone apps to ours (OpenCV cameras, z-up world)."""
from __future__ import annotations

import numpy as np

from twin.geometry import T_ZUP_YUP, as_rigid_transform

# OpenGL/ARKit cameras look down -z with y up; OpenCV cameras look down +z with y down.
T_GL_CV = np.diag([1.0, -1.0, -1.0, 1.0])

# Poses that other tools wrote to files may be rounded (float32, or a few decimals of text: at 4
# decimals R^T R is off the identity by some 1e-4), far past geometry's RIGID_TOLERANCE (1e-6, for
# matrices computed here). `rigid_pose` re-orthonormalises the rotation after the check, so the
# looser bound loses nothing, and it still refuses a 0.1% scale (2e-3 in R^T R), a shear or a mirror.
POSE_FILE_TOLERANCE = 1e-3


def opengl_to_opencv_pose(T_world_glcamera: np.ndarray) -> np.ndarray:
    """Camera-to-world pose of an OpenGL-axes camera -> the same camera with OpenCV axes."""
    return np.asarray(T_world_glcamera, dtype=np.float64) @ T_GL_CV


def arkit_to_twin_pose(T_arworld_glcamera: np.ndarray) -> np.ndarray:
    """An ARKit camera pose (y-up world, OpenGL camera) -> our convention (z-up world, OpenCV camera).

    ARKit's gravity-aligned world is y up; ours is z up (`twin.geometry.T_ZUP_YUP`)."""
    return T_ZUP_YUP @ opengl_to_opencv_pose(T_arworld_glcamera)


def rigid_pose(T, where: str) -> np.ndarray:
    """`T` as an exactly rigid 4x4 pose: rounding in files (8 decimals, float32) is cleaned up;
    scale, shear or mirroring is a ValueError naming `where` the pose came from."""
    T = as_rigid_transform(T, f"{where}: the pose", tolerance=POSE_FILE_TOLERANCE,
                           advice="poses must be camera-to-world rotations and translations in metres")
    U, _, Vt = np.linalg.svd(T[:3, :3])
    clean = np.eye(4)
    clean[:3, :3] = U @ Vt
    clean[:3, 3] = T[:3, 3]
    return clean
