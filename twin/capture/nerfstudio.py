"""nerfstudio `transforms.json` with depth: intrinsics (`fl_x`, `fl_y`, `cx`, `cy`, `w`, `h`) at the
top or per frame, and per frame `file_path`, `depth_file_path` and a camera-to-world
`transform_matrix` with OpenGL camera axes. Depth is a 16-bit PNG in millimetres (nerfstudio's
default scale) or a `.npy` array in metres."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from twin.camera import Camera
from twin.capture.axes import opengl_to_opencv_pose, rigid_pose
from twin.capture.capture import Capture, Frame
from twin.capture.images import frame_data, read_color, read_depth_png

DEFAULT_DEPTH_SCALE = 1000.0
INTRINSIC_KEYS = ("fl_x", "fl_y", "cx", "cy", "w", "h")


def transforms_file(path: Path) -> Path | None:
    if path.is_file() and path.name.endswith(".json"):
        return path
    if path.is_dir() and (path / "transforms.json").is_file():
        return path / "transforms.json"
    return None


def read_nerfstudio(path: Path, *, depth_scale: float | None = None) -> Capture:
    file = transforms_file(Path(path))
    if file is None:
        raise ValueError(f"{path} has no transforms.json; expected a nerfstudio dataset folder")
    try:
        data = json.loads(file.read_text())
        entries = data["frames"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read {file} ({error}); expected nerfstudio's transforms.json with a 'frames' list") from None
    scale = depth_scale or DEFAULT_DEPTH_SCALE
    frames = []
    for number, entry in enumerate(entries):
        name = Path(entry.get("file_path", f"frame_{number}")).stem
        if "depth_file_path" not in entry:
            raise ValueError(f"{file}: frame {name} has no depth_file_path; RGB-D reconstruction needs depth for "
                             "every frame (plain photos go through the photo pipeline)")
        values = {key: entry.get(key, data.get(key)) for key in INTRINSIC_KEYS}
        missing = [key for key, value in values.items() if value is None]
        if missing:
            raise ValueError(f"{file}: frame {name} lacks {', '.join(missing)} (at the top or in the frame)")
        try:
            pose = np.array(entry["transform_matrix"], dtype=np.float64)
        except (KeyError, ValueError):
            raise ValueError(f"{file}: frame {name} has no valid transform_matrix") from None
        if pose.shape == (3, 4):
            pose = np.vstack([pose, [0.0, 0.0, 0.0, 1.0]])
        if pose.shape != (4, 4):
            raise ValueError(f"{file}: frame {name}'s transform_matrix is {pose.shape}; expected 4x4")
        T_world_camera = opengl_to_opencv_pose(rigid_pose(pose, f"{file}, frame {name}"))
        try:
            camera = Camera(values["fl_x"], values["fl_y"], values["cx"], values["cy"], int(values["w"]),
                            int(values["h"]), T_world_camera)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{file}: frame {name}: {error}") from None
        frames.append(Frame(name=name, camera=camera, load=_loader(name, file.parent / entry["file_path"],
                                         file.parent / entry["depth_file_path"], scale)))
    if not frames:
        raise ValueError(f"{file} lists no frames")
    return Capture(kind="nerfstudio", path=file.parent, frames=frames)


def _loader(name: str, color: Path, depth: Path, depth_scale: float):
    def load():
        if depth.suffix.lower() == ".npy":
            try:
                depth_m = np.load(depth).astype(np.float32)
            except (OSError, ValueError):
                raise ValueError(f"cannot read depth array {depth}") from None
        else:
            depth_m = read_depth_png(depth, depth_scale)
        return frame_data(read_color(color), depth_m, None, name, resize_color=True)
    return load
