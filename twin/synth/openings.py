"""Doors and windows as real holes in the room's walls.

An object of kind 'window' or 'door' whose origin stands on a wall cuts its parts' extent out of
that wall, so a depth sensor sees through the wall face onto the glass or door leaf set back
behind it (what a scan of a real window shows), instead of a panel flat on a solid wall.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.synth.spec import Workshop

OPENING_KINDS = ("window", "door")
# An object this close to a wall's plane stands on that wall.
_ON_WALL_M = 0.05
# How far behind a wall's face an opening's content may sit and still be seen (the reveal's depth).
REVEAL_DEPTH_M = 0.3


@dataclass(frozen=True)
class WallOpening:
    """A rectangular hole in one wall: `along_m` and `height_m` are (start, end) in the wall's frame."""

    wall: str
    along_m: tuple[float, float]
    height_m: tuple[float, float]


def wall_frames(room_size_m: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per wall: a point of its face at the floor, the unit direction along it, its outward normal."""
    w, d, _ = room_size_m
    return {
        "south": (np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0])),
        "north": (np.array([0.0, d, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])),
        "west": (np.array([0.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([-1.0, 0.0, 0.0])),
        "east": (np.array([w, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0])),
    }


def wall_openings(workshop: Workshop) -> tuple[WallOpening, ...]:
    openings = []
    frames = wall_frames(workshop.room_size_m)
    for obj in workshop.objects:
        if obj.kind not in OPENING_KINDS:
            continue
        position = obj.T_world_object[:3, 3]
        for wall, (origin, along, outward) in frames.items():
            if abs((position - origin) @ outward) > _ON_WALL_M:
                continue
            corners = np.array([[x, y, z] for part in obj.parts for lo, hi in [part.bounds_m()]
                                for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
            world = corners @ obj.T_world_object[:3, :3].T + position
            u = (world - origin) @ along
            openings.append(WallOpening(wall, (float(u.min()), float(u.max())),
                                        (float(world[:, 2].min()), float(world[:, 2].max()))))
    return tuple(openings)


def wall_rectangles(length_m: float, height_m: float, holes: list[WallOpening]) -> list[tuple[float, float, float, float]]:
    """The wall (0..length along, 0..height up) minus its holes, as rectangles (u0, u1, z0, z1):
    vertical strips between the holes' edges, each cut around the holes that span it."""
    edges = sorted({0.0, length_m, *(min(max(u, 0.0), length_m) for h in holes for u in h.along_m)})
    rectangles = []
    for u0, u1 in zip(edges, edges[1:]):
        cuts = sorted(h.height_m for h in holes if h.along_m[0] <= u0 and u1 <= h.along_m[1])
        z = 0.0
        for z0, z1 in cuts:
            if z0 > z:
                rectangles.append((u0, u1, z, z0))
            z = max(z, z1)
        if z < height_m:
            rectangles.append((u0, u1, z, height_m))
    return rectangles


def in_opening(points: np.ndarray, openings: tuple[WallOpening, ...], room_size_m: np.ndarray) -> np.ndarray:
    """Which points lie within an opening's hole or up to REVEAL_DEPTH_M behind it."""
    inside = np.zeros(len(points), bool)
    frames = wall_frames(room_size_m)
    for opening in openings:
        origin, along, outward = frames[opening.wall]
        u, behind, z = (points - origin) @ along, (points - origin) @ outward, points[:, 2]
        inside |= ((opening.along_m[0] <= u) & (u <= opening.along_m[1]) & (opening.height_m[0] <= z)
                   & (z <= opening.height_m[1]) & (behind >= -1e-9) & (behind <= REVEAL_DEPTH_M))
    return inside
