"""Open3D/Redwood layout: `image/` (or `color/`, `rgb/`) and `depth/` folders of matching frames,
an optional `intrinsic.json` and an optional `device_trajectory.log` of camera-to-world poses."""
from __future__ import annotations

from pathlib import Path

import cv2

from twin.camera import Camera
from twin.capture.axes import rigid_pose
from twin.capture.capture import Capture, Frame
from twin.capture.images import (
    UnreadableImage,
    frame_data,
    natural_key,
    numbered_files,
    read_color,
    read_depth_png,
    read_image,
)
from twin.capture.intrinsics import read_intrinsic_json
from twin.capture.trajectory_log import read_trajectory_log

COLOR_FOLDERS = ("image", "color", "rgb")
INTRINSIC_FILES = ("intrinsic.json", "camera_intrinsic.json")
DEVICE_TRAJECTORY = "device_trajectory.log"
DEFAULT_DEPTH_SCALE = 1000.0


def color_folder(path: Path) -> Path | None:
    return next((path / name for name in COLOR_FOLDERS if (path / name).is_dir()), None)


def is_open3d_folder(path: Path) -> bool:
    return path.is_dir() and (path / "depth").is_dir() and color_folder(path) is not None


def read_open3d_folder(path: Path, *, intrinsics: tuple[float, float, float, float] | None = None,
                       depth_scale: float | None = None) -> Capture:
    """`intrinsics` (fx, fy, cx, cy for the depth images' own size) override the folder's intrinsic.json."""
    path = Path(path)
    if not is_open3d_folder(path):
        raise ValueError(f"{path} is not an Open3D/Redwood capture: expected an image/ (or color/, rgb/) "
                         "folder beside a depth/ folder")
    colors = numbered_files(color_folder(path))
    depths = numbered_files(path / "depth", (".png",))
    if not colors or not depths:
        raise ValueError(f"{path}: found {len(colors)} colour and {len(depths)} depth images; a capture needs both")
    pairs = _pair_by_name(colors, depths)

    json_file = next((path / name for name in INTRINSIC_FILES if (path / name).is_file()), None)
    camera, json_scale = read_intrinsic_json(json_file) if json_file else (None, None)
    if intrinsics is not None:
        height, width = _first_readable_size(pairs)
        camera = Camera(*intrinsics, width, height)
    if camera is None:
        raise ValueError(f"{path} has no intrinsic.json; give the camera intrinsics (fx fy cx cy) as options "
                         "or put Open3D's PinholeCameraIntrinsic JSON in the folder")
    scale = depth_scale or json_scale or DEFAULT_DEPTH_SCALE

    poses = [None] * len(pairs)
    if (path / DEVICE_TRAJECTORY).is_file():
        poses = [rigid_pose(T, f"{path / DEVICE_TRAJECTORY}, pose {k}")
                 for k, T in enumerate(read_trajectory_log(path / DEVICE_TRAJECTORY))]
        if len(poses) != len(pairs):
            raise ValueError(f"{path / DEVICE_TRAJECTORY} has {len(poses)} poses but the capture has "
                             f"{len(pairs)} frames; it needs one pose per frame, in frame order")

    frames = [Frame(name=name, camera=camera.with_pose(pose), load=_loader(name, color, depth, scale))
              for (name, color, depth), pose in zip(pairs, poses)]
    return Capture(kind="open3d", path=path, frames=frames)


def _pair_by_name(colors: list[Path], depths: list[Path]):
    """(name, colour, depth) triples; files without a partner pair with None and fail on load."""
    depth_by_stem = {p.stem: p for p in depths}
    if not depth_by_stem.keys() & {p.stem for p in colors}:
        if len(colors) != len(depths):
            raise ValueError(f"colour and depth file names do not match and their counts differ "
                             f"({len(colors)} vs {len(depths)}); name them alike (00000.jpg / 00000.png)")
        return [(c.stem, c, d) for c, d in zip(colors, depths)]
    color_by_stem = {p.stem: p for p in colors}
    stems = sorted(color_by_stem.keys() | depth_by_stem.keys(), key=natural_key)
    return [(s, color_by_stem.get(s), depth_by_stem.get(s)) for s in stems]


def _first_readable_size(pairs) -> tuple[int, int]:
    for _, _, depth in pairs:
        try:
            if depth is not None:
                return read_image(depth, cv2.IMREAD_UNCHANGED, "depth image").shape[:2]
        except UnreadableImage:
            pass  # that frame fails with the reason when it is loaded
    raise ValueError("none of the depth images can be read; check that depth/ holds 16-bit PNG files")


def _loader(name: str, color: Path | None, depth: Path | None, depth_scale: float):
    def load():
        if color is None:
            raise ValueError(f"frame {name} has a depth image but no colour image")
        if depth is None:
            raise ValueError(f"frame {name} has a colour image but no depth image")
        return frame_data(read_color(color), read_depth_png(depth, depth_scale), None, name)
    return load
