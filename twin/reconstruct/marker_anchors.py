"""The scan folder's `anchors.json`: the markers a reconstruction measured, for the twin document's anchors.

{"anchors": [{"name": "marker DICT_4X4_50:7", "kind": "marker", "marker": "DICT_4X4_50:7", "size_m": 0.16,
              "pose": {"translation": [x, y, z], "rotation": [qx, qy, qz, qw]}}]}
with pose = T_world_marker (OpenCV's marker axes: x right, y up, z out of the marker) in the scan's
world frame. Every pipeline writes it through here; `twin export` reads it (twin/export/scan_anchors.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.document import Pose
from twin.reconstruct.outputs import write_json


def marker_anchor(key: str, T_world_marker: np.ndarray, size_m: float) -> dict:
    """One entry of anchors.json: the marker `key` ("DICT_4X4_50:7") with its pose and printed side."""
    pose = Pose.from_matrix(T_world_marker)
    return {"name": f"marker {key}", "kind": "marker", "marker": key, "size_m": float(size_m),
            "pose": {"translation": list(pose.translation), "rotation": list(pose.rotation)}}


def write_anchors_json(path: Path, anchors: list[dict]) -> None:
    write_json(Path(path), {"anchors": anchors})
