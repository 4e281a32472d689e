"""Walls and openings from a levelled cloud (z up): straight walls by RANSAC on a horizontal band,
merged and snapped to right angles; the outline is the boundary of the floor the scan saw, cut by
those walls (so an L-shaped room stays an L); doors and windows where a wall's face has a gap with
nothing in front of it; a wall's thickness where its other face was seen behind it.

Only what points support is drawn: walls whose face is thinly covered get a low confidence (plans
draw them dashed); too few walls, or floor that runs on past the walls found, is an error, never an
invented room.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from twin.document import FloorPlan, PlanOpening, PlanWall
from twin.geometry import rotation_onto_z


# The walls that meet a wall at its ends lie this far into its stretch (their noise and inlier band).
_CORNER_M = 0.1
# Lines closer than this to facing the same way are rivals for one wall where their stretches overlap.
_SAME_FACING_DEG = 30.0


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
    floor_cell_m: float = 0.05
    """Resolution of the floor the outline follows."""
    max_tilt_deg: float = 3.0
    """A floor tilted by up to this (a reconstruction's tracking drift) is levelled first."""
    max_thickness_m: float = 0.6
    """A wall's other face is looked for this far behind it (and a wall may have its other face this far behind)."""
    seed: int = 0


def extract_floor_plan(points: np.ndarray, source: str, settings: PlanSettings = PlanSettings()) -> FloorPlan:
    """The floor plan of a levelled cloud (N, 3) in metres; `source` names it in errors."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"{source}: holds no points; a floor plan needs the reconstructed cloud of the room")
    points = _floor_made_level(points[np.all(np.isfinite(points), axis=1)], settings.max_tilt_deg)
    floor_z = level_floor_z(points, source)
    above = points[:, 2] - floor_z
    in_band = (above >= settings.wall_band_m[0]) & (above <= settings.wall_band_m[1])
    band = np.column_stack([points[in_band, :2], above[in_band]])
    floor_xy = points[np.abs(above) < 0.03, :2]
    lines = _wall_lines(band, floor_xy, settings, source)
    corners = _outline(lines, floor_xy, band[:, :2], settings, source)
    walls, openings = [], []
    for index, (start, end) in enumerate(zip(corners, np.roll(corners, -1, axis=0))):
        wall_id = f"wall-{index + 1}"
        along_dir = (end - start) / np.linalg.norm(end - start)
        inward = np.array([-along_dir[1], along_dir[0]])  # the outline runs counter-clockwise: the room on its left
        coverage, gaps = _face_profile(points, above, start, end, inward, settings)
        found = [_opening(f"{wall_id}-opening-{k + 1}", wall_id, start, end, gap, settings)
                 for k, gap in enumerate(gaps)]
        openings += found
        opened = sum(o[1] - o[0] for o in gaps)
        length = float(np.linalg.norm(end - start))
        confidence = min(1.0, coverage / max(length - opened, settings.cell_m))
        thickness = _thickness(band, start, end, inward, gaps, settings)
        walls.append(PlanWall(wall_id, (tuple(map(float, start)), tuple(map(float, end))), round(confidence, 3),
                              thickness))
    return FloorPlan(walls=tuple(walls), openings=tuple(openings), floor_z_m=float(floor_z))


def _floor_made_level(points: np.ndarray, max_tilt_deg: float) -> np.ndarray:
    """The cloud turned so that its floor is horizontal, where tracking drift left it tilted by at most
    `max_tilt_deg` (a cloud tilted further is left as it is, and refused as not levelled)."""
    low = points[points[:, 2] < np.percentile(points[:, 2], 1) + 0.25]
    if len(low) < 100:
        return points
    on_floor = np.ones(len(low), bool)
    for _ in range(4):  # least squares, trimmed to the points within 2 cm of the plane (not walls' feet)
        centroid = low[on_floor].mean(axis=0)
        normal = np.linalg.svd(low[on_floor] - centroid, full_matrices=False)[2][2]
        normal = normal if normal[2] > 0 else -normal
        on_floor = np.abs((low - centroid) @ normal) < 0.02
        if on_floor.sum() < 100:
            return points
    tilt = math.degrees(math.acos(min(1.0, normal[2])))
    return points @ rotation_onto_z(normal).T if 0.05 < tilt <= max_tilt_deg else points


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


def _wall_lines(band_xyh: np.ndarray, floor_xy: np.ndarray, settings: PlanSettings,
                source: str) -> list[tuple[np.ndarray, float]]:
    """Wall lines as (unit normal, offset) with normal @ p = offset, normals pointing into the room,
    from band points (x, y, height above the floor) and the floor's points."""
    band = band_xyh[:, :2]
    if len(band) < 200:
        raise ValueError(f"{source}: too few wall points ({len(band)}) between {settings.wall_band_m[0]} and "
                         f"{settings.wall_band_m[1]} m above the floor to find walls; scan the walls at that height")
    rng = np.random.default_rng(settings.seed)
    if len(band) > 60_000:
        band_xyh = band_xyh[rng.choice(len(band), 60_000, replace=False)]
        band = band_xyh[:, :2]
    remaining = band_xyh
    found: list[tuple[np.ndarray, float, float]] = []  # normal, offset, face area covered
    for _ in range(24):
        if len(remaining) < 50:
            break
        normal, offset, inliers = _ransac_line(remaining[:, :2], settings.inlier_m, rng)
        length, area = _support(remaining[inliers], normal, settings.cell_m)
        extent = _extent(remaining[inliers, :2], normal)
        remaining = remaining[~inliers]
        if length < settings.min_wall_m:
            continue
        normal, offset, extent = _facing_the_floor(normal, offset, extent, floor_xy, band)
        # A wall has the room on one side only; a machine's face has its body (or the wall it stands
        # before) behind it. Only what lies along the face counts: an L-shaped room's other arm does not.
        near = _along_within(band, normal, (extent[0] + _CORNER_M, extent[1] - _CORNER_M))
        behind = np.mean(band[near] @ normal - offset < -settings.max_thickness_m - settings.inlier_m) if near.any() else 0
        if behind < 0.005:
            found.append((normal, offset, area))
    if not found:
        raise ValueError(f"{source}: no straight walls found in the band {settings.wall_band_m} m above the floor")
    found.sort(key=lambda f: -f[2])  # the main wall, which the others are snapped to, first
    main_angle = math.atan2(found[0][0][1], found[0][0][0])
    lines: list[tuple[np.ndarray, float, float, tuple[float, float]]] = []  # normal, offset, face area, extent
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
        lines.append((snapped, refitted, _support(on_face, snapped, settings.cell_m)[1], _extent(on_face[:, :2], snapped)))
    # Of lines facing about the same way along the same stretch, the wall is the one whose face points
    # cover most: not a machine's face before it, nor the glass or door leaf set back in its openings.
    # Stretches that do not overlap are walls of their own (an L-shaped room's two walls facing north).
    lines.sort(key=lambda line: -line[2])
    alike = math.cos(math.radians(_SAME_FACING_DEG))
    kept: list[tuple[np.ndarray, float, float, tuple[float, float]]] = []
    for n, o, area, (a0, a1) in lines:
        if not any(m @ n > alike and min(a1, b1) - max(a0, b0) > 2 * _CORNER_M for m, _, _, (b0, b1) in kept):
            kept.append((n, o, area, (a0, a1)))
    return [(n, o) for n, o, _, _ in kept]


def _extent(points_xy: np.ndarray, normal: np.ndarray, gap_m: float = 1.5) -> tuple[float, float]:
    """Where along a line (metres on its direction) its wall lies: the stretch holding most of its
    points, without the few where another wall crosses the line further on (gaps over `gap_m`)."""
    along = np.sort(points_xy @ np.array([-normal[1], normal[0]]))
    breaks = np.flatnonzero(np.diff(along) > gap_m)
    starts, ends = np.concatenate([[0], breaks + 1]), np.concatenate([breaks + 1, [len(along)]])
    densest = int(np.argmax(ends - starts))
    return float(along[starts[densest]]), float(along[ends[densest] - 1])


def _along_within(points_xy: np.ndarray, normal: np.ndarray, extent: tuple[float, float]) -> np.ndarray:
    along = points_xy @ np.array([-normal[1], normal[0]])
    return (along >= extent[0]) & (along <= extent[1])


def _facing_the_floor(normal: np.ndarray, offset: float, extent: tuple[float, float], floor_xy: np.ndarray,
                      band: np.ndarray) -> tuple[np.ndarray, float, tuple[float, float]]:
    """The line (and its extent, which runs the other way when it turns) with its normal towards the
    room: the side where the floor was seen along it (the middle of the band's points where no floor
    is near, as when the floor was not scanned)."""
    near = _along_within(floor_xy, normal, extent)
    depth = floor_xy[near] @ normal - offset
    front, back = np.sum((depth > 0.05) & (depth < 0.6)), np.sum((depth < -0.05) & (depth > -0.6))
    if front + back < 20:
        front, back = normal @ np.median(band, axis=0) - offset, 0.0
    return (normal, offset, extent) if front >= back else (-normal, -offset, (-extent[1], -extent[0]))


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


def _outline(lines: list[tuple[np.ndarray, float]], floor_xy: np.ndarray, band_xy: np.ndarray,
             settings: PlanSettings, source: str) -> np.ndarray:
    """Corners (K, 2) of the closed outline, counter-clockwise: the boundary of the floor the scan saw,
    taken whole between the walls (the wall lines cut the plane into cells; a cell whose floor was
    mostly seen is in the room), so a room of any shape the walls bound, convex or not."""
    if len(lines) < 3:
        raise ValueError(f"{source}: only {len(lines)} wall(s) found; a closed floor plan needs at least 3 "
                         "(scan all round the room, or correct the plan by hand)")
    if len(floor_xy) < 100:
        raise ValueError(f"{source}: too little floor seen ({len(floor_xy)} points) to tell the room from "
                         "what lies outside its walls; scan the floor too")
    room = _room_cells(lines, floor_xy, band_xy, settings.floor_cell_m)
    if room is None:
        raise ValueError(f"{source}: no floor found between the walls; the outline cannot be closed")
    room, low = room
    cell = settings.floor_cell_m
    if room[0].any() or room[-1].any() or room[:, 0].any() or room[:, -1].any():
        edge = low + cell * np.argwhere(room & _border(room.shape)).mean(axis=0)
        raise ValueError(f"{source}: the floor runs on past the walls found (near x {edge[0]:.1f}, y {edge[1]:.1f} m); "
                         "the outline cannot be closed without inventing a wall (scan the wall there)")
    normals = np.array([n for n, _ in lines])
    offsets = np.array([o for _, o in lines])
    contours, _ = cv2.findContours(room, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    boundary = low + (max(contours, key=len)[:, 0, ::-1] + 0.5) * cell  # contours are (column, row): (y, x) cells here
    # Each boundary step belongs to the wall it runs along; runs of one wall are the outline's sides.
    nearest = np.argmin(np.abs(boundary @ normals.T - offsets), axis=1)
    runs = [[int(nearest[0]), 0]]
    for wall in nearest:
        if wall == runs[-1][0]:
            runs[-1][1] += 1
        else:
            runs.append([int(wall), 1])
    if len(runs) > 1 and runs[0][0] == runs[-1][0]:
        runs[0][1] += runs.pop()[1]
    shortest = max(2, int(0.2 / cell))  # a corner's own few cells, not a side
    sides_in_order = []
    for wall, length in runs:
        if length >= shortest and (not sides_in_order or sides_in_order[-1] != wall):
            sides_in_order.append(wall)
    if len(sides_in_order) > 1 and sides_in_order[0] == sides_in_order[-1]:
        sides_in_order.pop()
    if len(sides_in_order) < 3:
        raise ValueError(f"{source}: only {len(sides_in_order)} wall(s) bound the floor; a closed floor plan needs at "
                         "least 3 (scan all round the room, or correct the plan by hand)")
    corners = []
    for a, b in zip(np.roll(sides_in_order, 1), sides_in_order):
        matrix = normals[[a, b]]
        if abs(np.linalg.det(matrix)) < 0.1:
            raise ValueError(f"{source}: two walls found next to each other run parallel; the outline cannot be "
                             "closed without inventing a wall (scan the wall between them)")
        corners.append(np.linalg.solve(matrix, offsets[[a, b]]))
    corners = np.array(corners)
    area = np.sum(corners[:, 0] * np.roll(corners[:, 1], -1) - np.roll(corners[:, 0], -1) * corners[:, 1])
    return corners if area > 0 else corners[::-1]


def _room_cells(lines: list[tuple[np.ndarray, float]], floor_xy: np.ndarray, band_xy: np.ndarray,
                cell_m: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The room as a raster (x, y cells of `cell_m` from the returned lower-left corner): the cells of
    the wall lines' arrangement where floor was seen (on 5 % of them at least: a scan sees only some of
    the floor), those of the largest stretch of floor that the walls' points do not cut off (not a yard
    seen behind a wall)."""
    low = floor_xy.min(axis=0) - 0.5
    shape = tuple(np.ceil((floor_xy.max(axis=0) + 0.5 - low) / cell_m).astype(int))
    centres = low + (np.indices(shape).reshape(2, -1).T + 0.5) * cell_m
    normals = np.array([n for n, _ in lines])
    offsets = np.array([o for _, o in lines])
    # Floor right at a wall may lie on either side of its line (noise): only clearly inside counts.
    floor_xy = floor_xy[np.min(np.abs(floor_xy @ normals.T - offsets), axis=1) > 0.03]
    seen = np.zeros(shape, bool)
    seen[tuple(((floor_xy - low) // cell_m).astype(int).T)] = True
    # Each point's side of every line names its cell of the arrangement.
    _, cell_of = np.unique(np.packbits(centres @ normals.T > offsets, axis=1), axis=0, return_inverse=True)
    cell_of = cell_of.reshape(-1)
    cells = int(cell_of.max()) + 1
    pixels = np.bincount(cell_of, minlength=cells)
    floored = np.bincount(cell_of, weights=seen.reshape(-1), minlength=cells) >= np.maximum(0.05 * pixels, 4)
    # The walls' points part the floor: of what lies on both sides of a wall, the room is the larger.
    wall = np.zeros(shape, bool)
    inside = np.all((band_xy >= low) & (band_xy < low + np.array(shape) * cell_m), axis=1)
    wall[tuple(((band_xy[inside] - low) // cell_m).astype(int).T)] = True
    open_floor = (floored[cell_of].reshape(shape) & ~wall).astype(np.uint8)
    count, labels = cv2.connectedComponents(open_floor, connectivity=4)
    if count < 2:
        return None
    largest = labels == 1 + int(np.argmax(np.bincount(labels.reshape(-1))[1:]))
    share = np.bincount(cell_of, weights=largest.reshape(-1), minlength=cells) / pixels
    return (floored & (share >= 0.3))[cell_of].reshape(shape).astype(np.uint8), low


def _border(shape: tuple[int, int]) -> np.ndarray:
    border = np.zeros(shape, bool)
    border[[0, -1]] = border[:, [0, -1]] = True
    return border


def _face_profile(points: np.ndarray, above: np.ndarray, start: np.ndarray, end: np.ndarray, inward: np.ndarray,
                  settings: PlanSettings) -> tuple[float, list[tuple[float, float, float, float]]]:
    """How many metres of the wall's face points cover in the probe heights, and its gaps there as
    (from, to along the wall in m, sill, head above the floor) with nothing in front of them (on the
    `inward` side)."""
    length = float(np.linalg.norm(end - start))
    along_dir = (end - start) / length
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


def _thickness(band_xyh: np.ndarray, start: np.ndarray, end: np.ndarray, inward: np.ndarray,
               gaps: list[tuple[float, float, float, float]], settings: PlanSettings) -> float | None:
    """The wall's thickness where its other face was seen: a face parallel to it, behind it, covering
    at least half of the wall outside its openings (glass set back in a window covers only the window);
    None where it was not seen."""
    length = float(np.linalg.norm(end - start))
    along_dir = (end - start) / length
    xy = band_xyh[:, :2] - start
    along, depth = xy @ along_dir, -(xy @ inward)
    behind = (along >= 0) & (along <= length) & (depth > 2 * settings.inlier_m) & (depth < settings.max_thickness_m)
    if behind.sum() < 20:
        return None
    counts, edges = np.histogram(depth[behind], bins=np.arange(2 * settings.inlier_m, settings.max_thickness_m + 0.01, 0.01))
    peak = (edges[np.argmax(counts)] + edges[np.argmax(counts) + 1]) / 2
    face = behind & (np.abs(depth - peak) < settings.inlier_m / 2)
    columns = np.unique((along[face] // settings.cell_m).astype(int))
    in_gap = np.zeros(len(columns), bool)
    for first, last, _, _ in gaps:
        in_gap |= (columns * settings.cell_m >= first) & (columns * settings.cell_m <= last)
    opened = sum(last - first for first, last, _, _ in gaps)
    if (~in_gap).sum() * settings.cell_m < 0.5 * (length - opened):
        return None
    return round(float(np.median(depth[face])), 3)


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
