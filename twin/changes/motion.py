"""Whether a removed and an added region are the same object moved: a rigid motion found by ICP
(from several turns about the vertical, since workshop objects turn on the floor) that lays one
on the other."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin import registration
from twin.changes.regions import Region

TRIAL_TURNS_DEG = tuple(range(0, 360, 30))
SPREAD_TOLERANCE = 0.3     # principal spreads may differ by this share (partial views, noise)
MIN_SHAPE_FITNESS = 0.6    # share of the removed region's points on the added one after ICP


@dataclass(frozen=True)
class Motion:
    """T_new_old_object: the rigid motion (in OLD's frame) taking the object's old place to its new one."""

    T: np.ndarray
    fitness: float

    def of_point(self, point) -> np.ndarray:
        """Where `point` (OLD's frame) went: its displacement vector, metres."""
        p = np.asarray(point, dtype=np.float64)
        return self.T[:3, :3] @ p + self.T[:3, 3] - p

    @property
    def turn_deg(self) -> float:
        """Turn about the vertical, degrees (counter-clockwise seen from above)."""
        return math.degrees(math.atan2(self.T[1, 0], self.T[0, 0]))


def match_motion(removed: Region, added: Region, voxel_size_m: float) -> Motion | None:
    """The motion laying `removed` on `added`, or None when their shapes do not match."""
    a, b = removed.spreads, added.spreads
    if np.any(np.abs(a - b) > SPREAD_TOLERANCE * np.maximum(np.maximum(a, b), voxel_size_m)):
        return None
    target = registration.prepare(added.points, voxel_size=voxel_size_m)
    best = None
    for turn in TRIAL_TURNS_DEG:
        init = _turn_about(removed.centroid, added.centroid, math.radians(turn))
        result = registration.align(removed.points, target, method="point_to_point",
                                    max_correspondence_distance=3 * voxel_size_m, init=init, max_iterations=40)
        if best is None or result.fitness > best.fitness:
            best = result
    motion = Motion(np.array(best.T_target_source), best.fitness)
    standing_still = np.linalg.norm(motion.of_point(removed.centroid)) < 3 * voxel_size_m and abs(motion.turn_deg) < 2
    if best.fitness < MIN_SHAPE_FITNESS or standing_still:  # in place: a change of shape, not a move
        return None
    return motion


def _turn_about(source_centre: np.ndarray, target_centre: np.ndarray, angle: float) -> np.ndarray:
    """Turns by `angle` about the vertical through source_centre, then moves it onto target_centre."""
    c, s = math.cos(angle), math.sin(angle)
    T = np.eye(4)
    T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    T[:3, 3] = target_centre - T[:3, :3] @ source_centre
    return T
