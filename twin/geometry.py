"""Rigid-motion helpers every room shares: quaternions and rotation matrices, the check that a
matrix is a rigid transform, and the one turn between y-up frames (glTF, ARKit) and ours (z up).

Quaternions are [qx, qy, qz, qw] (glTF's order); matrices are float64; transforms are named by
their frames (`T_target_source` maps source coordinates into the target frame). Imports numpy
only, so any room (registration, document, capture, export, cli) may use it.
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


def rotation_angle_deg(R) -> float:
    """The angle of the rotation matrix R (about its own axis), degrees in [0, 180]."""
    return float(np.degrees(np.arccos(np.clip((np.trace(np.asarray(R)[:3, :3]) - 1) / 2, -1.0, 1.0))))


def pose_matrix(translation, quaternion_xyzw) -> np.ndarray:
    """The 4x4 rigid transform of a translation and a quaternion [qx, qy, qz, qw]."""
    T = np.eye(4)
    T[:3, :3] = quaternion_to_matrix(quaternion_xyzw)
    T[:3, 3] = [float(v) for v in translation]
    return T


RIGID_TOLERANCE = 1e-6
"""How far a 4x4 may be from rigid and still count as rigid: the largest allowed deviation of any
entry of R^T R from the identity, of det(R) from +1 and of the last row from 0 0 0 1. Float64
products of thousands of rigid transforms stay far inside it; a scale of 1.00001, a shear or a
mirror does not."""


def as_rigid_transform(T, name: str = "the transform", *, tolerance: float = RIGID_TOLERANCE,
                       advice: str = "") -> np.ndarray:
    """`T` as a (4, 4) float64 rigid transform (orthonormal rotation, det +1, last row 0 0 0 1),
    else ValueError naming `name`, with `advice` (what the caller should pass) appended.

    `tolerance` is `RIGID_TOLERANCE` unless a caller reads poses that other tools rounded harder
    (it says why where it passes one). The matrix is returned as given, not re-orthonormalised.
    """
    tail = f"; {advice}" if advice else ""
    try:
        array = np.array(T, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 4x4 matrix of numbers: {error}{tail}") from None
    if array.shape != (4, 4):
        raise ValueError(f"{name} must be a 4x4 matrix, got shape {array.shape}{tail}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has NaN or infinite entries{tail}")
    R = array[:3, :3]
    if (np.abs(array[3] - [0.0, 0.0, 0.0, 1.0]).max() > tolerance
            or np.abs(R.T @ R - np.eye(3)).max() > tolerance
            or abs(np.linalg.det(R) - 1.0) > tolerance):
        raise ValueError(f"{name} is not a rigid transform: its upper-left 3x3 is not a rotation (it must be "
                         "orthonormal with determinant +1: no scale, shear or mirroring) or its last row is "
                         f"not 0 0 0 1{tail}")
    return array


T_ZUP_YUP = np.array([[1.0, 0.0, 0.0, 0.0],
                      [0.0, 0.0, -1.0, 0.0],
                      [0.0, 1.0, 0.0, 0.0],
                      [0.0, 0.0, 0.0, 1.0]])
"""The turn from a y-up frame (glTF, ARKit's world) into ours (z up): a quarter turn about x that
maps y to z and z to -y. Its inverse, as a glTF node rotation, is `QUATERNION_YUP_ZUP`."""

QUATERNION_YUP_ZUP = matrix_to_quaternion(T_ZUP_YUP[:3, :3].T)
"""[qx, qy, qz, qw] of the turn from our z-up frame into glTF's y-up one (the GLB root's rotation)."""


def rotation_onto_z(direction: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit `direction` onto +z (Rodrigues)."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(direction, z)
    s, c = np.linalg.norm(axis), float(direction @ z)
    if s < 1e-12:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    k = axis / s
    Kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * Kx + (1 - c) * Kx @ Kx
