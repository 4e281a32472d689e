"""What the document's schema cannot say: unique ids, references between lists (procedure ->
machine, step -> anchor, anchor -> machine, tour stop -> anchor, layout -> machines, live source ->
machines, step live -> machine), unit quaternions, a text for every language, one anchor per printed
marker, conditions that parse. Problems are
(JSON pointer, message) pairs; plain dicts in, so it runs before any dataclass is built.
"""
from __future__ import annotations

import math

import numpy as np

from twin.document.conditions import parse_condition
from twin.geometry import quaternion_to_matrix

GLB_NODES = ("twin", "room", "cloud")
"""Node names of the twin's GLB besides machines and anchors (twin/export/twin_glb.py uses them)."""

QUATERNION_NORM_TOLERANCE = 1e-3
"""How far from 1 a rotation quaternion's length may be (it is then normalised exactly)."""
_ANCHOR_REACH_M = 0.5
"""How far outside its machine's box an anchor may float (a label above a machine)."""
_MARKER_NORMAL_TOLERANCE_DEG = 1.0
MARKER_DICTIONARY_SIZES = {
    **{f"DICT_{cells}X{cells}_{count}": count for cells in (4, 5, 6, 7) for count in (50, 100, 250, 1000)},
    "DICT_ARUCO_ORIGINAL": 1024, "DICT_ARUCO_MIP_36h12": 250, "DICT_APRILTAG_16h5": 30, "DICT_APRILTAG_25h9": 35,
    "DICT_APRILTAG_36h10": 2320, "DICT_APRILTAG_36h11": 587,
}
"""OpenCV's predefined ArUco/AprilTag dictionaries (the schema's enum) and how many markers each has."""


def semantic_problems(data: dict) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    languages = data.get("languages", ["it", "en"])
    machines = data.get("machines", [])
    anchors = data.get("anchors", [])
    machine_ids = _unique_ids(machines, "/machines", problems)
    anchor_ids = _unique_ids(anchors, "/anchors", problems)
    for name in ("procedures", "tours", "layouts", "measurements", "sources", "versions"):
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
            live = step.get("live", {})
            if "machine" in live:
                needs(machine_ids, live["machine"], f"/procedures/{i}/steps/{j}/live/machine", "machine")
            if "wait_for" in live:
                _condition_problem(live["wait_for"], f"/procedures/{i}/steps/{j}/live/wait_for", problems)
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
    rules = {m["id"]: m.get("status_rules") for m in machines}
    for i, source in enumerate(data.get("sources", [])):
        for machine_id in source["machines"]:
            needs(machine_ids, machine_id, f"/sources/{i}/machines/{machine_id}", "machine")
        if source["kind"] == "mqtt":
            for machine_id, where in source["machines"].items():
                problem = _topic_filter_problem(where["topic"])
                if problem:
                    problems.append((f"/sources/{i}/machines/{machine_id}/topic", problem))
        for machine_id, where in source["machines"].items():
            mapped = {**where.get("properties", {}), **where.get("nodes", {})}
            if "status" in mapped and rules.get(machine_id):
                problems.append((f"/sources/{i}/machines/{machine_id}", f"maps a property 'status', but machine "
                                 f"{machine_id!r} has status_rules, which make its status; name the source's "
                                 "value otherwise (e.g. 'state') and use it in the rules"))
        if "api_key_env" in source and source["kind"] != "octoprint":
            problems.append((f"/sources/{i}/api_key_env", f"is for octoprint sources; a {source['kind']} source "
                                                          "takes username_env and password_env"))
        if source["kind"] == "octoprint" and ("username_env" in source or "password_env" in source):
            problems.append((f"/sources/{i}", "an octoprint source takes api_key_env, not username_env or "
                                              "password_env"))
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
    for status, condition in machine.get("status_rules", {}).items():
        _condition_problem(condition, f"{pointer}/status_rules/{status}", problems)


def _condition_problem(condition: str, pointer: str, problems: list) -> None:
    try:
        parse_condition(condition)
    except ValueError as error:
        problems.append((pointer, str(error)))


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
    z_axis = quaternion_to_matrix(anchor["rotation"])[:, 2]
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


def _topic_filter_problem(topic: str) -> str | None:
    """What is wrong with an MQTT topic filter: '+' must fill a whole level, '#' only the last one."""
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "+" in level and level != "+":
            return f"{topic!r}: '+' stands for one whole level (a/+/c), not part of one"
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return f"{topic!r}: '#' stands for the remaining levels and must be the last one (a/b/#)"
    return None
