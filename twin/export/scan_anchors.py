"""The markers a reconstruction measured (the scan folder's `anchors.json`) merged into the twin document.

`anchors.json` = {"anchors": [{"name", "kind": "marker", "marker": "DICT_4X4_50:7", "size_m",
"pose": {"translation", "rotation"}}]}, pose = T_world_marker with OpenCV's marker axes. Each marker
becomes a room anchor `marker-<id>` ("marker <id>"), or `marker-<dictionary>-<id>` where two
dictionaries share the id; an anchor that already carries the marker keeps its id, name and machine
and takes the measured pose and size (see docs/export.md).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin import document as twin_document
from twin.document import (GLB_NODES, MARKER_DICTIONARY_SIZES, QUATERNION_NORM_TOLERANCE, Anchor, Pose, PrintedMarker,
                           TwinDocument)

log = logging.getLogger(__name__)

ANCHORS_FILE = "anchors.json"


@dataclass(frozen=True)
class ScanMarker:
    """A marker measured in the scan: which one, its printed size, and T_world_marker."""

    marker: PrintedMarker
    pose: Pose


def read_scan_markers(path: str | Path) -> list[ScanMarker]:
    """The markers of an `anchors.json`; ValueError naming the file and the field where it is not valid."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read the scan's anchors ({error.strerror})") from error
    except ValueError as error:
        raise ValueError(f"{path}: not valid JSON ({error}); reconstruct the scan again or delete the file") from error
    entries = data.get("anchors") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: anchors: expected {{\"anchors\": [...]}} with a list of marker anchors")
    markers: dict[str, ScanMarker] = {}
    for i, entry in enumerate(entries):
        field = f"anchors[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: {field}: expected an object with kind, marker, size_m and pose")
        if entry.get("kind") != "marker":
            log.warning("%s: %s has kind %r, not 'marker'; left out", path, field, entry.get("kind"))
            continue
        scan_marker = _scan_marker(entry, f"{path}: {field}")
        if scan_marker.marker.key in markers:
            raise ValueError(f"{path}: {field}.marker: {scan_marker.marker.key} is listed twice; "
                             "a printed marker has one pose, reconstruct the scan again")
        markers[scan_marker.marker.key] = scan_marker
    return list(markers.values())


def merge_scan_markers(document: TwinDocument, markers: list[ScanMarker], source: str = ANCHORS_FILE) -> TwinDocument:
    """The document with the measured markers as anchors (validated again as a whole)."""
    anchors = list(document.anchors)
    index_of = {a.marker.key: i for i, a in enumerate(anchors) if a.marker is not None}
    shared_ids = _ids_in_several_dictionaries([m.marker for m in markers] + [a.marker for a in anchors if a.marker])
    taken = {a.id for a in anchors} | {m.node_name for m in document.machines} | set(GLB_NODES)
    for scan_marker in markers:
        marker, T_world_marker = scan_marker.marker, scan_marker.pose.matrix()
        if marker.key in index_of:
            old = anchors[index_of[marker.key]]
            T_frame_world = (np.eye(4) if old.machine is None
                             else np.linalg.inv(document.machine(old.machine).pose.matrix()))
            anchors[index_of[marker.key]] = _with_pose(old, T_frame_world @ T_world_marker, marker)
            continue
        anchor_id = _new_anchor_id(marker, taken, shared_ids, source)
        taken.add(anchor_id)
        anchors.append(_with_pose(Anchor(id=anchor_id, position=(0.0, 0.0, 0.0), name=f"marker {marker.id}"),
                                  T_world_marker, marker))
    merged = dataclasses.replace(document, anchors=tuple(anchors))
    return twin_document.from_dict(twin_document.to_dict(merged), source=f"{document.name} with {source}")


def _with_pose(anchor: Anchor, T_frame_marker: np.ndarray, marker: PrintedMarker) -> Anchor:
    pose = Pose.from_matrix(T_frame_marker)
    return dataclasses.replace(anchor, position=pose.translation, rotation=pose.rotation,
                               normal=tuple(float(v) for v in T_frame_marker[:3, 2]), marker=marker)


def _ids_in_several_dictionaries(markers: list[PrintedMarker]) -> set[int]:
    dictionaries: dict[int, set[str]] = {}
    for marker in markers:
        dictionaries.setdefault(marker.id, set()).add(marker.dictionary)
    return {marker_id for marker_id, names in dictionaries.items() if len(names) > 1}


def _new_anchor_id(marker: PrintedMarker, taken: set[str], shared_ids: set[int], source: str) -> str:
    short, long = f"marker-{marker.id}", f"marker-{marker.dictionary.lower()}-{marker.id}"
    for candidate in ([long] if marker.id in shared_ids else [short, long]):
        if candidate not in taken:
            return candidate
    raise ValueError(f"{source}: marker {marker.key} would become anchor {long!r}, but the document already uses "
                     "that id; give that anchor the marker (marker: {dictionary, id, size_m}) or another id")


def _scan_marker(entry: dict, where: str) -> ScanMarker:
    key = entry.get("marker")
    dictionary, _, number = key.partition(":") if isinstance(key, str) else ("", "", "")
    if dictionary not in MARKER_DICTIONARY_SIZES or not number.isdigit():
        raise ValueError(f"{where}.marker: {key!r} is not DICTIONARY:ID with an OpenCV dictionary "
                         f"({', '.join(MARKER_DICTIONARY_SIZES)}), e.g. 'DICT_4X4_50:7'")
    if int(number) >= MARKER_DICTIONARY_SIZES[dictionary]:
        raise ValueError(f"{where}.marker: {dictionary} has no marker {number} "
                         f"(its ids are 0 to {MARKER_DICTIONARY_SIZES[dictionary] - 1})")
    size = entry.get("size_m")
    if not _is_number(size) or not size > 0:
        raise ValueError(f"{where}.size_m: {size!r} is not a positive number of metres (the printed black square's side)")
    pose = entry.get("pose")
    if not isinstance(pose, dict):
        raise ValueError(f"{where}.pose: expected {{\"translation\": [x, y, z], \"rotation\": [qx, qy, qz, qw]}}")
    translation, rotation = pose.get("translation"), pose.get("rotation")
    if not _numbers(translation, 3):
        raise ValueError(f"{where}.pose.translation: {translation!r} is not three finite numbers [x, y, z] in metres")
    if not _numbers(rotation, 4):
        raise ValueError(f"{where}.pose.rotation: {rotation!r} is not four finite numbers [qx, qy, qz, qw]")
    norm = math.sqrt(sum(c * c for c in rotation))
    if abs(norm - 1) > QUATERNION_NORM_TOLERANCE:
        raise ValueError(f"{where}.pose.rotation: has length {norm:.4g}; expected a unit quaternion [qx, qy, qz, qw]")
    return ScanMarker(PrintedMarker(dictionary, int(number), float(size)),
                      Pose(tuple(map(float, translation)), tuple(float(c) / norm for c in rotation)))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(value, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(_is_number(v) for v in value)
