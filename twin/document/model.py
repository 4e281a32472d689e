"""The twin document: machines, anchors, procedures, tours, layout variants and measurements.

Plain dataclasses with validation. The structure is defined once, by the published JSON schema
`twin/schemas/twin-document.schema.json` (the viewer and the server read it too); this module checks a
document against it and then checks what a schema cannot say: unique ids, references between
lists (procedure -> machine, step -> anchor, anchor -> machine, tour stop -> anchor, layout ->
machines), unit quaternions, finite numbers, a text for every language, one anchor per printed
marker. Errors name the file, the field path and what was expected.

Frames: everything is in the twin's z-up world frame, in metres, except an anchor attached to a
machine, whose position, normal and rotation are in that machine's frame (so it moves with the machine).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "twin-document.schema.json"
SCHEMA_VERSION = 1
_MAX_PROBLEMS_SHOWN = 10
QUATERNION_NORM_TOLERANCE = 1e-3
"""How far from 1 a rotation quaternion's length may be (it is then normalised exactly)."""
GLB_NODES = ("twin", "room", "cloud")
"""Node names of the twin's GLB besides machines and anchors (twin/export/twin_glb.py uses them)."""
_ANCHOR_REACH_M = 0.5
"""How far outside its machine's box an anchor may float (a label above a machine)."""
_MARKER_NORMAL_TOLERANCE_DEG = 1.0
MARKER_DICTIONARY_SIZES = {
    **{f"DICT_{cells}X{cells}_{count}": count for cells in (4, 5, 6, 7) for count in (50, 100, 250, 1000)},
    "DICT_ARUCO_ORIGINAL": 1024, "DICT_ARUCO_MIP_36h12": 250, "DICT_APRILTAG_16h5": 30, "DICT_APRILTAG_25h9": 35,
    "DICT_APRILTAG_36h10": 2320, "DICT_APRILTAG_36h11": 587,
}
"""OpenCV's predefined ArUco/AprilTag dictionaries (the schema's enum) and how many markers each has."""

Vec3 = tuple[float, float, float]
Text = dict[str, str]
"""A text per language code, e.g. {"it": "Accendi", "en": "Switch on"}."""


class DocumentError(ValueError):
    """A twin document that is not valid. `problems` lists (JSON pointer, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        shown = [f"{source}: {_dotted(pointer) or 'the document'}: {message}"
                 for pointer, message in problems[:_MAX_PROBLEMS_SHOWN]]
        more = len(problems) - len(shown)
        if more:
            shown.append(f"... and {more} more problem(s)")
        super().__init__("the twin document is not valid; fix these and try again:\n  " + "\n  ".join(shown))


@dataclass(frozen=True)
class Pose:
    """A rigid pose: translation in metres and a unit quaternion [qx, qy, qz, qw] (glTF order)."""

    translation: Vec3
    rotation: tuple[float, float, float, float]

    def matrix(self) -> np.ndarray:
        """The 4x4 transform (e.g. T_world_machine)."""
        x, y, z, w = np.asarray(self.rotation, dtype=np.float64) / np.linalg.norm(self.rotation)
        T = np.eye(4)
        T[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
        T[:3, 3] = self.translation
        return T

    @classmethod
    def from_matrix(cls, T: np.ndarray) -> Pose:
        """The pose of a 4x4 rigid transform (its rotation part must be a rotation)."""
        T = np.asarray(T, dtype=np.float64)
        if T.shape != (4, 4) or not np.all(np.isfinite(T)):
            raise ValueError(f"a pose needs a finite 4x4 matrix, got shape {T.shape}; pass T_world_machine as 4x4")
        R = T[:3, :3]
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-6) or np.linalg.det(R) <= 0:
            raise ValueError("the matrix's upper-left 3x3 is not a rotation; pass a rigid transform (no scale or mirror)")
        # Shepperd's method: pick the largest diagonal term for a well-conditioned square root.
        trace = np.trace(R)
        if trace > 0:
            s = 2 * math.sqrt(1 + trace)
            q = [(R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s, s / 4]
        else:
            i = int(np.argmax(np.diag(R)))
            j, k = (i + 1) % 3, (i + 2) % 3
            s = 2 * math.sqrt(1 + R[i, i] - R[j, j] - R[k, k])
            q = [0.0, 0.0, 0.0, (R[k, j] - R[j, k]) / s]
            q[i] = s / 4
            q[j] = (R[j, i] + R[i, j]) / s
            q[k] = (R[k, i] + R[i, k]) / s
        if q[3] < 0:  # one canonical sign, so the same rotation always serialises the same
            q = [-c for c in q]
        return cls(tuple(float(v) for v in T[:3, 3]), tuple(float(c) for c in q))


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
class Step:
    id: str
    text: Text
    anchor: str
    highlight: Highlight | None = None
    media: tuple[Media, ...] = ()


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
    """Reads and validates a twin document from a YAML (.yaml, .yml) or JSON (.json) file."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ValueError(f"{path}: a twin document must be a .yaml, .yml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the twin document ({error.strerror}); check the path") from error
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {error}") from error
    return from_dict(data, source=str(path))


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
    )


