"""NEW aligned to OLD with the registration core: global (FPFH + RANSAC), then fine point-to-plane ICP
with a Tukey kernel, so that the parts that changed do not pull the room out of place."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin import registration
from twin.progress import Progress

MIN_FINE_FITNESS = 0.3
"""Share of NEW's points that must sit on OLD's surfaces after the fine step: a room that changed by
more than two thirds is a different room, not a diff."""


@dataclass(frozen=True)
class ScanAlignment:
    """T_old_new maps NEW's points into OLD's frame; fitness and inlier_rmse (metres) are the fine
    step's; converged is False where the global step found no trusted alignment or the fine step
    left too little of NEW on OLD."""

    T_old_new: np.ndarray
    fitness: float
    inlier_rmse: float
    converged: bool


def align_scans(old_points: np.ndarray, new_points: np.ndarray, voxel_size_m: float,
                progress: Progress | None = None) -> ScanAlignment:
    """Align NEW to OLD from any placement; see ScanAlignment for what converged means."""
    coarse_voxel = 2 * voxel_size_m  # features of a whole room need no finer grid, and it is 4x cheaper
    found = registration.align_global(new_points, old_points, voxel_size=coarse_voxel, progress=progress)
    if not found.converged:
        return ScanAlignment(found.T_target_source, found.fitness, found.inlier_rmse, False)
    fine = registration.align(new_points, old_points, method="point_to_plane",
                              max_correspondence_distance=2 * voxel_size_m, voxel_size=voxel_size_m,
                              init=found.T_target_source, robust_kernel="tukey", kernel_scale=voxel_size_m)
    converged = fine.fitness >= MIN_FINE_FITNESS
    return ScanAlignment(np.array(fine.T_target_source), fine.fitness, fine.inlier_rmse, converged)
