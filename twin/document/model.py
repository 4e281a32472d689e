"""The twin document's data model: plain dataclasses, and reading and writing their JSON/YAML form.

`from_dict` and `load` validate first (`twin.document.validation`), so a built document is a valid one.
Frames: everything is in the twin's z-up world frame, in metres, except an anchor attached to a
machine, whose position, normal and rotation are in that machine's frame (so it moves with the machine).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from twin.document.validation import SCHEMA_VERSION, validate
from twin.geometry import as_rigid_transform, matrix_to_quaternion, pose_matrix

Vec3 = tuple[float, float, float]
Text = dict[str, str]
"""A text per language code, e.g. {"it": "Accendi", "en": "Switch on"}."""


@dataclass(frozen=True)
class Pose:
    """A rigid pose: translation in metres and a unit quaternion [qx, qy, qz, qw] (glTF order)."""

    translation: Vec3
    rotation: tuple[float, float, float, float]

    def matrix(self) -> np.ndarray:
        """The 4x4 transform (e.g. T_world_machine)."""
        return pose_matrix(self.translation, self.rotation)

    @classmethod
    def from_matrix(cls, T: np.ndarray) -> Pose:
        """The pose of a 4x4 rigid transform (its rotation part must be a rotation)."""
        T = as_rigid_transform(T, "a pose's matrix", advice="pass T_world_machine as a 4x4 rigid transform")
        return cls(tuple(float(v) for v in T[:3, 3]), matrix_to_quaternion(T[:3, :3]))


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in a machine's own frame."""

    min: Vec3
    max: Vec3


@dataclass(frozen=True)
class Model:
    """Where a machine's geometry came from: 'scan' (cut out of the scan mesh by its box),
    'file' (a manufacturer's glTF/GLB/OBJ/STL at `uri`, `scale` metres per unit) or 'none'."""

    source: str
    uri: str | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class Machine:
    id: str
    name: str
    kind: str
    pose: Pose
    """T_world_machine; the machine frame has its origin at the centre of its footprint, z up."""
    bounds: Box
    node: str | None = None
    model: Model = field(default_factory=lambda: Model("scan"))
    properties: dict[str, Any] = field(default_factory=dict)
    status_rules: dict[str, str] | None = None
    """'alarm' and/or 'running' -> a condition on live properties (twin.document.conditions); None: no rules."""

    @property
    def node_name(self) -> str:
        """The glTF node that shows the machine."""
        return self.node or self.id


@dataclass(frozen=True)
class PrintedMarker:
    """An ArUco/AprilTag marker printed at an anchor, by which AR finds the twin."""

    dictionary: str
    """An OpenCV dictionary name, e.g. 'DICT_4X4_50'."""
    id: int
    size_m: float
    """The side of the black square."""

    @property
    def key(self) -> str:
        """How the detectors name it: 'DICT_4X4_50:7'."""
        return f"{self.dictionary}:{self.id}"


@dataclass(frozen=True)
class Anchor:
    id: str
    position: Vec3
    machine: str | None = None
    """The machine it is attached to (position, normal and rotation then in its frame); None for the room."""
    normal: Vec3 = (0.0, 0.0, 1.0)
    name: str | None = None
    rotation: tuple[float, float, float, float] | None = None
    """The anchor frame's orientation [qx, qy, qz, qw], in the same frame as the position; a marker's
    frame has OpenCV's marker axes (x right, y up, z out of the marker, so z is the normal)."""
    marker: PrintedMarker | None = None

    def matrix(self) -> np.ndarray:
        """T_frame_anchor (frame: the world, or its machine's); identity rotation where it has none."""
        return Pose(self.position, self.rotation or (0.0, 0.0, 0.0, 1.0)).matrix()


@dataclass(frozen=True)
class Highlight:
    kind: str
    """'arrow', 'outline' or 'label'."""
    color: str = "#ff8800"
    label: Text | None = None


@dataclass(frozen=True)
class Media:
    uri: str
    type: str
    caption: Text | None = None


@dataclass(frozen=True)
class StepLive:
    """Live values beside a step: those it shows, and the condition it waits for (on `machine`, or the
    procedure's machine when None)."""

    machine: str | None = None
    show: tuple[str, ...] = ()
    wait_for: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    text: Text
    anchor: str
    highlight: Highlight | None = None
    media: tuple[Media, ...] = ()
    live: StepLive | None = None


