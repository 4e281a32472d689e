"""The sample's files that no other part of twin writes: Open3D's intrinsic JSON, K.txt, images, markers."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from twin.camera import Camera
from twin.synth.spec import FiducialMarker


def write_intrinsic_json(path: Path, camera: Camera, depth_scale: float) -> None:
    """Open3D's `PinholeCameraIntrinsic` layout (column-major matrix) plus `depth_scale`."""
    data = {"width": camera.width, "height": camera.height,
            "intrinsic_matrix": camera.K.T.ravel().tolist(), "depth_scale": depth_scale}
    Path(path).write_text(json.dumps(data, indent=2))


def write_k_txt(path: Path, camera: Camera) -> None:
    np.savetxt(path, camera.K, fmt="%.6f")


def write_jpeg(path: Path, rgb: np.ndarray, quality: int) -> None:
    """Save an (H, W, 3) uint8 RGB image as JPEG."""
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f"could not write the image {path}")


def write_depth_png(path: Path, depth: np.ndarray) -> None:
    """Save an (H, W) uint16 depth image as a 16-bit PNG."""
    if depth.dtype != np.uint16 or not cv2.imwrite(str(path), depth):
        raise OSError(f"could not write the depth image {path}")


def write_markers_json(path: Path, markers: tuple[FiducialMarker, ...]) -> None:
    """Ground truth of the printed markers; `key` is how the photo pipeline names them."""
    entries = [{"key": f"{m.dictionary}:{m.id}", "id": m.id, "dictionary": m.dictionary, "size_m": m.size_m,
                "corners_m": m.corners_m().tolist(), "T_world_marker": m.T_world_marker.tolist()}
               for m in markers]
    Path(path).write_text(json.dumps({"markers": entries}, indent=1))
