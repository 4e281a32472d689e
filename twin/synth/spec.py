"""The declarative workshop: reading and validating a workshop YAML into plain dataclasses.

Every error names the file and the field path (e.g. `machines[2].pose.yaw_deg`) and says what
was expected, so that a user editing the YAML knows exactly what to fix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from twin.synth.materials import PATTERNS

DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "scans" / "sample_workshop.yaml"

WALLS = ("south", "north", "west", "east")
"""Walls by where they stand: south at y = 0 (along x), north at y = depth, west at x = 0, east at x = width."""

_SHAPES = ("box", "cylinder")
_AXES = {"x": 0, "y": 1, "z": 2}
# Parts may poke out of a machine's declared size by this much (rounding in hand-written YAML).
_SIZE_TOLERANCE_M = 0.005
MARKER_STANDOFF_M = 0.001
"""A marker card's face stands this far in front of its wall (paper on a wall)."""


@dataclass(frozen=True)
class Material:
    name: str
    pattern: str
    color: tuple[float, float, float]
    """Base colour, linear 0..1 RGB; the pattern varies around it."""


@dataclass(frozen=True)
class Part:
    """One primitive of an object, in the object's local frame (metres)."""

    shape: str
    center_m: np.ndarray
    material: str
    size_m: np.ndarray | None = None
    """Box edge lengths along local x, y, z (boxes only)."""
    radius_m: float = 0.0
    length_m: float = 0.0
    axis: int = 2
    """Cylinder axis as an index 0, 1, 2 for local x, y, z (cylinders only)."""

    def bounds_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners of the part in its object's frame."""
        if self.shape == "box":
            half = self.size_m / 2
        else:
            half = np.full(3, self.radius_m)
            half[self.axis] = self.length_m / 2
        return self.center_m - half, self.center_m + half


@dataclass(frozen=True)
class SceneObject:
    """A piece of furniture, a tool, a window: parts placed in the world by a pose (z-up yaw)."""

    kind: str
    T_world_object: np.ndarray
    parts: tuple[Part, ...]
    name: str = ""


@dataclass(frozen=True)
class Machine:
    """A machine of the workshop. Its frame: origin at the centre of its footprint, z up,
    x along its width, front facing -y. `size_m` is (width, depth, height) of its bounding box."""

    id: str
    name: str
    kind: str
    T_world_machine: np.ndarray
    size_m: np.ndarray
    parts: tuple[Part, ...] = field(default=(), repr=False)

    def as_object(self) -> SceneObject:
        return SceneObject(kind=self.kind, T_world_object=self.T_world_machine, parts=self.parts, name=self.id)


@dataclass(frozen=True)
class FiducialMarker:
    """A printed ArUco/AprilTag marker stuck flat on a wall or machine, facing along its frame's -y
    (like a poster), centred on its frame's origin; `size_m` is the side of its black square."""

    id: int
    dictionary: str
    size_m: float
    T_world_marker: np.ndarray

    def corners_m(self, margin_cells: int = 0) -> np.ndarray:
        """(4, 3) world corners of the black square (or of the card, with its white margin in
        cells) in OpenCV's order: top-left, top-right, bottom-right, bottom-left, seen from in front.
        The card stands MARKER_STANDOFF_M in front of the surface it is stuck on."""
        cells = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary)).markerSize + 2
        h = self.size_m / 2 * (cells + 2 * margin_cells) / cells
        y = -MARKER_STANDOFF_M
        local = np.array([[-h, y, h, 1], [h, y, h, 1], [h, y, -h, 1], [-h, y, -h, 1]])
        return (self.T_world_marker @ local.T).T[:, :3]


@dataclass(frozen=True)
class Workshop:
    source: Path
    room_size_m: np.ndarray
    """(width along x, depth along y, height along z); the room spans [0, size] with the floor at z = 0."""
    floor_material: str
    ceiling_material: str
    wall_materials: dict[str, str]
    materials: dict[str, Material]
    machines: tuple[Machine, ...]
    objects: tuple[SceneObject, ...]
    markers: tuple[FiducialMarker, ...] = ()

    def machine(self, machine_id: str) -> Machine:
        for machine in self.machines:
            if machine.id == machine_id:
                return machine
        raise ValueError(f"the workshop {self.source} has no machine {machine_id!r}; "
                         f"its machines are {[m.id for m in self.machines]}")


def load_workshop(path: str | Path | None = None) -> Workshop:
    """Read and validate a workshop YAML (default: the sample workshop, `scans/sample_workshop.yaml`)."""
    source = Path(path) if path is not None else DEFAULT_SPEC
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read the workshop file {source}: {error.strerror}; "
                         "pass the path of an existing workshop YAML") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{source} is not valid YAML ({error}); fix the syntax at the place shown") from error
    return _Reader(source).workshop(data)


