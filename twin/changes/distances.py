"""The C++ core's change distances, typed: cloud-to-cloud (C2C) and M3C2 with its level of detection."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin import _native
from twin.registration import as_points
from twin.registration.clouds import check_metres


@dataclass(frozen=True)
class M3c2Distances:
    """Per core point: `distance` (epoch 2 minus epoch 1 along `normals`, metres; NaN where a
    cylinder holds no point of an epoch), `lod` (level of detection at 95 %, metres), the normals
    and the points of each epoch in the cylinder."""

    distance: np.ndarray
    lod: np.ndarray
    normals: np.ndarray
    count1: np.ndarray
    count2: np.ndarray

    @property
    def significant(self) -> np.ndarray:
        """Where the change exceeds its level of detection (False where undefined)."""
        with np.errstate(invalid="ignore"):
            return np.abs(self.distance) > self.lod


def cloud_to_cloud(queries, reference, max_distance_m: float = math.inf) -> np.ndarray:
    """(N,) distance from each query to its nearest reference point (metres); inf where there is
    none within max_distance_m."""
    bound = check_metres(max_distance_m, "max_distance_m", infinite_ok=True)
    return _native.cloud_to_cloud(as_points(queries, "queries"), as_points(reference, "reference points"), bound)


def m3c2(core, epoch1, epoch2, normal_radius_m: float, cylinder_radius_m: float, max_depth_m: float,
         registration_error_m: float = 0.0) -> M3c2Distances:
    """M3C2 (Lague et al. 2013, py4dgeo's and CloudCompare's parameters) at the core points."""
    raw = _native.m3c2(as_points(core, "core points"), as_points(epoch1, "epoch 1 points"),
                       as_points(epoch2, "epoch 2 points"), check_metres(normal_radius_m, "normal_radius_m"),
                       check_metres(cylinder_radius_m, "cylinder_radius_m"), check_metres(max_depth_m, "max_depth_m"),
                       check_metres(registration_error_m, "registration_error_m", zero_ok=True))
    return M3c2Distances(*raw)
