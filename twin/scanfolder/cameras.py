"""`cameras.json`: the reconstructed cameras, {"frames": [{name, K, width, height, T_world_camera}]}
with T_world_camera camera-to-world in OpenCV axes (x right, y down, z forward)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.scanfolder.json_files import read_json, write_json


@dataclass(frozen=True)
class CameraPose:
    """One reconstructed camera: its pinhole model and camera-to-world pose (OpenCV axes)."""

    name: str
    K: np.ndarray
    width: int
    height: int
    T_world_camera: np.ndarray


def write_cameras_json(path: Path, cameras: list[CameraPose]) -> None:
    frames = [{"name": c.name, "K": np.asarray(c.K, float).tolist(), "width": int(c.width),
               "height": int(c.height), "T_world_camera": np.asarray(c.T_world_camera, float).tolist()}
              for c in cameras]
    write_json(path, {"frames": frames}, indent=1)


def read_cameras_json(path: Path) -> list[CameraPose]:
    data = read_json(path, "the cameras")
    try:
        return [CameraPose(name=f["name"], K=np.array(f["K"], float), width=int(f["width"]),
                           height=int(f["height"]), T_world_camera=np.array(f["T_world_camera"], float))
                for f in data["frames"]]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: cannot read the cameras ({error!r}); expected the cameras.json layout "
                         "{'frames': [{name, K, width, height, T_world_camera}]}") from None
