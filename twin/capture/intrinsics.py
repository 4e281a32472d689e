"""Pinhole intrinsics from Open3D's `PinholeCameraIntrinsic` JSON, and Open3D's default for captures without any."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from twin.camera import Camera

# Open3D's PrimeSense default, what Open3D assumes for 640x480 captures without intrinsics.
PRIMESENSE_DEFAULT = (525.0, 525.0, 319.5, 239.5)


def read_intrinsic_json(path: Path) -> tuple[Camera, float | None]:
    """The camera and the depth scale (units per metre, None where absent) of Open3D's layout: `width`,
    `height`, `intrinsic_matrix` (9 values, column-major), optional `depth_scale`."""
    try:
        data = json.loads(Path(path).read_text())
        matrix = np.array(data["intrinsic_matrix"], dtype=np.float64).reshape(3, 3).T
        width, height = int(data["width"]), int(data["height"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"cannot read intrinsics from {path} ({error}); expected Open3D's PinholeCameraIntrinsic "
                         "JSON with width, height and a 9-value column-major intrinsic_matrix") from None
    if matrix[0, 0] <= 0 or matrix[1, 1] <= 0:
        raise ValueError(f"{path}: focal lengths must be positive")
    try:
        camera = Camera.from_K(matrix, width, height)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    scale = data.get("depth_scale")
    return camera, float(scale) if scale else None
