"""Rigid-motion helpers every room shares: quaternions and rotation matrices.

Quaternions are [qx, qy, qz, qw] (glTF's order); matrices are float64. Imports numpy only, so
any room (document, capture, export, cli) may use it.
"""
from __future__ import annotations

import math

import numpy as np


def quaternion_to_matrix(quaternion_xyzw) -> np.ndarray:
    """The 3x3 rotation of a quaternion [qx, qy, qz, qw], normalised first."""
    q = np.asarray(quaternion_xyzw, dtype=np.float64)
    norm = float(np.linalg.norm(q)) if q.shape == (4,) else math.nan
    if not math.isfinite(norm) or norm < 1e-9:
        raise ValueError(f"quaternion {list(quaternion_xyzw)} is zero or not finite; expected a unit quaternion "
                         "[qx, qy, qz, qw]")
    x, y, z, w = q / norm
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def matrix_to_quaternion(R) -> tuple[float, float, float, float]:
    """The unit quaternion [qx, qy, qz, qw] of a 3x3 rotation, with qw >= 0 (one sign per rotation)."""
    R = np.asarray(R, dtype=np.float64)
    # Shepperd's method: pick the largest diagonal term for a well-conditioned square root.
    trace = np.trace(R)
    if trace > 0:
        s = 2 * math.sqrt(1 + trace)
        q = [(R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s, s / 4]
    else:
        i = int(np.argmax(np.diag(R)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2 * math.sqrt(1 + R[i, i] - R[j, j] - R[k, k])
        q = [0.0, 0.0, 0.0, (R[k, j] - R[j, k]) / s]
        q[i] = s / 4
        q[j] = (R[j, i] + R[i, j]) / s
        q[k] = (R[k, i] + R[i, k]) / s
    if q[3] < 0:  # one canonical sign, so the same rotation always serialises the same
        q = [-c for c in q]
    return tuple(float(c) for c in q)


def pose_matrix(translation, quaternion_xyzw) -> np.ndarray:
    """The 4x4 rigid transform of a translation and a quaternion [qx, qy, qz, qw]."""
    T = np.eye(4)
    T[:3, :3] = quaternion_to_matrix(quaternion_xyzw)
    T[:3, 3] = [float(v) for v in translation]
    return T