@dataclass(frozen=True)
class Procedure:
    id: str
    machine: str
    title: Text
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Viewpoint:
    position: Vec3
    target: Vec3


@dataclass(frozen=True)
class Stop:
    id: str
    anchor: str
    viewpoint: Viewpoint
    title: Text
    description: Text


@dataclass(frozen=True)
class Tour:
    id: str
    title: Text
    public: bool
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class Layout:
    """A named variant of the room: new poses for some machines, some taken out, some added."""

    id: str
    name: str
    poses: dict[str, Pose] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    add: tuple[Machine, ...] = ()


@dataclass(frozen=True)
class Measurement:
    id: str
    name: str
    points: tuple[Vec3, ...]
    """Two points for a distance, more for a polyline, in the world frame."""

    def length_m(self) -> float:
        return float(np.linalg.norm(np.diff(np.asarray(self.points), axis=0), axis=1).sum())


Vec2 = tuple[float, float]


@dataclass(frozen=True)
class PlanWall:
    """A wall's room-side face as a polyline in the world's x-y plane; `confidence` is the share of
    it that scan points support (plans draw weakly supported walls dashed)."""

    id: str
    points: tuple[Vec2, ...]
    confidence: float
    thickness_m: float | None = None


@dataclass(frozen=True)
class PlanOpening:
    """A door or window: the stretch `points` (two ends) of wall `wall` with no wall face in it."""

    id: str
    kind: str
    wall: str
    points: tuple[Vec2, Vec2]
    confidence: float
    sill_m: float | None = None
    head_m: float | None = None


@dataclass(frozen=True)
class FloorPlan:
    """Walls and openings found in the scan (`twin plan`), for planners to correct."""

    walls: tuple[PlanWall, ...] = ()
    openings: tuple[PlanOpening, ...] = ()
    floor_z_m: float | None = None
    clearance_m: float = 0.6


@dataclass(frozen=True)
class LiveProperty:
    """Where one live property is found: a JSON pointer into an MQTT payload ('' for the whole
    payload) or an OPC UA node id, and its unit."""

    path: str | None = None
    node: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class SourceMachine:
    """Where one machine's values are in a source: an MQTT topic filter (wildcards + and #) with
    `properties` by JSON pointer (none: each top-level key of the JSON payload is a property),
    or OPC UA `nodes`; nothing for an OctoPrint."""

    topic: str | None = None
    properties: dict[str, LiveProperty] = field(default_factory=dict)
    nodes: dict[str, LiveProperty] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """A connection to machines that twin only reads from: `kind` 'mqtt', 'opcua' or 'octoprint'.
    Credentials are never in the document: `*_env` name the environment variables that hold them."""

    id: str
    kind: str
    url: str
    machines: dict[str, SourceMachine]
    username_env: str | None = None
    password_env: str | None = None
    api_key_env: str | None = None
    stale_after_s: float | None = None
    """A value not updated for this long is 'stale'; None: never (values that arrive on change only)."""


@dataclass(frozen=True)
class Version:
    """One scan of the room over time; the first version is the scan folder's own cloud.
    Paths are relative to the scan folder."""

    id: str
    date: str
    """ISO 8601 in UTC, e.g. '2026-12-03T18:00:00Z'."""
    source: str
    T_first_version: tuple[tuple[float, ...], ...]
    """4x4 rows: maps this version's points into the first version's frame (the twin's world)."""
    tiles: str | None = None
    changes: str | None = None
    change_tiles: str | None = None


