"""Which kind of capture a path holds, and opening it with the matching reader."""
from __future__ import annotations

from pathlib import Path

from twin.capture.capture import Capture
from twin.capture.images import IMAGE_SUFFIXES
from twin.capture.nerfstudio import read_nerfstudio, transforms_file
from twin.capture.open3d_folder import is_open3d_folder, read_open3d_folder
from twin.capture.record3d import is_record3d, read_record3d
from twin.capture.stray_scanner import is_stray_scanner, read_stray_scanner
from twin.capture.tum import is_tum_folder, read_tum_folder

EXPECTED = ("a Record3D .r3d file; a Stray Scanner export (rgb.mp4 + depth/); a nerfstudio folder with "
            "transforms.json; a TUM folder (rgb.txt + depth.txt); an Open3D/Redwood folder (image/ + depth/); "
            "or a folder of photos")


def detect(path: Path) -> str:
    """One of "record3d", "stray_scanner", "nerfstudio", "tum", "open3d", "photos"."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist; expected {EXPECTED}")
    if is_record3d(path):
        return "record3d"
    if transforms_file(path) is not None:
        return "nerfstudio"
    if is_stray_scanner(path):
        return "stray_scanner"
    if is_tum_folder(path):
        return "tum"
    if is_open3d_folder(path):
        return "open3d"
    if path.is_dir() and (_has_photos(path) or _has_photos(path / "images")):
        return "photos"
    raise ValueError(f"{path} is not a capture this tool can read; expected {EXPECTED}")


def open_capture(path: Path, *, intrinsics: tuple[float, float, float, float] | None = None,
                 depth_scale: float | None = None) -> Capture:
    """The RGB-D capture at `path`; `intrinsics` (fx, fy, cx, cy in pixels) and `depth_scale` override what
    folder layouts carry."""
    kind = detect(path)
    if kind == "record3d":
        return read_record3d(path)
    if kind == "stray_scanner":
        return read_stray_scanner(path)
    if kind == "nerfstudio":
        return read_nerfstudio(path, depth_scale=depth_scale)
    if kind == "tum":
        return read_tum_folder(path, intrinsics=intrinsics, depth_scale=depth_scale)
    if kind == "open3d":
        return read_open3d_folder(path, intrinsics=intrinsics, depth_scale=depth_scale)
    raise ValueError(f"{path} is a folder of photos without depth; it needs the photo pipeline, not an RGB-D reader")


def _has_photos(folder: Path) -> bool:
    return folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir() if p.is_file())
