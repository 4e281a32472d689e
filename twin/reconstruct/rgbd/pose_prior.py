"""Combining a registration's pose with a device's prediction, each weighted by what it knows.

Point-to-plane ICP pins a pose well along the directions its surfaces constrain and hardly at
all along the others (a camera facing a flat wall can slide along it). Its information matrix
says which is which, so fusing it with a device prior (phone odometry: good from frame to frame,
drifting over a walk) keeps ICP's corrections where the geometry supports them and the device's
motion where it does not.

Poses are updated on the left, T = exp(xi) T0 with xi = (omega, v) about the world origin,
the convention of `RegistrationResult.information`.
"""
from __future__ import annotations

import cv2
import numpy as np


def fuse_with_prior(T_measured: np.ndarray, information: np.ndarray, T_prior: np.ndarray,
                    sigma_rotation_rad: float, sigma_translation_m: float) -> np.ndarray:
    """The pose that best agrees with both: `T_measured` with (6, 6) `information` (rotation
    first, world frame), and `T_prior` with independent rotation and camera-centre errors."""
    omega = cv2.Rodrigues(T_measured[:3, :3] @ T_prior[:3, :3].T)[0].ravel()
    v = T_measured[:3, 3] - cv2.Rodrigues(omega)[0] @ T_prior[:3, 3]
    delta = np.r_[omega, v]
    # A moves (omega, v) about the world origin to (omega, displacement of the camera centre).
    A = np.eye(6)
    A[3:, :3] = -_skew(T_prior[:3, 3])
    weights = np.r_[np.full(3, sigma_rotation_rad ** -2), np.full(3, sigma_translation_m ** -2)]
    H_prior = A.T @ (weights[:, None] * A)
    fused = np.linalg.solve(information + H_prior, information @ delta)
    T = np.eye(4)
    R = cv2.Rodrigues(fused[:3])[0]
    T[:3, :3] = R @ T_prior[:3, :3]
    T[:3, 3] = R @ T_prior[:3, 3] + fused[3:]
    return T


def _skew(x: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -x[2], x[1]], [x[2], 0.0, -x[0]], [-x[1], x[0], 0.0]])
