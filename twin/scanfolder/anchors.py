"""`anchors.json`: the printed markers a reconstruction measured, for the twin document's anchors.

{"anchors": [{"name": "marker DICT_4X4_50:7", "kind": "marker", "marker": "DICT_4X4_50:7", "size_m": 0.16,
              "pose": {"translation": [x, y, z], "rotation": [qx, qy, qz, qw]}}]}
with pose = T_world_marker (OpenCV's marker axes: x right, y up, z out of the marker) in the scan's
world frame. Every pipeline writes it through here and `twin export` reads it through here.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.document import MARKER_DICTIONARY_SIZES, QUATERNION_NORM_TOLERANCE, Pose, PrintedMarker
from twin.scanfolder.json_files import read_json, write_json

log = logging.getLogger(__name__)

ANCHORS_FILE = "anchors.json"


@dataclass(frozen=True)
class ScanMarker:
    """A marker measured in the scan: which one, its printed size, and T_world_marker."""

    marker: PrintedMarker
    pose: Pose


def marker_anchor(key: str, T_world_marker: np.ndarray, size_m: float) -> dict:
    """One entry of anchors.json: the marker `key` ("DICT_4X4_50:7") with its pose and printed side."""
    pose = Pose.from_matrix(T_world_marker)
    return {"name": f"marker {key}", "kind": "marker", "marker": key, "size_m": float(size_m),
            "pose": {"translation": list(pose.translation), "rotation": list(pose.rotation)}}


def write_anchors_json(path: Path, anchors: list[dict]) -> None:
    write_json(Path(path), {"anchors": anchors})


def read_scan_markers(path: str | Path) -> list[ScanMarker]:
    """The markers of an `anchors.json`; ValueError naming the file and the field where it is not valid."""
    path = Path(path)
    data = read_json(path, "the scan's anchors")
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
