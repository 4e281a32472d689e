"""Floor plans beyond the sample's box room: a wall whose other face was scanned too (its thickness
measured), and an L-shaped room (the outline follows the L, not its convex hull)."""
from __future__ import annotations

import numpy as np
import pytest

from twin.document import TwinDocument
from twin.plan import build_drawing, extract_floor_plan
from twin.synth import load_workshop
from twin.synth.openings import wall_openings, wall_rectangles

POINTS_PER_M2 = 1500
SOUTH_WALL_THICKNESS_M = 0.24


def _rectangle(rng: np.random.Generator, corner, u, v, size_u: float, size_v: float, noise_m: float = 0.005) -> np.ndarray:
    """Points spread over a rectangle in 3D (corner, unit directions u and v), with Gaussian noise."""
    count = max(1, int(size_u * size_v * POINTS_PER_M2))
    a, b = rng.random(count) * size_u, rng.random(count) * size_v
    points = np.asarray(corner) + a[:, None] * np.asarray(u) + b[:, None] * np.asarray(v)
    return points + rng.normal(0.0, noise_m, points.shape)


def _wall(rng, start, end, height_m: float) -> np.ndarray:
    start, end = np.append(start, 0.0), np.append(end, 0.0)
    length = float(np.linalg.norm(end - start))
    return _rectangle(rng, start, (end - start) / length, [0, 0, 1], length, height_m)


def test_a_wall_seen_from_both_sides_gets_its_thickness(surface_points):
    # The sample with its south wall also scanned from outside (a walk along the yard): the wall's
    # outer face 24 cm behind its inner one, with the windows' and the door's holes through it, and
    # the yard's ground at the floor's level.
    workshop = load_workshop()
    height = float(workshop.room_size_m[2])
    rng = np.random.default_rng(3)
    holes = [o for o in wall_openings(workshop) if o.wall == "south"]
    outer = [_rectangle(rng, [u0, -SOUTH_WALL_THICKNESS_M, z0], [1, 0, 0], [0, 0, 1], u1 - u0, z1 - z0)
             for u0, u1, z0, z1 in wall_rectangles(8.0, height, holes)]
    yard = _rectangle(rng, [-0.24, -2.24, 0.0], [1, 0, 0], [0, 1, 0], 8.48, 2.0)
    plan = extract_floor_plan(np.vstack([surface_points, *outer, yard]), "sample_and_yard")
    walls = {tuple(np.round(np.mean(w.points, axis=0))): w for w in plan.walls}
    south = walls[(4.0, 0.0)]
    assert south.thickness_m == pytest.approx(SOUTH_WALL_THICKNESS_M, abs=0.01)
    assert max(abs(p[1]) for p in south.points) < 0.03  # the room's face, not the yard's
    assert [w.thickness_m for w in plan.walls if w is not south] == [None, None, None]  # no other face seen
    assert len(plan.walls) == 4 and len(plan.openings) == 4  # the holes through the wall are still windows
    # Plans draw its other face, and say how thick it is.
    drawing = build_drawing(TwinDocument(name="sample", floor_plan=plan), None)
    faces = [s.points for s in drawing.shapes if s.layer == "walls"]
    assert len(faces) == 5 and sum(np.abs(f[:, 1] + SOUTH_WALL_THICKNESS_M).max() < 0.03 for f in faces) == 1
    assert "wall 0.24" in [label.text for label in drawing.labels]


L_ROOM = np.array([[0, 0], [8, 0], [8, 3], [5, 3], [5, 6], [0, 6]], dtype=np.float64)


def _l_shaped_room() -> np.ndarray:
    rng = np.random.default_rng(5)
    walls = [_wall(rng, a, b, 3.0) for a, b in zip(L_ROOM, np.roll(L_ROOM, -1, axis=0))]
    floor = np.vstack([_rectangle(rng, [0, 0, 0], [1, 0, 0], [0, 1, 0], 8.0, 3.0),   # the L's two arms
                       _rectangle(rng, [0, 3, 0], [1, 0, 0], [0, 1, 0], 5.0, 3.0)])
    # A cabinet against the north wall (1.5 m tall): its faces are no walls of the room.
    cabinet = np.vstack([_rectangle(rng, [1.0, 5.2, 0], [1, 0, 0], [0, 0, 1], 1.0, 1.5),
                         _rectangle(rng, [1.0, 5.2, 0], [0, 1, 0], [0, 0, 1], 0.8, 1.5),
                         _rectangle(rng, [2.0, 5.2, 0], [0, 1, 0], [0, 0, 1], 0.8, 1.5),
                         _rectangle(rng, [1.0, 5.2, 1.5], [1, 0, 0], [0, 1, 0], 1.0, 0.8)])
    cabinet_floor = (floor[:, 0] > 1.0) & (floor[:, 0] < 2.0) & (floor[:, 1] > 5.2)
    return np.vstack([*walls, floor[~cabinet_floor], cabinet])


def _area(polygon: np.ndarray) -> float:
    return 0.5 * float(np.sum(polygon[:, 0] * np.roll(polygon[:, 1], -1) - np.roll(polygon[:, 0], -1) * polygon[:, 1]))


def test_an_l_shaped_room_is_outlined_as_an_l_not_its_hull():
    plan = extract_floor_plan(_l_shaped_room(), "l_room")
    corners = np.array([w.points[0] for w in plan.walls])
    assert len(corners) == 6, corners
    for truth in L_ROOM:  # the inner corner (5, 3) too, which a convex outline cuts off
        assert np.min(np.linalg.norm(corners - truth, axis=1)) < 0.03, (truth, corners)
    assert _area(corners) == pytest.approx(39.0, abs=0.5)  # 8 x 6 less the 3 x 3 notch (its hull: 43.5)
    assert all(np.allclose(w.points[1], plan.walls[(k + 1) % 6].points[0]) for k, w in enumerate(plan.walls))
    assert all(w.confidence > 0.9 for w in plan.walls)
    assert all(w.thickness_m is None for w in plan.walls)