def to_dict(document: TwinDocument) -> dict[str, Any]:
    """The JSON form of a document (what `from_dict` reads back); optional fields left unset are omitted."""
    return _plain(document)


def to_json(document: TwinDocument) -> str:
    return json.dumps(to_dict(document), ensure_ascii=False, indent=1)


def _plain(value: Any) -> Any:
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
                   properties=dict(m.get("properties", {})))


def _step(s: dict) -> Step:
    h = s.get("highlight")
    return Step(id=s["id"], text=dict(s["text"]), anchor=s["anchor"],
                highlight=None if h is None else Highlight(h["kind"], h.get("color", "#ff8800"), h.get("label")),
                media=tuple(Media(m["uri"], m["type"], m.get("caption")) for m in s.get("media", ())))


# --- validation -------------------------------------------------------------------------------

@functools.cache
def schema() -> dict[str, Any]:
    """The published JSON schema (version 1)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def validate(data: Any, source: str = "<twin document>") -> None:
    """Raises DocumentError naming every problem (field path and what was expected); returns None if valid."""
    problems = [(_pointer(error.absolute_path), _explain(error))
                for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]
    problems += _non_finite_numbers(data, "")
    if not problems:
        problems = _semantic_problems(data)
    if problems:
        raise DocumentError(source, problems)


def _explain(error) -> str:
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("type", "minItems", "maxItems", "pattern", "const", "enum", "contains",
                           "minimum", "exclusiveMinimum") and description:
        return f"{error.message}; expected {description}"
    if error.validator == "dependentRequired":
        return f"{error.message}: give both"
    return error.message


def _non_finite_numbers(value: Any, pointer: str) -> list[tuple[str, str]]:
    if isinstance(value, float) and not math.isfinite(value):
        return [(pointer, f"{value} is not a finite number; write a real number of metres")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite_numbers(v, f"{pointer}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite_numbers(v, f"{pointer}/{i}")]
    return []


def _semantic_problems(data: dict) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    languages = data.get("languages", ["it", "en"])
    machines = data.get("machines", [])
    anchors = data.get("anchors", [])
    machine_ids = _unique_ids(machines, "/machines", problems)
    anchor_ids = _unique_ids(anchors, "/anchors", problems)
    for name in ("procedures", "tours", "layouts", "measurements"):
        _unique_ids(data.get(name, []), f"/{name}", problems)

    def needs(ids: set[str], value: str, pointer: str, what: str) -> None:
        if value not in ids:
            known = ", ".join(sorted(ids)) or "none"
            problems.append((pointer, f"names the {what} {value!r}, which the document does not have "
                                      f"(its {what}s: {known})"))

    def texts(value: dict, pointer: str) -> None:
        missing = [lang for lang in languages if lang not in value]
        if missing:
            problems.append((pointer, f"has no text in {', '.join(missing)}; every text needs the document's "
                                      f"languages {languages}"))

    # Machines and anchors are glTF nodes named by their node name or id: one name, one node.
    nodes: dict[str, tuple[str, str]] = {name: ("the GLB's own structure", "") for name in GLB_NODES}

    def claim(name: str, owner: str, owner_id: str, pointer: str) -> None:
        taken_by = nodes.setdefault(name, (owner, owner_id))
        same_list_same_id = taken_by[0].split("[")[0] == owner.split("[")[0] and taken_by[1] == owner_id
        if taken_by[0] != owner and not same_list_same_id:  # a repeated id is reported as such
            problems.append((pointer, f"the glTF node name {name!r} is taken by {taken_by[0]}; "
                                      "machines and anchors each need their own"))

    for i, machine in enumerate(machines):
        _machine_problems(machine, f"/machines/{i}", problems)
        claim(machine.get("node", machine["id"]), f"machines[{i}]", machine["id"],
              f"/machines/{i}/{'node' if 'node' in machine else 'id'}")
    for i, anchor in enumerate(anchors):
        claim(anchor["id"], f"anchors[{i}]", anchor["id"], f"/anchors/{i}/id")
    bounds = {m["id"]: m["bounds"] for m in machines}
    for i, anchor in enumerate(anchors):
        if "machine" in anchor:
            needs(machine_ids, anchor["machine"], f"/anchors/{i}/machine", "machine")
            if anchor["machine"] in bounds:
                _anchor_near_machine(anchor, bounds[anchor["machine"]], f"/anchors/{i}/position", problems)
        if not any(anchor.get("normal", [0, 0, 1])):
            problems.append((f"/anchors/{i}/normal", "is the zero vector; give the surface's outward direction"))
        elif "rotation" in anchor and not _quaternion_problem(anchor, f"/anchors/{i}", problems):
            _marker_normal_problem(anchor, f"/anchors/{i}", problems)
    _marker_problems(anchors, problems)
    for i, procedure in enumerate(data.get("procedures", [])):
        needs(machine_ids, procedure["machine"], f"/procedures/{i}/machine", "machine")
        texts(procedure["title"], f"/procedures/{i}/title")
        _unique_ids(procedure["steps"], f"/procedures/{i}/steps", problems)
        for j, step in enumerate(procedure["steps"]):
            needs(anchor_ids, step["anchor"], f"/procedures/{i}/steps/{j}/anchor", "anchor")
            texts(step["text"], f"/procedures/{i}/steps/{j}/text")
    for i, tour in enumerate(data.get("tours", [])):
        texts(tour["title"], f"/tours/{i}/title")
        _unique_ids(tour["stops"], f"/tours/{i}/stops", problems)
        for j, stop in enumerate(tour["stops"]):
            needs(anchor_ids, stop["anchor"], f"/tours/{i}/stops/{j}/anchor", "anchor")
            texts(stop["title"], f"/tours/{i}/stops/{j}/title")
            texts(stop["description"], f"/tours/{i}/stops/{j}/description")
    for i, layout in enumerate(data.get("layouts", [])):
        for machine_id, pose in layout.get("poses", {}).items():
            needs(machine_ids, machine_id, f"/layouts/{i}/poses/{machine_id}", "machine")
            _quaternion_problem(pose, f"/layouts/{i}/poses/{machine_id}", problems)
        for j, machine_id in enumerate(layout.get("remove", [])):
            needs(machine_ids, machine_id, f"/layouts/{i}/remove/{j}", "machine")
        added = _unique_ids(layout.get("add", []), f"/layouts/{i}/add", problems)
        for j, machine in enumerate(layout.get("add", [])):
            _machine_problems(machine, f"/layouts/{i}/add/{j}", problems)
        for machine_id in sorted(added & machine_ids):
            problems.append((f"/layouts/{i}/add", f"adds a machine with the id {machine_id!r}, which the as-is "
                                                  "layout already has; give the added machine a new id"))
    return problems


def _unique_ids(items: list[dict], pointer: str, problems: list) -> set[str]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item["id"] in seen:
            problems.append((f"{pointer}/{i}/id", f"the id {item['id']!r} is already used by {pointer[1:]}"
                                                  f"[{seen[item['id']]}]; ids must be unique"))
        seen.setdefault(item["id"], i)
    return set(seen)


def _machine_problems(machine: dict, pointer: str, problems: list) -> None:
    _quaternion_problem(machine["pose"], f"{pointer}/pose", problems)
    lo, hi = machine["bounds"]["min"], machine["bounds"]["max"]
    if not all(a < b for a, b in zip(lo, hi)):
        problems.append((f"{pointer}/bounds", f"min {lo} must be below max {hi} on every axis"))


def _anchor_near_machine(anchor: dict, box: dict, pointer: str, problems: list) -> None:
    """An anchor on a machine far outside the machine's box was most likely given in world coordinates."""
    outside = max(max(lo - p, p - hi, 0.0) for p, lo, hi in zip(anchor["position"], box["min"], box["max"]))
    if outside > _ANCHOR_REACH_M:
        problems.append((pointer, f"is {outside:.2f} m outside machine {anchor['machine']!r}'s box; an anchor on a "
                                  "machine has its position in the machine's frame (origin at the centre of its "
                                  "footprint), not in the world's"))


