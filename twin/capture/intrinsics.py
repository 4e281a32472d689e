"""Pinhole intrinsics from Open3D's `PinholeCameraIntrinsic` JSON or from user flags."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Open3D's PrimeSense default, what Open3D assumes for 640x480 captures without intrinsics.
PRIMESENSE_DEFAULT = (525.0, 525.0, 319.5, 239.5)


@dataclass(frozen=True)
class Intrinsics:
    K: np.ndarray
    width: int | None = None
    height: int | None = None
    depth_scale: float | None = None


def from_flags(fx: float, fy: float, cx: float, cy: float) -> Intrinsics:
    values = (fx, fy, cx, cy)
    if not all(np.isfinite(v) for v in values) or fx <= 0 or fy <= 0:
        raise ValueError(f"intrinsics fx={fx} fy={fy} cx={cx} cy={cy} are not valid; focal lengths must be positive")
    return Intrinsics(K=np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]))


def read_intrinsic_json(path: Path) -> Intrinsics:
    """Open3D's layout: `width`, `height`, `intrinsic_matrix` (9 values, column-major), optional `depth_scale`."""
    try:
        data = json.loads(Path(path).read_text())
        matrix = np.array(data["intrinsic_matrix"], dtype=np.float64).reshape(3, 3).T
        width, height = int(data["width"]), int(data["height"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"cannot read intrinsics from {path} ({error}); expected Open3D's PinholeCameraIntrinsic "
                         "JSON with width, height and a 9-value column-major intrinsic_matrix") from None
    if matrix[0, 0] <= 0 or matrix[1, 1] <= 0:
        raise ValueError(f"{path}: focal lengths must be positive")
    scale = data.get("depth_scale")
    return Intrinsics(K=matrix, width=width, height=height, depth_scale=float(scale) if scale else None)
