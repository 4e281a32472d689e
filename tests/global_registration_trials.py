"""Global-registration trials with exact truth, shared by the tests and benchmarks/global_registration.py.

A real fragment is cut into two overlapping crops along a random direction, each crop gets its
own noise, and the source crop is moved by a random rigid motion (any rotation, metres of
translation), so the transform that undoes it is known exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation


@dataclass(frozen=True)
class Trial:
    source: np.ndarray
    target: np.ndarray
    T_target_source: np.ndarray
    overlap: float  # share of each crop that lies in the other


def random_rigid(rng: np.random.Generator, max_translation_m: float = 3.0) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.random(random_state=rng).as_matrix()
    T[:3, 3] = rng.uniform(-max_translation_m, max_translation_m, 3)
    return T


def make_trial(points: np.ndarray, rng: np.random.Generator, overlap_range=(0.3, 0.7),
               noise_m: float = 0.005) -> Trial:
    """Crops of `points` sharing a random share in `overlap_range` of their points, noise of
    `noise_m` (standard deviation, per axis) and a random motion of the source."""
    direction = rng.normal(size=3)
    along = points @ (direction / np.linalg.norm(direction))
    overlap = float(rng.uniform(*overlap_range))
    share = 1.0 / (2.0 - overlap)  # each crop keeps this share; the middle (2 share - 1) is common
    source = points[along <= np.quantile(along, share)]
    target = points[along >= np.quantile(along, 1.0 - share)]
    source = source + rng.normal(scale=noise_m, size=source.shape)
    target = target + rng.normal(scale=noise_m, size=target.shape)
    T_moved_source = random_rigid(rng)
    moved = source @ T_moved_source[:3, :3].T + T_moved_source[:3, 3]
    return Trial(moved, target, np.linalg.inv(T_moved_source), overlap)


def pose_errors(T: np.ndarray, T_truth: np.ndarray) -> tuple[float, float]:
    """Rotation error (degrees) and translation error (metres) of T against T_truth."""
    delta = np.asarray(T)[:3, :3] @ np.asarray(T_truth)[:3, :3].T
    angle = np.degrees(np.arccos(np.clip((np.trace(delta) - 1.0) / 2.0, -1.0, 1.0)))
    return float(angle), float(np.linalg.norm(np.asarray(T)[:3, 3] - np.asarray(T_truth)[:3, 3]))