def _quaternion_problem(pose: dict, pointer: str, problems: list) -> bool:
    """True (and a problem noted) when `pose["rotation"]` is not a unit quaternion."""
    norm = math.sqrt(sum(c * c for c in pose["rotation"]))
    if abs(norm - 1) > QUATERNION_NORM_TOLERANCE:
        problems.append((f"{pointer}/rotation", f"has length {norm:.4g}; expected a unit quaternion [qx, qy, qz, qw]"))
        return True
    return False


def _marker_normal_problem(anchor: dict, pointer: str, problems: list) -> None:
    """A marker's normal is its z axis: a normal that disagrees with the rotation was edited by half."""
    if "marker" not in anchor:
        return
    z_axis = Pose((0.0, 0.0, 0.0), tuple(anchor["rotation"])).matrix()[:3, 2]
    normal = np.asarray(anchor.get("normal", (0, 0, 1)), dtype=np.float64)
    angle = math.degrees(math.acos(np.clip(z_axis @ normal / np.linalg.norm(normal), -1.0, 1.0)))
    if angle > _MARKER_NORMAL_TOLERANCE_DEG:
        problems.append((f"{pointer}/normal", f"is {angle:.1f} deg away from the z axis of the marker's rotation "
                                              f"{[round(float(c), 4) for c in z_axis]}; a marker's normal is its z "
                                              "axis (out of the printed side), so give both together"))


def _marker_problems(anchors: list[dict], problems: list) -> None:
    """Marker ids within their dictionary, and one anchor per printed marker (AR could not tell two apart)."""
    seen: dict[tuple[str, int], int] = {}
    for i, anchor in enumerate(anchors):
        marker = anchor.get("marker")
        if marker is None:
            continue
        count = MARKER_DICTIONARY_SIZES[marker["dictionary"]]
        if marker["id"] >= count:
            problems.append((f"/anchors/{i}/marker/id", f"is {marker['id']}, but {marker['dictionary']} has markers "
                                                        f"0 to {count - 1}; check the id printed with the marker"))
        key = (marker["dictionary"], marker["id"])
        if key in seen:
            problems.append((f"/anchors/{i}/marker", f"{marker['dictionary']}:{marker['id']} is already the marker of "
                                                     f"anchors[{seen[key]}]; a printed marker marks one anchor"))
        seen.setdefault(key, i)


def _pointer(path) -> str:
    return "".join(f"/{part}" for part in path)


def _dotted(pointer: str) -> str:
    """'/machines/2/pose' -> 'machines[2].pose', the way people read field paths."""
    out = ""
    for part in pointer.split("/")[1:]:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out
