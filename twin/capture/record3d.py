"""Record3D `.r3d` export: a zip with a `metadata` JSON (`K`, `w`, `h`, `dw`, `dh`, `poses`),
`rgbd/N.jpg`, `rgbd/N.depth` (LZFSE-compressed float32 metres) and `rgbd/N.conf` (LZFSE uint8)."""
from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

import liblzfse
import numpy as np

from twin.camera import Camera
from twin.capture.axes import arkit_to_twin_pose
from twin.capture.capture import Capture, Frame
from twin.capture.images import decode_color, frame_data, natural_key
from twin.geometry import pose_matrix


def is_record3d(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".r3d"


def read_record3d(path: Path) -> Capture:
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        raise ValueError(f"cannot open {path} as a Record3D export; an .r3d file is a zip archive") from None
    names = set(archive.namelist())
    if "metadata" not in names:
        raise ValueError(f"{path} has no 'metadata' entry; it is not a Record3D .r3d export")
    try:
        metadata = json.loads(archive.read("metadata"))
        color_camera = Camera.from_K(np.array(metadata["K"], dtype=np.float64).reshape(3, 3).T,
                                     int(metadata["w"]), int(metadata["h"]))
        width, height = int(metadata["dw"]), int(metadata["dh"])
        pose_rows = metadata.get("poses") or []
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: the metadata lacks or mangles {error}; expected K, w, h, dw, dh and poses") from None
    camera = color_camera.scaled(width, height)
    depth_ids = sorted((n[len("rgbd/"):-len(".depth")] for n in names
                        if n.startswith("rgbd/") and n.endswith(".depth")), key=natural_key)
    if not depth_ids:
        raise ValueError(f"{path} holds no rgbd/N.depth frames")
    if pose_rows and len(pose_rows) < len(depth_ids):
        raise ValueError(f"{path}: the metadata has {len(pose_rows)} poses for {len(depth_ids)} frames")
    reader = _Archive(archive, (width, height))
    frames = []
    for number, frame_id in enumerate(depth_ids):
        pose = None
        if pose_rows:
            qx, qy, qz, qw, tx, ty, tz = pose_rows[int(frame_id)] if frame_id.isdigit() else pose_rows[number]
            pose = arkit_to_twin_pose(pose_matrix((tx, ty, tz), (qx, qy, qz, qw)))
        frames.append(Frame(name=frame_id, camera=camera.with_pose(pose),
                            load=reader.loader(frame_id)))
    return Capture(kind="record3d", path=path, frames=frames)


class _Archive:
    """Reads frames out of one open zip (zipfile handles are not safe across threads)."""

    def __init__(self, archive: zipfile.ZipFile, depth_size: tuple[int, int]):
        self._archive = archive
        self._lock = threading.Lock()
        self._size = depth_size

    def _read(self, member: str) -> bytes | None:
        with self._lock:
            try:
                return self._archive.read(member)
            except KeyError:
                return None

    def _decompress(self, member: str, dtype) -> np.ndarray | None:
        data = self._read(member)
        if data is None:
            return None
        try:
            values = np.frombuffer(liblzfse.decompress(data), dtype=dtype)
        except liblzfse.error:
            raise ValueError(f"{member} is not LZFSE-compressed data") from None
        width, height = self._size
        if values.size != width * height:
            raise ValueError(f"{member} holds {values.size} values; expected {width}x{height}")
        return values.reshape(height, width)

    def loader(self, frame_id: str):
        def load():
            color = self._read(f"rgbd/{frame_id}.jpg")
            if color is None:
                raise ValueError(f"frame {frame_id} has no colour image rgbd/{frame_id}.jpg")
            depth = self._decompress(f"rgbd/{frame_id}.depth", np.float32)
            depth = np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)
            confidence = self._decompress(f"rgbd/{frame_id}.conf", np.uint8)
            return frame_data(decode_color(color, f"rgbd/{frame_id}.jpg"), depth, confidence, frame_id,
                              resize_color=True)
        return load
