"""Triangle meshes from the workshop's primitives, with what shading needs per triangle.

Every triangle carries its material and a linear map from world points to texture coordinates
in metres (`uv = axes @ p + offset`), so a hit point's colour is a function of where it is on
its surface. Faces that cannot be seen (a box's bottom on the floor, a poster's back on the wall,
faces buried in another part) are dropped, so the ground-truth mesh holds only real surface.
"""
from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass

import numpy as np

from twin.synth.openings import WallOpening, in_opening, wall_frames, wall_openings, wall_rectangles
from twin.synth.spec import FiducialMarker, Part, SceneObject, Workshop

_UP = np.array([0.0, 0.0, 1.0])
# A face is hidden if points just outside it are inside a solid; this is "just outside".
_PROBE_M = 0.003
MARKER_MARGIN_CELLS = 1
"""White cells printed around a marker's black square (the quiet zone detectors need)."""


@dataclass(frozen=True)
class Scene:
    vertices: np.ndarray
    """(V, 3) float64."""
    triangles: np.ndarray
    """(T, 3) int32, counter-clockwise seen from outside (normals point out of solids, into the room)."""
    material_index: np.ndarray
    """(T,) int32 into `material_names`."""
    material_names: tuple[str, ...]
    uv_axes: np.ndarray
    """(T, 2, 3): texture u and v directions; uv = uv_axes @ p + uv_offset, in metres."""
    uv_offset: np.ndarray
    """(T, 2)."""

    @functools.cached_property
    def _uv_rows(self) -> np.ndarray:
        """(T, 8) float32 rows [u axis x, y, z, u offset, v axis x, y, z, v offset]: one gather per
        point (float32 keeps micrometres over the few tens of metres the coordinates span)."""
        return np.concatenate([self.uv_axes, self.uv_offset[:, :, None]], axis=2).reshape(-1, 8).astype(np.float32)

    def uv_m(self, points: np.ndarray, triangle_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Texture coordinates u, v (N,) float32 in metres of points lying on the given triangles."""
        rows = np.take(self._uv_rows, triangle_ids, axis=0)
        x, y, z = (points[:, i].astype(np.float32, copy=False) for i in range(3))
        return tuple(rows[:, k] * x + rows[:, k + 1] * y + rows[:, k + 2] * z + rows[:, k + 3] for k in (0, 4))

    def triangle_normals(self) -> np.ndarray:
        a, b, c = (self.vertices[self.triangles[:, i]] for i in range(3))
        normals = np.cross(b - a, c - a)
        return normals / np.linalg.norm(normals, axis=1, keepdims=True)


@dataclass(frozen=True)
class _Face:
    """A planar convex polygon with outward normal and texture frame (all in one frame)."""

    corners: np.ndarray
    normal: np.ndarray
    material: str
    uv_axes: np.ndarray
    uv_offset: np.ndarray

    def transformed(self, T: np.ndarray) -> "_Face":
        R, t = T[:3, :3], T[:3, 3]
        axes = self.uv_axes @ R.T
        return _Face(self.corners @ R.T + t, R @ self.normal, self.material, axes, self.uv_offset - axes @ t)

    def probes(self) -> np.ndarray:
        """Points just outside the face: its centre and points towards four of its corners."""
        centre = self.corners.mean(axis=0)
        corners = self.corners[np.linspace(0, len(self.corners), 4, endpoint=False).astype(int)]
        inner = centre + 0.9 * (corners - centre)
        return np.vstack([centre, inner]) + _PROBE_M * self.normal


def _texture_axes(normal: np.ndarray, up: np.ndarray) -> np.ndarray:
    """u to the right and v downwards as seen from outside the face, so that text reads upright."""
    if abs(normal @ up) > 0.9:
        u = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        u = u - (u @ normal) * normal
    else:
        u = np.cross(up, normal)
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(u, normal)])


def _seed_offset(key: str) -> np.ndarray:
    """Where on its material's texture a surface starts: different for every surface, same every run."""
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return rng.uniform(0.0, 50.0, 2)


def _box_faces(part: Part, key: str) -> list[_Face]:
    half = part.size_m / 2
    faces = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            normal = np.zeros(3)
            normal[axis] = sign
            axes = _texture_axes(normal, _UP)
            u, v = axes
            centre = part.center_m + normal * half
            extent_u = np.abs(u) @ half
            extent_v = np.abs(v) @ half
            corners = np.array([centre - u * extent_u - v * extent_v, centre + u * extent_u - v * extent_v,
                                centre + u * extent_u + v * extent_v, centre - u * extent_u + v * extent_v])
            # (u, v) runs clockwise seen from outside (v points down), so reverse for an outward normal.
            corners = corners[::-1]
            faces.append(_Face(corners, normal, part.material, axes,
                               _seed_offset(f"{key}/{axis}{sign}") - axes @ centre))
    return faces


def _cylinder_faces(part: Part, key: str) -> list[_Face]:
    axis = np.zeros(3)
    axis[part.axis] = 1.0
    e1 = np.zeros(3)
    e1[(part.axis + 1) % 3] = 1.0
    e2 = np.cross(axis, e1)
    segments = 32 if part.radius_m > 0.05 else 16
    angles = np.linspace(0, 2 * math.pi, segments + 1)
    rim = part.radius_m * (np.outer(np.cos(angles), e1) + np.outer(np.sin(angles), e2))
    half = axis * part.length_m / 2
    base = _seed_offset(key)
    chord = 2 * part.radius_m * math.sin(math.pi / segments)
    faces = []
    for i in range(segments):
        a, b = part.center_m + rim[i], part.center_m + rim[i + 1]
        normal = (rim[i] + rim[i + 1]) / np.linalg.norm(rim[i] + rim[i + 1])
        u = (b - a) / np.linalg.norm(b - a)
        v = -axis
        axes = np.stack([u, v])
        # u continues around the cylinder, so the texture wraps without jumps.
        offset = base + np.array([i * chord, 0.0]) - axes @ (a - half)
        faces.append(_Face(np.array([a - half, b - half, b + half, a + half]), normal, part.material, axes, offset))
    for sign in (-1.0, 1.0):
        ring = part.center_m + sign * half + rim[:-1]
        normal = sign * axis
        axes = np.stack([e1, -sign * e2])  # mirror-free seen from outside, like the other faces
        faces.append(_Face(ring if sign > 0 else ring[::-1], normal, part.material, axes,
                           _seed_offset(f"{key}/cap{sign}") - axes @ (part.center_m + sign * half)))
    return faces


def _part_faces(part: Part, key: str) -> list[_Face]:
    return _box_faces(part, key) if part.shape == "box" else _cylinder_faces(part, key)


def _inside_part(points: np.ndarray, part: Part, T_world_object: np.ndarray) -> np.ndarray:
    local = (points - T_world_object[:3, 3]) @ T_world_object[:3, :3]
    d = local - part.center_m
    if part.shape == "box":
        return np.all(np.abs(d) < part.size_m / 2, axis=1)
    along = d[:, part.axis]
    radial = np.linalg.norm(np.delete(d, part.axis, axis=1), axis=1)
    return (np.abs(along) < part.length_m / 2) & (radial < part.radius_m)


def _object_faces(obj: SceneObject, T_world_object: np.ndarray) -> list[tuple[_Face, int]]:
    """Faces of an object in the world (via T_world_object), each with the index of its part."""
    return [(face.transformed(T_world_object), index)
            for index, part in enumerate(obj.parts)
            for face in _part_faces(part, f"{obj.name}/{index}")]


def _room_faces(workshop: Workshop) -> list[_Face]:
    """Floor, ceiling and walls as single quads facing into the room."""
    w, d, h = workshop.room_size_m
    corners = {
        "floor": ([[0, 0, 0], [w, 0, 0], [w, d, 0], [0, d, 0]], [0, 0, 1], workshop.floor_material),
        "ceiling": ([[0, 0, h], [0, d, h], [w, d, h], [w, 0, h]], [0, 0, -1], workshop.ceiling_material),
        "south": ([[0, 0, 0], [0, 0, h], [w, 0, h], [w, 0, 0]], [0, 1, 0], workshop.wall_materials["south"]),
        "north": ([[0, d, 0], [w, d, 0], [w, d, h], [0, d, h]], [0, -1, 0], workshop.wall_materials["north"]),
        "west": ([[0, 0, 0], [0, d, 0], [0, d, h], [0, 0, h]], [1, 0, 0], workshop.wall_materials["west"]),
        "east": ([[w, 0, 0], [w, 0, h], [w, d, h], [w, d, 0]], [-1, 0, 0], workshop.wall_materials["east"]),
    }
    openings = wall_openings(workshop)
    frames = wall_frames(workshop.room_size_m)
    faces = []
    for name, (points, normal, material) in corners.items():
        normal = np.array(normal, float)
        axes = _texture_axes(normal, _UP)
        holes = [o for o in openings if o.wall == name]
        if not holes:
            faces.append(_Face(np.array(points, float), normal, material, axes, _seed_offset(f"room/{name}")))
            continue
        # The same texture map on every piece, so the wall's pattern runs on across the cuts.
        origin, along, _ = frames[name]
        length = w if name in ("south", "north") else d
        for u0, u1, z0, z1 in wall_rectangles(length, h, holes):
            quad = [origin + along * u + _UP * z for u, z in ((u0, z0), (u1, z0), (u1, z1), (u0, z1))]
            if np.cross(quad[1] - quad[0], quad[2] - quad[1]) @ normal < 0:
                quad = quad[::-1]  # counter-clockwise seen from inside the room
            faces.append(_Face(np.array(quad), normal, material, axes, _seed_offset(f"room/{name}")))
    return faces


def marker_material_name(marker: FiducialMarker) -> str:
    return f"marker:{marker.dictionary}:{marker.id}"


def _marker_face(marker: FiducialMarker) -> _Face:
    """The printed card: one quad whose texture coordinates start at its top-left corner."""
    top_left, top_right, bottom_right, bottom_left = marker.corners_m(MARKER_MARGIN_CELLS)
    u = (top_right - top_left) / np.linalg.norm(top_right - top_left)
    v = (bottom_left - top_left) / np.linalg.norm(bottom_left - top_left)
    axes = np.stack([u, v])
    normal = np.cross(v, u)  # out of the card: u right and v down seen from in front
    return _Face(np.array([top_left, bottom_left, bottom_right, top_right]), normal,
                 marker_material_name(marker), axes, -axes @ top_left)


def _to_scene(faces: list[_Face], material_names: tuple[str, ...]) -> Scene:
    vertices, triangles, materials, axes, offsets = [], [], [], [], []
    count = 0
    lookup = {name: i for i, name in enumerate(material_names)}
    for face in faces:
        n = len(face.corners)
        vertices.append(face.corners)
        fan = np.array([[0, i, i + 1] for i in range(1, n - 1)]) + count
        triangles.append(fan)
        materials += [lookup[face.material]] * len(fan)
        axes += [face.uv_axes] * len(fan)
        offsets += [face.uv_offset] * len(fan)
        count += n
    return Scene(np.vstack(vertices), np.vstack(triangles).astype(np.int32), np.array(materials, np.int32),
                 material_names, np.array(axes), np.array(offsets))


def build_room_scene(workshop: Workshop) -> Scene:
    """The whole workshop in the world frame: room surfaces, machines and objects."""
    objects = [m.as_object() for m in workshop.machines] + list(workshop.objects)
    solids = {(o, p): (part, obj.T_world_object) for o, obj in enumerate(objects) for p, part in enumerate(obj.parts)}
    faces = [(face, o, p) for o, obj in enumerate(objects) for face, p in _object_faces(obj, obj.T_world_object)]
    kept = _visible_faces(faces, solids, workshop.room_size_m, wall_openings(workshop))
    markers = [_marker_face(m) for m in workshop.markers]
    names = tuple(workshop.materials) + tuple(marker_material_name(m) for m in workshop.markers)
    return _to_scene(_room_faces(workshop) + kept + markers, names)


def build_object_scene(obj: SceneObject, workshop: Workshop) -> Scene:
    """One object (e.g. a machine: its "manufacturer's model") in its own frame."""
    identity = np.eye(4)
    solids = {(0, p): (part, identity) for p, part in enumerate(obj.parts)}
    faces = [(face, 0, p) for face, p in _object_faces(obj, identity)]
    return _to_scene(_visible_faces(faces, solids, None), tuple(workshop.materials))


def _visible_faces(faces: list[tuple[_Face, int, int]], solids: dict[tuple[int, int], tuple[Part, np.ndarray]],
                   room_size_m: np.ndarray | None, openings: tuple[WallOpening, ...] = ()) -> list[_Face]:
    """Drop faces whose outside is entirely inside another solid (or outside the room and its openings)."""
    probes = np.stack([face.probes() for face, _, _ in faces])  # (F, P, 3)
    owner = [(o, p) for _, o, p in faces]
    covered = np.zeros(probes.shape[:2], bool)
    flat = probes.reshape(-1, 3)
    if room_size_m is not None:
        outside = np.any((flat < 0) | (flat > room_size_m), axis=1) & ~in_opening(flat, openings, room_size_m)
        covered |= outside.reshape(probes.shape[:2])
    for key, (part, T) in solids.items():
        inside = _inside_part(flat, part, T).reshape(probes.shape[:2])
        inside[[i for i, k in enumerate(owner) if k == key]] = False
        covered |= inside
    return [face for (face, _, _), hidden in zip(faces, covered.all(axis=1)) if not hidden]
