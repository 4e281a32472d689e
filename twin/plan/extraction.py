"""Walls and openings from a levelled cloud (z up): straight walls by RANSAC on a horizontal band,
merged and snapped to right angles, closed into an outline (a convex room: rectangular workshops); doors and windows where a wall's face
has a gap with nothing in front of it.

Only what points support is drawn: walls whose face is thinly covered get a low confidence (plans
draw them dashed); too few walls is an error, never an invented room.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.document import FloorPlan, PlanOpening, PlanWall


@dataclass(frozen=True)
class PlanSettings:
    wall_band_m: tuple[float, float] = (1.0, 2.6)
    """Heights above the floor whose points make the wall lines (above most furniture)."""
    inlier_m: float = 0.03
    """A point this close to a line is on that wall's face."""
    min_wall_m: float = 0.8
    """Shorter straight runs are furniture or clutter, not walls."""
    snap_deg: float = 5.0
    """Walls within this of a right angle to the main wall are snapped to it."""
    cell_m: float = 0.05
    """Resolution along a wall's face for its coverage and its gaps."""
    min_opening_m: float = 0.5
    probe_heights_m: tuple[float, float] = (1.3, 2.0)
    """A door or window leaves the wall's face empty over this height range."""
    uncertain_below: float = 0.5
    """Walls with less support than this are drawn dashed."""
    seed: int = 0


