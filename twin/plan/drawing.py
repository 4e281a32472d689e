"""A plan as layered primitives in world metres (lines, polygons, texts): what the SVG, PDF and DXF
writers draw, so all three show the same plan.

Layers are those of the DXF: walls, openings, machines, clearance, dimensions, text.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np

from twin.document import FloorPlan, TwinDocument
from twin.plan.footprints import Footprint, layout_footprints

LAYERS = ("clearance", "walls", "openings", "machines", "dimensions", "text")
"""In drawing order: the shaded zones under everything else."""


@dataclass(frozen=True)
class Shape:
    layer: str
    points: np.ndarray
    """(K, 2) world metres."""
    closed: bool = False
    dashed: bool = False
    fill: str | None = None
    """'zone' (a clearance zone), 'conflict' (one overlapping a wall or another zone), 'moved', 'machine'."""


@dataclass(frozen=True)
class Label:
    layer: str
    position: tuple[float, float]
    text: str
    height_m: float = 0.12


@dataclass
class PlanDrawing:
    shapes: list[Shape] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the plan could not be sure of (said in its title block and by the CLI)."""

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        points = np.vstack([s.points for s in self.shapes] + [np.array([l.position]) for l in self.labels])
        return points.min(axis=0), points.max(axis=0)


def build_drawing(document: TwinDocument, layout_id: str | None, uncertain_below: float = 0.5,
                  offset_m: tuple[float, float] = (0.0, 0.0), moved: set[str] = frozenset(),
                  revision: str = "A", date: datetime.date | None = None) -> PlanDrawing:
    """The plan of `document` (which must hold a floor_plan) in one layout, shifted by `offset_m`
    (side-by-side comparisons); machines in `moved` are highlighted."""
    plan = document.floor_plan
    if plan is None or not plan.walls:
        raise ValueError(f"the twin {document.name!r} has no floor plan yet; run `twin plan` on its scan folder "
                         "(it finds the walls in cloud.ply)")
    shift = np.asarray(offset_m, dtype=np.float64)
    drawing = PlanDrawing()
    outline = _walls(drawing, plan, uncertain_below, shift)
    _openings(drawing, plan, shift)
    footprints = layout_footprints(document, layout_id)
    _machines(drawing, footprints, plan.clearance_m, outline, moved, shift)
    _room_dimensions(drawing, outline + shift)
    low, high = (outline + shift).min(axis=0), (outline + shift).max(axis=0)
    _scale_bar_and_north(drawing, np.array([low[0], low[1] - 1.2]))
    when = (date or datetime.date.today()).isoformat()
    title = [f"{document.name}", f"layout: {layout_id or 'as scanned'}", f"date: {when}   revision: {revision}"]
    if drawing.notes:
        title.append("dashed: " + "; ".join(drawing.notes))
    for row, text in enumerate(title):
        drawing.labels.append(Label("text", (float(high[0]) - 3.0, float(low[1]) - 0.8 - 0.25 * row), text, 0.15))
    return drawing


def _walls(drawing: PlanDrawing, plan: FloorPlan, uncertain_below: float, shift: np.ndarray) -> np.ndarray:
    corners = []
    for wall in plan.walls:
        points = np.asarray(wall.points, dtype=np.float64)
        corners.append(points[0])
        uncertain = wall.confidence < uncertain_below
        if uncertain:
            drawing.notes.append(f"{wall.id} is uncertain ({wall.confidence:.0%} of it seen)")
        drawing.shapes.append(Shape("walls", points + shift, dashed=uncertain))
        if wall.thickness_m:
            # Its other face, on the outline's outer side (it runs counter-clockwise, the room on its left).
            direction = (points[-1] - points[0]) / np.linalg.norm(points[-1] - points[0])
            outward = np.array([direction[1], -direction[0]])
            drawing.shapes.append(Shape("walls", points + wall.thickness_m * outward + shift, dashed=uncertain))
            drawing.labels.append(Label("dimensions", tuple(points.mean(axis=0) + (wall.thickness_m + 0.15) * outward + shift),
                                        f"wall {wall.thickness_m:.2f}", 0.09))
    return np.array(corners)


def _openings(drawing: PlanDrawing, plan: FloorPlan, shift: np.ndarray) -> None:
    for opening in plan.openings:
        a, b = (np.asarray(p, dtype=np.float64) + shift for p in opening.points)
        drawing.shapes.append(Shape("openings", np.array([a, b]), dashed=opening.kind == "window"))
        width = np.linalg.norm(b - a)
        text = f"{opening.kind} {width:.2f}" + (f" sill {opening.sill_m:.2f}" if opening.sill_m is not None else "")
        drawing.labels.append(Label("openings", tuple((a + b) / 2), text, 0.1))


