"""Stray Scanner export: `rgb.mp4`, `depth/NNNNNN.png` (mm), `confidence/NNNNNN.png` (0-2),
`odometry.csv` (ARKit camera poses) and `camera_matrix.csv` (intrinsics of the video frames)."""
from __future__ import annotations

import csv
import threading
from pathlib import Path

import cv2
import numpy as np

from twin.camera import Camera
from twin.capture.axes import arkit_to_twin_pose
from twin.capture.capture import Capture, Frame
from twin.capture.images import (
    frame_data,
    numbered_files,
    read_depth_png,
    read_gray,
    read_image,
)
from twin.geometry import pose_matrix

DEPTH_SCALE = 1000.0


def is_stray_scanner(path: Path) -> bool:
    return path.is_dir() and (path / "rgb.mp4").is_file() and (path / "depth").is_dir()


def read_stray_scanner(path: Path) -> Capture:
    path = Path(path)
    if not is_stray_scanner(path):
        raise ValueError(f"{path} is not a Stray Scanner export: expected rgb.mp4 and a depth/ folder")
    for required in ("camera_matrix.csv", "odometry.csv"):
        if not (path / required).is_file():
            raise ValueError(f"{path} has no {required}; a Stray Scanner export has camera_matrix.csv and odometry.csv")
    K_video = _read_camera_matrix(path / "camera_matrix.csv")
    poses = _read_odometry(path / "odometry.csv")
    video = _Video(path / "rgb.mp4")
    depths = numbered_files(path / "depth", (".png",))
    if not depths:
        raise ValueError(f"{path / 'depth'} holds no PNG depth images")
    height, width = read_image(depths[0], cv2.IMREAD_UNCHANGED, "depth image").shape[:2]
    try:
        camera = Camera.from_K(K_video, *video.size).scaled(width, height)
    except ValueError as error:
        raise ValueError(f"{path / 'camera_matrix.csv'}: {error}") from None

    frames = []
    for depth in depths:
        index = int(depth.stem)
        pose = poses.get(index)
        if pose is None:
            raise ValueError(f"{path / 'odometry.csv'} has no pose for frame {index}; each depth frame needs one")
        confidence = path / "confidence" / depth.name
        frames.append(Frame(name=depth.stem, camera=camera.with_pose(pose),
                            load=_loader(depth.stem, video, index, depth, confidence)))
    return Capture(kind="stray_scanner", path=path, frames=frames)


def _read_camera_matrix(file: Path) -> np.ndarray:
    try:
        K = np.loadtxt(file, delimiter=",", dtype=np.float64)
    except ValueError:
        raise ValueError(f"{file} is not a 3x3 comma-separated matrix") from None
    if K.shape != (3, 3):
        raise ValueError(f"{file} holds a {K.shape} matrix; expected 3x3")
    return K


def _read_odometry(file: Path) -> dict[int, np.ndarray]:
    poses = {}
    with open(file, newline="") as handle:
        rows = csv.DictReader(handle, skipinitialspace=True)
        required = {"frame", "x", "y", "z", "qx", "qy", "qz", "qw"}
        if not required <= set(rows.fieldnames or ()):
            raise ValueError(f"{file} needs the columns {sorted(required)}; it has {rows.fieldnames}")
        for row in rows:
            T = pose_matrix((row["x"], row["y"], row["z"]), (row["qx"], row["qy"], row["qz"], row["qw"]))
            poses[int(row["frame"])] = arkit_to_twin_pose(T)
    return poses


class _Video:
    """Frame access to an mp4 that decodes forward while frames are asked for in order."""

    def __init__(self, file: Path):
        self._file = file
        self._lock = threading.Lock()
        self._capture = cv2.VideoCapture(str(file))
        if not self._capture.isOpened():
            raise ValueError(f"cannot open the video {file}; it must be a readable mp4")
        self.size = (int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self._next = 0

    def frame(self, index: int) -> np.ndarray:
        with self._lock:
            if index < self._next:
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                self._next = index
            ok, image = True, None
            while ok and self._next <= index:
                ok, image = self._capture.read()
                self._next += 1
            if not ok or image is None:
                raise ValueError(f"{self._file} has no frame {index}")
            return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _loader(name: str, video: _Video, index: int, depth: Path, confidence: Path):
    def load():
        conf = read_gray(confidence) if confidence.is_file() else None
        return frame_data(video.frame(index), read_depth_png(depth, DEPTH_SCALE), conf, name, resize_color=True)
    return load