def extract_floor_plan(points: np.ndarray, source: str, settings: PlanSettings = PlanSettings()) -> FloorPlan:
    """The floor plan of a levelled cloud (N, 3) in metres; `source` names it in errors."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"{source}: holds no points; a floor plan needs the reconstructed cloud of the room")
    points = points[np.all(np.isfinite(points), axis=1)]
    floor_z = level_floor_z(points, source)
    above = points[:, 2] - floor_z
    in_band = (above >= settings.wall_band_m[0]) & (above <= settings.wall_band_m[1])
    band = np.column_stack([points[in_band, :2], above[in_band]])
    lines = _wall_lines(band, settings, source)
    corners = _outline(lines, source)
    walls, openings = [], []
    for index, (start, end) in enumerate(zip(corners, np.roll(corners, -1, axis=0))):
        wall_id = f"wall-{index + 1}"
        coverage, gaps = _face_profile(points, above, start, end, settings)
        found = [_opening(f"{wall_id}-opening-{k + 1}", wall_id, start, end, gap, settings)
                 for k, gap in enumerate(gaps)]
        openings += found
        opened = sum(o[1] - o[0] for o in gaps)
        length = float(np.linalg.norm(end - start))
        confidence = min(1.0, coverage / max(length - opened, settings.cell_m))
        walls.append(PlanWall(wall_id, (tuple(map(float, start)), tuple(map(float, end))), round(confidence, 3)))
    return FloorPlan(walls=tuple(walls), openings=tuple(openings), floor_z_m=float(floor_z))


def level_floor_z(points: np.ndarray, source: str) -> float:
    """The floor's height: the lowest dense horizontal layer. A tilted or floorless cloud has none."""
    bins = np.arange(points[:, 2].min(), points[:, 2].max() + 0.04, 0.02)
    counts, edges = np.histogram(points[:, 2], bins=bins)
    lower = counts[: max(1, len(counts) // 3)]
    peak = int(np.argmax(lower))
    # A levelled floor puts a large share of the points in one 2 cm slice; a tilted one smears them.
    if len(counts) < 3 or lower[peak] < 0.05 * len(points):
        raise ValueError(f"{source}: no levelled floor found (no horizontal layer of points near the bottom); "
                         "level the scan with z up (twin reconstruct does) before making a plan")
    return float((edges[peak] + edges[peak + 1]) / 2)


def _wall_lines(band_xyh: np.ndarray, settings: PlanSettings, source: str) -> list[tuple[np.ndarray, float]]:
    """Wall lines as (unit normal, offset) with normal @ p = offset, normals pointing into the room,
    from band points (x, y, height above the floor)."""
    band = band_xyh[:, :2]
    if len(band) < 200:
        raise ValueError(f"{source}: too few wall points ({len(band)}) between {settings.wall_band_m[0]} and "
                         f"{settings.wall_band_m[1]} m above the floor to find walls; scan the walls at that height")
    rng = np.random.default_rng(settings.seed)
    if len(band) > 60_000:
        band_xyh = band_xyh[rng.choice(len(band), 60_000, replace=False)]
        band = band_xyh[:, :2]
    centre = np.median(band, axis=0)
    remaining = band_xyh
    found: list[tuple[np.ndarray, float, float]] = []  # normal, offset, face area covered
    for _ in range(24):
        if len(remaining) < 50:
            break
        normal, offset, inliers = _ransac_line(remaining[:, :2], settings.inlier_m, rng)
        length, area = _support(remaining[inliers], normal, settings.cell_m)
        remaining = remaining[~inliers]
        if length < settings.min_wall_m:
            continue
        if normal @ centre < offset:
            normal, offset = -normal, -offset  # into the room: the room's centre on the positive side
        # A wall has the room on one side only; a machine's face has its body behind it.
        behind = np.mean(band @ normal - offset < -0.3)
        if behind < 0.005:
            found.append((normal, offset, area))
    if not found:
        raise ValueError(f"{source}: no straight walls found in the band {settings.wall_band_m} m above the floor")
    found.sort(key=lambda f: -f[2])  # the main wall, which the others are snapped to, first
    main_angle = math.atan2(found[0][0][1], found[0][0][0])
    lines: list[tuple[np.ndarray, float, float]] = []  # normal, offset, face area
    for normal, offset, _ in found:
        angle = math.atan2(normal[1], normal[0])
        quarter = round((angle - main_angle) / (math.pi / 2))
        if abs(angle - main_angle - quarter * math.pi / 2) < math.radians(settings.snap_deg):
            angle = main_angle + quarter * math.pi / 2
        snapped = np.array([math.cos(angle), math.sin(angle)])
        # Refit along the snapped normal: the densest 1 cm slice near the line (a slightly tilted fit
        # may have taken in some of the glass behind a wall), then the median of the points on it.
        near = band_xyh[np.abs(band @ normal - offset) < 0.1]
        offsets = near[:, :2] @ snapped
        counts, edges = np.histogram(offsets, bins=np.arange(offsets.min(), offsets.max() + 0.02, 0.01))
        peak = (edges[np.argmax(counts)] + edges[np.argmax(counts) + 1]) / 2
        on_face = near[np.abs(offsets - peak) < settings.inlier_m]
        refitted = float(np.median(on_face[:, :2] @ snapped))
        lines.append((snapped, refitted, _support(on_face, snapped, settings.cell_m)[1]))
    # Of lines facing the same way (the room is taken as convex) the wall is the one whose face points
    # cover most: not a machine's back before it, nor the glass or door leaf set back in its openings.
    lines.sort(key=lambda line: -line[2])
    parallel = math.cos(math.radians(settings.snap_deg))
    return [(n, o) for k, (n, o, _) in enumerate(lines) if not any(m @ n > parallel for m, _, _ in lines[:k])]


def _ransac_line(points: np.ndarray, inlier_m: float, rng: np.random.Generator,
                 trials: int = 300) -> tuple[np.ndarray, float, np.ndarray]:
    pairs = rng.integers(0, len(points), size=(trials, 2))
    direction = points[pairs[:, 1]] - points[pairs[:, 0]]
    length = np.linalg.norm(direction, axis=1)
    keep = length > 0.2
    normals = np.stack([-direction[keep, 1], direction[keep, 0]], axis=1) / length[keep, None]
    if len(normals) == 0:
        return np.array([1.0, 0.0]), 0.0, np.zeros(len(points), bool)
    offsets = np.einsum("ij,ij->i", normals, points[pairs[keep, 0]])
    sample = points[rng.choice(len(points), min(len(points), 4000), replace=False)]
    scores = (np.abs(sample @ normals.T - offsets) < inlier_m).sum(axis=0)
    best = int(np.argmax(scores))
    normal, offset = normals[best], offsets[best]
    inliers = np.abs(points @ normal - offset) < inlier_m
    # Least squares on the inliers: the line through their centroid along their main direction.
    fitted = points[inliers]
    if len(fitted) >= 2:
        centroid = fitted.mean(axis=0)
        _, _, vt = np.linalg.svd(fitted - centroid, full_matrices=False)
        normal = np.array([-vt[0, 1], vt[0, 0]])
        offset = float(normal @ centroid)
        inliers = np.abs(points @ normal - offset) < inlier_m
    return normal, float(offset), inliers


def _support(points_xyh: np.ndarray, normal: np.ndarray, cell_m: float) -> tuple[float, float]:
    """Metres of a line that its points cover (cells along it), and square metres of face (cells along x up)."""
    along = np.floor(points_xyh[:, :2] @ np.array([-normal[1], normal[0]]) / cell_m)
    up = np.floor(points_xyh[:, 2] / cell_m)
    return len(np.unique(along)) * cell_m, len(np.unique(np.column_stack([along, up]), axis=0)) * cell_m ** 2


def _outline(lines: list[tuple[np.ndarray, float]], source: str) -> np.ndarray:
    """Corners (K, 2) of the closed outline: walls in order around the room, each meeting the next."""
    if len(lines) < 3:
        raise ValueError(f"{source}: only {len(lines)} wall(s) found; a closed floor plan needs at least 3 "
                         "(scan all round the room, or correct the plan by hand)")
    # Each wall's normal points into the room, so its outward direction orders the walls around it.
    lines = sorted(lines, key=lambda line: math.atan2(-line[0][1], -line[0][0]))
    corners = []
    for (n1, o1), (n2, o2) in zip(np.roll(np.array(lines, dtype=object), 1, axis=0), lines):
        matrix = np.array([n1, n2], dtype=np.float64)
        if abs(np.linalg.det(matrix)) < 0.1:
            raise ValueError(f"{source}: two walls found next to each other run parallel; the outline cannot be "
                             "closed without inventing a wall (scan the wall between them)")
        corners.append(np.linalg.solve(matrix, [o1, o2]))
    return np.array(corners)


def _face_profile(points: np.ndarray, above: np.ndarray, start: np.ndarray, end: np.ndarray,
                  settings: PlanSettings) -> tuple[float, list[tuple[float, float, float, float]]]:
    """How many metres of the wall's face points cover in the probe heights, and its gaps there as
    (from, to along the wall in m, sill, head above the floor) with nothing in front of them."""
    length = float(np.linalg.norm(end - start))
    along_dir = (end - start) / length
    inward = np.array([-along_dir[1], along_dir[0]])
    room_centre_side = np.sign(inward @ (points[:, :2].mean(axis=0) - start)) or 1.0
    inward = inward * room_centre_side
    xy = points[:, :2] - start
    along, depth = xy @ along_dir, xy @ inward
    cells = int(math.ceil(length / settings.cell_m))
    column = np.clip((along / settings.cell_m).astype(int), 0, cells - 1)
    within = (along >= 0) & (along <= length)
    low, high = settings.probe_heights_m
    probe = within & (above >= low) & (above <= high)
    on_face = probe & (np.abs(depth) < settings.inlier_m)
    in_front = probe & (depth >= settings.inlier_m) & (depth < 0.5)
    covered = np.zeros(cells, bool)
    covered[column[on_face]] = True
    blocked = np.zeros(cells, bool)
    blocked[column[in_front]] = True
    gaps = []
    face_all = within & (np.abs(depth) < settings.inlier_m)
    for first, last in _runs(~covered & ~blocked):
        if (last - first) * settings.cell_m < settings.min_opening_m or first == 0 or last == cells \
                or not (covered[first - 1] and covered[last]):
            continue  # too narrow for a door, or a stretch of the wall that was not seen (at an end, beside an obstacle)
        # Sill and head from the gap's inner columns (its edge cells hold some of the wall beside it);
        # its ends from the last face points before and the first after it.
        in_gap = face_all & (column > first) & (column < last - 1)
        heights = above[in_gap]
        lintel = np.unique(column[in_gap & (above > high)])
        if len(lintel) < 0.5 * (last - first - 2):
            continue  # no wall seen above it: unseen wall, not an opening

        sill = float(heights[heights < low].max()) if np.any(heights < low) else 0.0
        head = float(heights[heights > high].min()) if np.any(heights > high) else float(high)
        face_along = along[on_face]
        before = face_along[face_along < (first + 1) * settings.cell_m]
        after = face_along[face_along > (last - 1) * settings.cell_m]
        gaps.append((float(before.max()) if len(before) else first * settings.cell_m,
                     float(after.min()) if len(after) else last * settings.cell_m, sill, head))
    return float(covered.sum() * settings.cell_m), gaps


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) index pairs of the runs of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def _opening(opening_id: str, wall_id: str, start: np.ndarray, end: np.ndarray,
             gap: tuple[float, float, float, float], settings: PlanSettings) -> PlanOpening:
    first, last, sill, head = gap
    direction = (end - start) / np.linalg.norm(end - start)
    a, b = start + direction * first, start + direction * last
    is_door = sill < 0.1
    return PlanOpening(opening_id, "door" if is_door else "window", wall_id,
                       (tuple(map(float, a)), tuple(map(float, b))), 1.0,
                       sill_m=None if is_door else round(sill, 3), head_m=round(head, 3))
