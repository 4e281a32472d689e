"""Device poses as a phone's visual-inertial odometry would report them: the truth plus drift.

VIO drifts with the distance walked: position error grows by about a percent of it, heading
(yaw, unobservable to the accelerometer) slowly turns, while roll and pitch stay close because
gravity pins them. The drift starts at zero: the device frame is the world frame at the first frame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OdometryDrift:
    translation_per_m: float = 0.01
    """Position drift per metre walked (1 %)."""
    yaw_deg_per_m: float = 0.15
    tilt_deg: float = 0.05
    """Bounded roll/pitch error."""
    jitter_m: float = 0.0008
    """Frame-to-frame noise of the reported position."""

    def apply(self, true_poses: np.ndarray, seed: int = 0) -> np.ndarray:
        """(N, 4, 4) drifting T_world_camera for the (N, 4, 4) true ones."""
        rng = np.random.default_rng(seed)
        positions = true_poses[:, :3, 3]
        walked = np.r_[0.0, np.linalg.norm(np.diff(positions, axis=0), axis=1)]
        # The drift's direction wanders slowly; mostly horizontal, since height is well observed.
        direction = np.cumsum(rng.normal(0, 0.25, (len(true_poses), 3)) * np.sqrt(walked)[:, None], axis=0)
        direction += rng.normal(0, 1, 3)
        direction[:, 2] *= 0.3
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        offset = np.cumsum(self.translation_per_m * walked[:, None] * direction, axis=0)
        offset += rng.normal(0, self.jitter_m, offset.shape) * (walked > 0)[:, None]
        yaw_sign = rng.choice([-1.0, 1.0])
        yaw = np.radians(self.yaw_deg_per_m) * yaw_sign * np.cumsum(walked * rng.uniform(0.5, 1.5, len(walked)))
        distance = np.cumsum(walked)
        settle = np.minimum(distance, 1.0)  # the tilt error builds up over the first metre
        tilt = np.radians(self.tilt_deg) * settle * np.sin(distance / 3.0 + rng.uniform(0, 2 * np.pi, (2, 1)))

        start = positions[0]
        device = np.empty_like(true_poses)
        for k, T in enumerate(true_poses):
            R = _rz(yaw[k]) @ _rx(tilt[0, k]) @ _ry(tilt[1, k])
            D = np.eye(4)
            D[:3, :3] = R
            D[:3, 3] = start - R @ start + offset[k]  # rotate about where the walk began
            device[k] = D @ T
        return device


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])
