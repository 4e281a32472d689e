"""The one type every capture reader produces: frames of colour, depth, intrinsics and poses."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from twin.camera import Camera


@dataclass(frozen=True)
class FrameData:
    """The pixels of one frame, colour and depth at the same resolution.

    `color` is HxWx3 uint8 RGB; `depth_m` is HxW float32 in metres with 0 where there is no
    reading; `confidence` (HxW uint8, ARKit levels 0 low, 1 medium, 2 high) where the device
    gives one.
    """

    color: np.ndarray
    depth_m: np.ndarray
    confidence: np.ndarray | None = None


@dataclass(frozen=True)
class Frame:
    """One frame of a capture, its pixels loaded on demand (captures can be far larger than RAM).

    `camera` is the pinhole camera of the images that `load()` returns, with the device's
    camera-to-world pose (OpenCV camera axes) as its `T_world_camera` where the capture has one.
    `load()` raises `ValueError` when the frame's files are missing or unreadable.
    """

    name: str
    camera: Camera
    load: Callable[[], FrameData] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Capture:
    """An RGB-D capture: where it came from, which reader read it, and its frames in order."""

    kind: str
    path: Path
    frames: list[Frame]

    @property
    def has_device_poses(self) -> bool:
        return bool(self.frames) and all(frame.camera.T_world_camera is not None for frame in self.frames)

    def __len__(self) -> int:
        return len(self.frames)
