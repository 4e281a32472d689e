"""TUM RGB-D layout: `rgb.txt` and `depth.txt` list `timestamp path` lines; frames pair each depth
image with the colour image nearest in time (as TUM's associate.py does)."""
from __future__ import annotations

from bisect import bisect_left
from pathlib import Path

from twin.camera import Camera

from twin.capture.capture import Capture, Frame
from twin.capture.images import frame_data, read_color, read_depth_png
from twin.capture.intrinsics import PRIMESENSE_DEFAULT, read_intrinsic_json

TUM_DEPTH_SCALE = 5000.0
MAX_TIME_DIFFERENCE_S = 0.02


def is_tum_folder(path: Path) -> bool:
    return path.is_dir() and (path / "rgb.txt").is_file() and (path / "depth.txt").is_file()


def read_tum_folder(path: Path, *, intrinsics: tuple[float, float, float, float] | None = None,
                    depth_scale: float | None = None) -> Capture:
    """Intrinsics (fx, fy, cx, cy for 640x480 images) come from the options, else `intrinsic.json` in the
    folder, else the ROS default (fx = fy = 525, cx = 319.5, cy = 239.5) that TUM recommends for
    uncalibrated use."""
    path = Path(path)
    if not is_tum_folder(path):
        raise ValueError(f"{path} is not a TUM capture: expected rgb.txt and depth.txt in the folder")
    colors = _read_list(path / "rgb.txt")
    depths = _read_list(path / "depth.txt")
    if not colors or not depths:
        raise ValueError(f"{path}: rgb.txt lists {len(colors)} and depth.txt {len(depths)} images; both need entries")
    json_scale = None
    if intrinsics is None and (path / "intrinsic.json").is_file():
        camera, json_scale = read_intrinsic_json(path / "intrinsic.json")
    else:
        camera = Camera(*(intrinsics or PRIMESENSE_DEFAULT), 640, 480)
    scale = depth_scale or json_scale or TUM_DEPTH_SCALE

    color_times = [t for t, _ in colors]
    frames = []
    for time_s, depth_file in depths:
        nearest = _nearest(color_times, time_s)
        if abs(color_times[nearest] - time_s) > MAX_TIME_DIFFERENCE_S:
            color_file = None
        else:
            color_file = colors[nearest][1]
        name = f"{time_s:.6f}"
        frames.append(Frame(name=name, camera=camera, load=_loader(name, path, color_file, depth_file, scale)))
    return Capture(kind="tum", path=path, frames=frames)


def _read_list(file: Path) -> list[tuple[float, str]]:
    entries = []
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            entries.append((float(parts[0]), parts[1]))
        except (ValueError, IndexError):
            raise ValueError(f"{file}:{number}: expected 'timestamp path', got {line!r}") from None
    return sorted(entries)


def _nearest(sorted_times: list[float], time_s: float) -> int:
    index = bisect_left(sorted_times, time_s)
    candidates = [i for i in (index - 1, index) if 0 <= i < len(sorted_times)]
    return min(candidates, key=lambda i: abs(sorted_times[i] - time_s))


def _loader(name: str, root: Path, color_file: str | None, depth_file: str, depth_scale: float):
    def load():
        if color_file is None:
            raise ValueError(f"frame {name}: no colour image within {MAX_TIME_DIFFERENCE_S} s of the depth image")
        return frame_data(read_color(root / color_file), read_depth_png(root / depth_file, depth_scale), None, name)
    return load
