"""`cameras.json`: the reconstructed cameras, {"frames": [{name, K, width, height, T_world_camera}]}
with T_world_camera camera-to-world in OpenCV axes (x right, y down, z forward), as `twin.camera.Camera`s."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.camera import Camera
from twin.scanfolder.json_files import read_json, write_json


def write_cameras_json(path: Path, cameras: list[Camera]) -> None:
    """Every camera needs a name and a pose."""
    frames = [{"name": c.name, "K": c.K.tolist(), "width": c.width, "height": c.height,
               "T_world_camera": np.asarray(c.T_world_camera, float).tolist()}
              for c in cameras]
    write_json(path, {"frames": frames}, indent=1)


def read_cameras_json(path: Path) -> list[Camera]:
    data = read_json(path, "the cameras")
    try:
        return [Camera.from_K(np.array(f["K"], float), int(f["width"]), int(f["height"]), name=f["name"],
                              T_world_camera=np.array(f["T_world_camera"], float))
                for f in data["frames"]]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: cannot read the cameras ({error!r}); expected the cameras.json layout "
                         "{'frames': [{name, K, width, height, T_world_camera}]}") from None
