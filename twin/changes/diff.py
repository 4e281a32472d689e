"""`diff_scans`: align NEW to OLD, measure distances, group significant points into change regions,
pair removed and added regions that are one object moved, and name the machines they belong to."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from twin import registration
from twin.changes.alignment import ScanAlignment, align_scans
from twin.changes.distances import cloud_to_cloud, m3c2
from twin.changes.machines import machine_of
from twin.changes.motion import Motion, match_motion
from twin.changes.regions import Region, connected_regions
from twin.document import TwinDocument
from twin.progress import Progress


@dataclass(frozen=True)
class DiffSettings:
    """Lengths in metres. voxel_size_m: the grid both scans are compared on (also evens out their
    densities); the M3C2 radii and the smallest change are multiples of it unless given."""

    voxel_size_m: float = 0.05
    min_change_m: float | None = None       # default 3 voxels: below it, a change is noise
    normal_radius_m: float | None = None     # default 2 voxels
    cylinder_radius_m: float | None = None   # default 1 voxel
    max_depth_m: float = 0.5
    min_region_points: int = 30

    def resolved(self, name: str, voxels: float) -> float:
        value = getattr(self, name)
        return voxels * self.voxel_size_m if value is None else value


@dataclass(frozen=True)
class Change:
    """One change region: kind "added", "removed" or "moved"; centroid and bounds in OLD's frame
    (for "moved", of its old place); its point count; the machine it belongs to, if a document was
    given; the motion, for "moved"."""

    kind: str
    centroid: np.ndarray
    bounds: tuple[np.ndarray, np.ndarray]
    points: int
    machine: str | None = None
    motion: Motion | None = None
    displacement_m: np.ndarray | None = None
    """For "moved": where the machine's origin went (the region's centroid without a machine), metres."""

    def describe(self) -> str:
        """'printer-1 moved 0.81 m, turned 2°', 'region added at (1.00, 2.00, 0.50)'."""
        who = self.machine or "region"
        if self.motion is not None:
            moved = float(np.linalg.norm(self.displacement_m))
            return f"{who} moved {moved:.2f} m, turned {self.motion.turn_deg:.0f}°"
        x, y, z = self.centroid
        return f"{who} {self.kind} at ({x:.2f}, {y:.2f}, {z:.2f})"


@dataclass(frozen=True)
class ScanDiff:
    """T_old_new maps NEW into OLD's frame; `distance` and `significant` are per point of NEW
    (`new_in_old`); `changes` is empty when not converged (no diff is claimed without alignment)."""

    alignment: ScanAlignment
    new_in_old: np.ndarray
    distance: np.ndarray
    significant: np.ndarray
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return self.alignment.converged

    @property
    def T_old_new(self) -> np.ndarray:
        return self.alignment.T_old_new


def diff_scans(old_points, new_points, *, document: TwinDocument | None = None,
               settings: DiffSettings = DiffSettings(), progress: Progress | None = None) -> ScanDiff:
    """What changed from OLD to NEW (both (N, 3), metres, in any frames); `document`: OLD's twin
    document, to name machines. ValueError for empty or non-finite clouds."""
    started = time.perf_counter()
    old = registration.as_points(old_points, "the old cloud")
    new = registration.as_points(new_points, "the new cloud")
    voxel = settings.voxel_size_m
    old_grid = registration.voxel_downsample(old, voxel)
    new_grid = registration.voxel_downsample(new, voxel)
    for grid, name in ((old_grid, "old"), (new_grid, "new")):
        if len(grid) < 100:
            raise ValueError(f"the {name} cloud covers only {len(grid)} cells of {voxel} m: too little to compare "
                             "(give a real scan, or a smaller voxel_size_m)")
    report = progress or (lambda stage, done, total: None)
    alignment = align_scans(old_grid, new_grid, voxel, progress)
    new_in_old = new @ alignment.T_old_new[:3, :3].T + alignment.T_old_new[:3, 3]
    if not alignment.converged:
        nothing = np.full(len(new), np.nan)
        return ScanDiff(alignment, new_in_old, nothing, np.zeros(len(new), bool), [], time.perf_counter() - started)
    report("distances", 0, 2)
    new_grid_in_old = new_grid @ alignment.T_old_new[:3, :3].T + alignment.T_old_new[:3, 3]
    distance, significant = _changed(new_in_old, old_grid, new_grid_in_old, alignment, settings)
    report("distances", 1, 2)
    _, old_significant = _changed(old_grid, new_grid_in_old, old_grid, alignment, settings)
    report("distances", 2, 2)
    report("regions", 0, 1)
    link = 2 * voxel
    arrived = new_in_old[significant]
    if len(arrived):  # nothing significant: nothing arrived (the core refuses an empty cloud)
        arrived = registration.voxel_downsample(arrived, voxel)  # the old side's density
    added = [Region(arrived[i]) for i in connected_regions(arrived, link, settings.min_region_points)]
    removed = [Region(old_grid[old_significant][i]) for i in
               connected_regions(old_grid[old_significant], link, settings.min_region_points)]
    changes = _classify(removed, added, document, voxel)
    report("regions", 1, 1)
    return ScanDiff(alignment, new_in_old, distance, significant, changes, time.perf_counter() - started)


def _changed(core: np.ndarray, reference: np.ndarray, compared: np.ndarray, alignment: ScanAlignment,
             settings: DiffSettings) -> tuple[np.ndarray, np.ndarray]:
    """(distance, significant) at the core points from `reference` to `compared`: M3C2 where both
    scans have surface along the normal, else the nearest distance to the reference (something that
    arrived or left has no counterpart)."""
    min_change = settings.resolved("min_change_m", 3)
    result = m3c2(core, reference, compared, settings.resolved("normal_radius_m", 2),
                  settings.resolved("cylinder_radius_m", 1), settings.max_depth_m, alignment.inlier_rmse)
    nearest = cloud_to_cloud(core, reference, settings.max_depth_m * 4)
    defined = np.isfinite(result.distance)
    distance = np.where(defined, result.distance, nearest)
    significant = np.where(defined, result.significant & (np.abs(result.distance) > min_change), nearest > min_change)
    return distance, significant


def _classify(removed: list[Region], added: list[Region], document: TwinDocument | None,
              voxel: float) -> list[Change]:
    """Pairs removed and added regions that are one object moved (best shape fitness first), keeps
    the rest as they are, and drops the flat patches an object uncovered or covered where it stood."""
    candidates = []
    for r, old_place in enumerate(removed):
        for a, new_place in enumerate(added):
            motion = match_motion(old_place, new_place, voxel)
            if motion is not None:
                candidates.append((motion.fitness, r, a, motion))
    moves, used_removed, used_added = [], set(), set()
    for _, r, a, motion in sorted(candidates, key=lambda c: -c[0]):
        if r in used_removed or a in used_added:
            continue
        used_removed.add(r)
        used_added.add(a)
        moves.append((removed[r], motion))
    changes = [_change("moved", region, document, motion) for region, motion in _merge_moves(moves, document, voxel)]
    for kind, regions, used in (("removed", removed, used_removed), ("added", added, used_added)):
        for i, region in enumerate(regions):
            if i not in used and not _uncovered_patch(region, removed + added, voxel):
                changes.append(_change(kind, region, document, None))
    return changes


def _change(kind: str, region: Region, document: TwinDocument | None, motion: Motion | None) -> Change:
    machine = machine_of(region.points, document)
    displacement = None
    if motion is not None:
        origin = document.machine(machine).pose.translation if machine else region.centroid
        displacement = motion.of_point(origin)
    return Change(kind, region.centroid, region.bounds, len(region.points), machine, motion, displacement)


def _uncovered_patch(region: Region, others: list[Region], voxel: float) -> bool:
    """A region lying mostly inside a larger region's box: the floor and wall an object left bare
    (or now hides) where it stood; part of that object's change, not a change of its own."""
    margin = 5 * voxel  # the gap between an object and the wall or floor it stood against
    for other in others:
        if len(other.points) <= len(region.points):
            continue
        inside = np.all((region.points >= other.bounds[0] - margin) & (region.points <= other.bounds[1] + margin), axis=1)
        if inside.mean() >= 0.5:
            return True
    return False


def _merge_moves(moves: list[tuple[Region, Motion]], document: TwinDocument | None,
                 voxel: float) -> list[tuple[Region, Motion]]:
    """Pieces of one object moved (split by occlusion) become one region with the largest piece's
    motion: pieces of the same machine, or pieces that share one motion."""
    merged: list[tuple[Region, Motion]] = []
    for region, motion in sorted(moves, key=lambda m: -len(m[0].points)):
        machine = machine_of(region.points, document)
        for k, (kept, kept_motion) in enumerate(merged):
            same_motion = (np.linalg.norm(kept_motion.of_point(region.centroid) - motion.of_point(region.centroid))
                           < 2 * voxel and abs(kept_motion.turn_deg - motion.turn_deg) < 3)
            if same_motion or (machine is not None and machine == machine_of(kept.points, document)):
                merged[k] = (Region(np.concatenate([kept.points, region.points])), kept_motion)
                break
        else:
            merged.append((region, motion))
    return merged