def _machines(drawing: PlanDrawing, footprints: list[Footprint], clearance_m: float, outline: np.ndarray,
              moved: set[str], shift: np.ndarray) -> None:
    zones = [_grown(f, clearance_m) for f in footprints]
    for index, (footprint, zone) in enumerate(zip(footprints, zones)):
        crosses_wall = not all(_inside(p, outline) for p in zone)
        overlaps = any(_convex_overlap(zone, other) for k, other in enumerate(zones) if k != index)
        drawing.shapes.append(Shape("clearance", zone + shift, closed=True,
                                    fill="conflict" if crosses_wall or overlaps else "zone"))
        drawing.shapes.append(Shape("machines", footprint.corners + shift, closed=True,
                                    fill="moved" if footprint.id in moved else "machine"))
        centre = footprint.corners.mean(axis=0) + shift
        drawing.labels.append(Label("text", tuple(centre), footprint.name, 0.12))
        wall_point, machine_point = _nearest_to_outline(footprint.corners, outline)
        _dimension(drawing, machine_point + shift, wall_point + shift)
    walkways = set()
    for footprint in footprints:
        others = [f for f in footprints if f is not footprint]
        if not others:
            continue
        gap, a, b, nearest = min((_polygon_gap(footprint.corners, o.corners) + (o.id,) for o in others),
                                 key=lambda g: g[0])
        pair = frozenset((footprint.id, nearest))
        if gap < 3.0 and pair not in walkways:  # the narrowest passage beside each machine, once per pair
            walkways.add(pair)
            _dimension(drawing, a + shift, b + shift, prefix="walkway ")


def _grown(footprint: Footprint, margin_m: float) -> np.ndarray:
    """The footprint grown by `margin_m` on every side, in the machine's own axes."""
    centre = footprint.corners.mean(axis=0)
    u = footprint.corners[1] - footprint.corners[0]
    v = footprint.corners[3] - footprint.corners[0]
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    return np.array([c + margin_m * (np.sign((c - centre) @ u) * u + np.sign((c - centre) @ v) * v)
                     for c in footprint.corners])


def _inside(point: np.ndarray, polygon: np.ndarray) -> bool:
    """Even-odd rule."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0)):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _convex_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating axis test for two convex polygons."""
    for polygon in (a, b):
        for p, q in zip(polygon, np.roll(polygon, -1, axis=0)):
            axis = np.array([q[1] - p[1], p[0] - q[0]])
            if (a @ axis).max() <= (b @ axis).min() or (b @ axis).max() <= (a @ axis).min():
                return False
    return True


def _closest_on_segment(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    t = np.clip((point - a) @ (b - a) / max((b - a) @ (b - a), 1e-12), 0.0, 1.0)
    return a + t * (b - a)


def _edge_pairs(polygon: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(zip(polygon, np.roll(polygon, -1, axis=0)))


def _nearest_to_outline(corners: np.ndarray, outline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point on a wall, corner of the footprint) that are closest."""
    pairs = [(_closest_on_segment(c, a, b), c) for c in corners for a, b in _edge_pairs(outline)]
    return min(pairs, key=lambda pair: np.linalg.norm(pair[0] - pair[1]))


def _polygon_gap(p: np.ndarray, q: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The clear distance between two footprints and the closest points (0 where they overlap)."""
    if _convex_overlap(p, q):
        return 0.0, p.mean(axis=0), q.mean(axis=0)
    pairs = [(c, _closest_on_segment(c, a, b)) for c in p for a, b in _edge_pairs(q)]
    pairs += [(_closest_on_segment(c, a, b), c) for c in q for a, b in _edge_pairs(p)]
    a, b = min(pairs, key=lambda pair: np.linalg.norm(pair[0] - pair[1]))
    return float(np.linalg.norm(a - b)), a, b


def _dimension(drawing: PlanDrawing, a: np.ndarray, b: np.ndarray, prefix: str = "") -> None:
    length = float(np.linalg.norm(b - a))
    if length < 0.01:
        return
    drawing.shapes.append(Shape("dimensions", np.array([a, b])))
    drawing.labels.append(Label("dimensions", tuple((a + b) / 2), f"{prefix}{length:.2f}", 0.09))


def _room_dimensions(drawing: PlanDrawing, outline: np.ndarray) -> None:
    low, high = outline.min(axis=0), outline.max(axis=0)
    _dimension(drawing, np.array([low[0], low[1] - 0.4]), np.array([high[0], low[1] - 0.4]))
    _dimension(drawing, np.array([high[0] + 0.4, low[1]]), np.array([high[0] + 0.4, high[1]]))


def _scale_bar_and_north(drawing: PlanDrawing, origin: np.ndarray) -> None:
    """A 2 m bar in 1 m blocks, and an arrow along +y (the world's up on the plan; the scan knows no compass)."""
    for k in range(2):
        block = origin + np.array([[k, 0], [k + 1, 0], [k + 1, 0.1], [k, 0.1]], dtype=np.float64)
        drawing.shapes.append(Shape("dimensions", block, closed=True, fill="machine" if k == 0 else None))
    drawing.labels.append(Label("text", tuple(origin + [0.0, -0.25]), "0", 0.12))
    drawing.labels.append(Label("text", tuple(origin + [2.0, -0.25]), "2 m", 0.12))
    tip = origin + np.array([2.8, 0.6])
    drawing.shapes.append(Shape("dimensions", np.array([tip - [0, 0.6], tip, tip + [-0.12, -0.2], tip, tip + [0.12, -0.2]])))
    drawing.labels.append(Label("text", tuple(tip + [0.0, 0.1]), "up (+y)", 0.12))