@dataclass(frozen=True)
class TwinDocument:
    name: str
    version: int = SCHEMA_VERSION
    languages: tuple[str, ...] = ("it", "en")
    machines: tuple[Machine, ...] = ()
    anchors: tuple[Anchor, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    tours: tuple[Tour, ...] = ()
    layouts: tuple[Layout, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    sources: tuple[Source, ...] = ()
    floor_plan: FloorPlan | None = None
    versions: tuple[Version, ...] = ()

    def machine(self, machine_id: str) -> Machine:
        for machine in self.machines:
            if machine.id == machine_id:
                return machine
        raise KeyError(machine_id)

    def anchor_in_world(self, anchor: Anchor) -> tuple[np.ndarray, np.ndarray]:
        """The anchor's position and unit normal in the world frame (through its machine's pose)."""
        position = np.asarray(anchor.position, dtype=np.float64)
        normal = np.asarray(anchor.normal, dtype=np.float64)
        if anchor.machine is not None:
            T = self.machine(anchor.machine).pose.matrix()
            position = T[:3, :3] @ position + T[:3, 3]
            normal = T[:3, :3] @ normal
        return position, normal / np.linalg.norm(normal)


# --- (de)serialising --------------------------------------------------------------------------

def load(path: str | Path) -> TwinDocument:
    """Reads and validates a twin document from a YAML (.yaml, .yml) or JSON (.json) file. A file that
    cannot be read or parsed is a ValueError of one line that names it."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ValueError(f"{path}: a twin document must be a .yaml, .yml or .json file")
    syntax = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the twin document ({error.strerror}); check the path") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start}); "
                         f"save the twin document as UTF-8 {syntax}") from error
    try:
        data = json.loads(text) if syntax == "JSON" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON: {error}") from error
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {_yaml_problem(error)}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: holds {_kind_of(data)}, not a twin document (a mapping with version, name, "
                         "machines, ...)")
    return from_dict(data, source=str(path))


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's message in one line: what is wrong, where (its own message quotes the line below it)."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem is None:
        return " ".join(str(error).split())
    where = "" if error.problem_mark is None else \
        f" at line {error.problem_mark.line + 1}, column {error.problem_mark.column + 1}"
    return f"{error.problem}{' ' + error.context if error.context else ''}{where}"


def _kind_of(data: Any) -> str:
    if data is None:
        return "nothing"
    return "a list" if isinstance(data, list) else f"the single value {str(data)[:40]!r}"


def from_dict(data: Any, source: str = "<twin document>") -> TwinDocument:
    """Validates the JSON form of a document (as loaded from YAML/JSON) and builds it."""
    validate(data, source)
    return TwinDocument(
        version=data["version"], name=data["name"],
        languages=tuple(data.get("languages", ("it", "en"))),
        machines=tuple(_machine(m) for m in data.get("machines", ())),
        anchors=tuple(_anchor(a) for a in data.get("anchors", ())),
        procedures=tuple(Procedure(id=p["id"], machine=p["machine"], title=dict(p["title"]),
                                   steps=tuple(_step(s) for s in p["steps"]))
                         for p in data.get("procedures", ())),
        tours=tuple(Tour(id=t["id"], title=dict(t["title"]), public=t["public"],
                         stops=tuple(Stop(id=s["id"], anchor=s["anchor"],
                                          viewpoint=Viewpoint(_vec3(s["viewpoint"]["position"]),
                                                              _vec3(s["viewpoint"]["target"])),
                                          title=dict(s["title"]), description=dict(s["description"]))
                                     for s in t["stops"]))
                    for t in data.get("tours", ())),
        layouts=tuple(Layout(id=lay["id"], name=lay["name"],
                             poses={k: _pose(v) for k, v in lay.get("poses", {}).items()},
                             remove=tuple(lay.get("remove", ())),
                             add=tuple(_machine(m) for m in lay.get("add", ())))
                      for lay in data.get("layouts", ())),
        measurements=tuple(Measurement(id=m["id"], name=m["name"], points=tuple(_vec3(p) for p in m["points"]))
                           for m in data.get("measurements", ())),
        sources=tuple(source_from_dict(s) for s in data.get("sources", ())),
        floor_plan=None if "floor_plan" not in data else floor_plan_from_dict(data["floor_plan"]),
        versions=tuple(version_from_dict(v) for v in data.get("versions", ())),
    )


def to_dict(document: TwinDocument) -> dict[str, Any]:
    """The JSON form of a document (what `from_dict` reads back); optional fields left unset are omitted."""
    return _plain(document)


def to_json(document: TwinDocument) -> str:
    return json.dumps(to_dict(document), ensure_ascii=False, indent=1)


def _plain(value: Any) -> Any:
    if isinstance(value, SourceMachine):  # the document spells what a kind has, not the others' empty fields
        return {name: _plain(getattr(value, name)) for name in ("topic", "properties", "nodes") if getattr(value, name)}
    if isinstance(value, LiveProperty) and value.node is not None and value.unit is None:
        return value.node  # the short form {"spindle_rpm": "ns=2;s=Spindle.Speed"}
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _vec3(value) -> Vec3:
    return tuple(float(v) for v in value)


def _pose(value) -> Pose:
    return Pose(_vec3(value["translation"]), tuple(float(v) for v in value["rotation"]))


def _anchor(a: dict) -> Anchor:
    marker = a.get("marker")
    return Anchor(id=a["id"], position=_vec3(a["position"]), machine=a.get("machine"),
                  normal=_vec3(a.get("normal", (0, 0, 1))), name=a.get("name"),
                  rotation=None if "rotation" not in a else _unit_quaternion(a["rotation"]),
                  marker=None if marker is None else PrintedMarker(marker["dictionary"], int(marker["id"]),
                                                                   float(marker["size_m"])))


def _unit_quaternion(value) -> tuple[float, float, float, float]:
    """Validated to be unit within a tolerance; normalised exactly, so transforms built from it stay rigid."""
    q = np.asarray(value, dtype=np.float64)
    return tuple(float(c) for c in q / np.linalg.norm(q))


def _machine(m: dict) -> Machine:
    model = m.get("model", {"source": "scan"})
    return Machine(id=m["id"], name=m["name"], kind=m["kind"], pose=_pose(m["pose"]),
                   bounds=Box(_vec3(m["bounds"]["min"]), _vec3(m["bounds"]["max"])), node=m.get("node"),
                   model=Model(model["source"], model.get("uri"), float(model.get("scale", 1.0))),
                   properties=dict(m.get("properties", {})), status_rules=m.get("status_rules"))


def source_from_dict(s: dict) -> Source:
    """A `Source` from its JSON form (in a document already validated)."""
    return Source(id=s["id"], kind=s["kind"], url=s["url"],
                  machines={machine_id: _source_machine(where) for machine_id, where in s["machines"].items()},
                  username_env=s.get("username_env"), password_env=s.get("password_env"),
                  api_key_env=s.get("api_key_env"),
                  stale_after_s=None if "stale_after_s" not in s else float(s["stale_after_s"]))


def version_from_dict(v: dict) -> Version:
    """A `Version` from its JSON form (in a document already validated)."""
    return Version(id=v["id"], date=v["date"], source=v["source"],
                   T_first_version=tuple(tuple(float(x) for x in row) for row in v["T_first_version"]),
                   tiles=v.get("tiles"), changes=v.get("changes"), change_tiles=v.get("change_tiles"))


def floor_plan_from_dict(plan: dict) -> FloorPlan:
    """A `FloorPlan` from its JSON form (in a document already validated)."""
    def vec2(p) -> Vec2:
        return float(p[0]), float(p[1])
    return FloorPlan(
        walls=tuple(PlanWall(w["id"], tuple(vec2(p) for p in w["points"]), float(w["confidence"]),
                             w.get("thickness_m")) for w in plan["walls"]),
        openings=tuple(PlanOpening(o["id"], o["kind"], o["wall"], (vec2(o["points"][0]), vec2(o["points"][1])),
                                   float(o["confidence"]), o.get("sill_m"), o.get("head_m"))
                       for o in plan.get("openings", ())),
        floor_z_m=plan.get("floor_z_m"), clearance_m=float(plan.get("clearance_m", 0.6)))


def _source_machine(where: dict) -> SourceMachine:
    return SourceMachine(
        topic=where.get("topic"),
        properties={name: LiveProperty(path=p["path"], unit=p.get("unit"))
                    for name, p in where.get("properties", {}).items()},
        nodes={name: LiveProperty(node=n) if isinstance(n, str) else LiveProperty(node=n["node"], unit=n.get("unit"))
               for name, n in where.get("nodes", {}).items()})


def _step(s: dict) -> Step:
    h = s.get("highlight")
    return Step(id=s["id"], text=dict(s["text"]), anchor=s["anchor"],
                highlight=None if h is None else Highlight(h["kind"], h.get("color", "#ff8800"), h.get("label")),
                media=tuple(Media(m["uri"], m["type"], m.get("caption")) for m in s.get("media", ())),
                live=None if "live" not in s else StepLive(s["live"].get("machine"), tuple(s["live"].get("show", ())),
                                                           s["live"].get("wait_for")))