class _Reader:
    """Walks the parsed YAML with a field path for error messages."""

    def __init__(self, source: Path):
        self.source = source

    def fail(self, where: str, expected: str, got: Any) -> ValueError:
        return ValueError(f"{self.source}: {where}: expected {expected}, got {got!r}")

    def mapping(self, value: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, "a mapping", value)
        for key in required:
            if key not in value:
                raise ValueError(f"{self.source}: {where}: the field {key!r} is missing; it is required")
        unknown = set(value) - set(required) - set(optional)
        if unknown:
            raise ValueError(f"{self.source}: {where}: unknown field(s) {sorted(unknown)}; "
                             f"allowed fields are {sorted(required + optional)}")
        return value

    def sequence(self, value: Any, where: str) -> list:
        if not isinstance(value, list):
            raise self.fail(where, "a list", value)
        return value

    def number(self, value: Any, where: str, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(where, "a finite number", value)
        if positive and value <= 0:
            raise self.fail(where, "a positive number", value)
        return float(value)

    def vector(self, value: Any, where: str, positive: bool = False) -> np.ndarray:
        if not isinstance(value, list) or len(value) != 3:
            raise self.fail(where, "a list of 3 numbers", value)
        return np.array([self.number(v, f"{where}[{i}]", positive) for i, v in enumerate(value)])

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "a non-empty string", value)
        return value

    def material_name(self, value: Any, where: str, materials: dict[str, Material]) -> str:
        name = self.text(value, where)
        if name not in materials:
            raise self.fail(where, f"one of the materials declared under `materials` ({sorted(materials)})", name)
        return name

    def workshop(self, data: Any) -> Workshop:
        data = self.mapping(data, "the top level", ("room", "materials", "machines"),
                            ("version", "objects", "templates", "markers"))
        materials = self.materials(data["materials"])
        room = self.mapping(data["room"], "room", ("size_m", "floor", "ceiling", "walls"))
        size = self.vector(room["size_m"], "room.size_m", positive=True)
        walls = self.mapping(room["walls"], "room.walls", WALLS)
        wall_materials = {w: self.material_name(walls[w], f"room.walls.{w}", materials) for w in WALLS}
        machines = tuple(self.machine(m, f"machines[{i}]", materials)
                         for i, m in enumerate(self.sequence(data["machines"], "machines")))
        ids = [m.id for m in machines]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"{self.source}: machines: the id(s) {duplicates} are used more than once; "
                             "give every machine its own id")
        objects = tuple(self.scene_object(o, f"objects[{i}]", materials)
                        for i, o in enumerate(self.sequence(data.get("objects", []), "objects")))
        workshop = Workshop(
            source=self.source, room_size_m=size,
            floor_material=self.material_name(room["floor"], "room.floor", materials),
            ceiling_material=self.material_name(room["ceiling"], "room.ceiling", materials),
            wall_materials=wall_materials, materials=materials, machines=machines, objects=objects,
            markers=self.markers(data.get("markers")),
        )
        self.check_inside_room(workshop)
        return workshop

    def materials(self, value: Any) -> dict[str, Material]:
        if not isinstance(value, dict):
            raise self.fail("materials", "a mapping from material names to {pattern, color}", value)
        if not value:
            raise self.fail("materials", "at least one material", value)
        materials = {}
        for name, entry in value.items():
            where = f"materials.{name}"
            entry = self.mapping(entry, where, ("pattern", "color"))
            pattern = self.text(entry["pattern"], f"{where}.pattern")
            if pattern not in PATTERNS:
                raise self.fail(f"{where}.pattern", f"one of {sorted(PATTERNS)}", pattern)
            color = self.vector(entry["color"], f"{where}.color")
            if np.any(color < 0) or np.any(color > 1):
                raise self.fail(f"{where}.color", "3 numbers between 0 and 1 (red, green, blue)", entry["color"])
            materials[str(name)] = Material(str(name), pattern, tuple(float(c) for c in color))
        return materials

    def markers(self, value: Any) -> tuple[FiducialMarker, ...]:
        if value is None:
            return ()
        value = self.mapping(value, "markers", ("dictionary", "size_m", "placed"))
        dictionary = self.text(value["dictionary"], "markers.dictionary")
        if not dictionary.startswith("DICT_") or not hasattr(cv2.aruco, dictionary):
            raise self.fail("markers.dictionary", "an OpenCV ArUco/AprilTag dictionary such as DICT_4X4_50", dictionary)
        count = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary)).bytesList.shape[0]
        size = self.number(value["size_m"], "markers.size_m", positive=True)
        markers = []
        for i, entry in enumerate(self.sequence(value["placed"], "markers.placed")):
            where = f"markers.placed[{i}]"
            entry = self.mapping(entry, where, ("id", "pose"))
            marker_id = entry["id"]
            if isinstance(marker_id, bool) or not isinstance(marker_id, int) or not 0 <= marker_id < count:
                raise self.fail(f"{where}.id", f"a whole number from 0 to {count - 1} (the ids of {dictionary})", marker_id)
            if any(m.id == marker_id for m in markers):
                raise ValueError(f"{self.source}: {where}.id: marker {marker_id} is placed twice; each id once, "
                                 "or the photo pipeline cannot tell them apart")
            markers.append(FiducialMarker(marker_id, dictionary, size, self.pose(entry["pose"], f"{where}.pose")))
        return tuple(markers)

    def pose(self, value: Any, where: str) -> np.ndarray:
        value = self.mapping(value, where, ("position_m",), ("yaw_deg",))
        position = self.vector(value["position_m"], f"{where}.position_m")
        yaw = math.radians(self.number(value.get("yaw_deg", 0.0), f"{where}.yaw_deg"))
        T = np.eye(4)
        T[:2, :2] = [[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]]
        T[:3, 3] = position
        return T

    def part(self, value: Any, where: str, materials: dict[str, Material]) -> Part:
        value = self.mapping(value, where, ("shape", "center_m", "material"), ("size_m", "radius_m", "length_m", "axis"))
        shape = value["shape"]
        if shape not in _SHAPES:
            raise self.fail(f"{where}.shape", f"one of {list(_SHAPES)}", shape)
        center = self.vector(value["center_m"], f"{where}.center_m")
        material = self.material_name(value["material"], f"{where}.material", materials)
        if shape == "box":
            self.mapping(value, where, ("shape", "center_m", "material", "size_m"))
            return Part("box", center, material, size_m=self.vector(value["size_m"], f"{where}.size_m", positive=True))
        self.mapping(value, where, ("shape", "center_m", "material", "radius_m", "length_m"), ("axis",))
        axis = value.get("axis", "z")
        if axis not in _AXES:
            raise self.fail(f"{where}.axis", "one of 'x', 'y', 'z'", axis)
        return Part("cylinder", center, material,
                    radius_m=self.number(value["radius_m"], f"{where}.radius_m", positive=True),
                    length_m=self.number(value["length_m"], f"{where}.length_m", positive=True),
                    axis=_AXES[axis])

    def parts(self, value: Any, where: str, materials: dict[str, Material]) -> tuple[Part, ...]:
        parts = self.sequence(value, where)
        if not parts:
            raise self.fail(where, "at least one part", parts)
        return tuple(self.part(p, f"{where}[{i}]", materials) for i, p in enumerate(parts))

    def machine(self, value: Any, where: str, materials: dict[str, Material]) -> Machine:
        value = self.mapping(value, where, ("id", "name", "kind", "pose", "size_m", "parts"))
        machine = Machine(
            id=self.text(value["id"], f"{where}.id"), name=self.text(value["name"], f"{where}.name"),
            kind=self.text(value["kind"], f"{where}.kind"), T_world_machine=self.pose(value["pose"], f"{where}.pose"),
            size_m=self.vector(value["size_m"], f"{where}.size_m", positive=True),
            parts=self.parts(value["parts"], f"{where}.parts", materials),
        )
        half = np.array([machine.size_m[0] / 2, machine.size_m[1] / 2, machine.size_m[2]])
        box_min = np.array([-half[0], -half[1], 0.0]) - _SIZE_TOLERANCE_M
        box_max = half + _SIZE_TOLERANCE_M
        for i, part in enumerate(machine.parts):
            low, high = part.bounds_m()
            if np.any(low < box_min) or np.any(high > box_max):
                raise ValueError(
                    f"{self.source}: {where}.parts[{i}]: the part reaches outside the machine's size_m "
                    f"{machine.size_m.tolist()} (its frame spans x and y centred on 0, z from 0 up); "
                    "enlarge size_m or move the part")
        return machine

    def scene_object(self, value: Any, where: str, materials: dict[str, Material]) -> SceneObject:
        value = self.mapping(value, where, ("kind", "pose", "parts"), ("name",))
        return SceneObject(kind=self.text(value["kind"], f"{where}.kind"),
                           T_world_object=self.pose(value["pose"], f"{where}.pose"),
                           parts=self.parts(value["parts"], f"{where}.parts", materials),
                           name=self.text(value.get("name", value["kind"]), f"{where}.name"))

    def check_inside_room(self, workshop: Workshop) -> None:
        """Machines must stand inside the room, or the walk and the photos would see their insides."""
        for i, machine in enumerate(workshop.machines):
            half = np.array([machine.size_m[0] / 2, machine.size_m[1] / 2, 0.0])
            corners = np.array([[sx * half[0], sy * half[1], z, 1.0]
                                for sx in (-1, 1) for sy in (-1, 1) for z in (0.0, machine.size_m[2])])
            world = (machine.T_world_machine @ corners.T).T[:, :3]
            if np.any(world < -_SIZE_TOLERANCE_M) or np.any(world > workshop.room_size_m + _SIZE_TOLERANCE_M):
                raise ValueError(f"{self.source}: machines[{i}].pose: the machine {machine.id!r} reaches outside "
                                 f"the room (0..{workshop.room_size_m.tolist()} m); move it inside")
