"""The markers a reconstruction measured (the scan folder's `anchors.json`, read by
`twin.scanfolder.read_scan_markers`) merged into the twin document.

Each marker becomes a room anchor `marker-<id>` ("marker <id>"), or `marker-<dictionary>-<id>` where
two dictionaries share the id; an anchor that already carries the marker keeps its id, name and machine
and takes the measured pose and size (see docs/export.md).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from twin import document as twin_document
from twin.document import GLB_NODES, Anchor, Pose, PrintedMarker, TwinDocument
from twin.scanfolder import ANCHORS_FILE, ScanMarker


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
