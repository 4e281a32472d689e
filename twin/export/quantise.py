"""Positions as 16-bit integer steps (KHR_mesh_quantization): the node that holds the mesh carries
the dequantisation (translation = the min corner, uniform scale = the step), so readers see metres."""
from __future__ import annotations

import numpy as np

_MAX_STEPS = 65535


def quantise(points: np.ndarray, precision_m: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(uint16 steps (n, 3), origin (3,), step in metres): the finest step <= precision_m that fits
    16 bits, or coarser where the extent needs it."""
    origin = points.min(axis=0)
    extent = float((points.max(axis=0) - origin).max())
    step = max(precision_m, extent / _MAX_STEPS)
    steps = points - origin
    steps *= 1.0 / step
    np.rint(steps, out=steps)
    np.clip(steps, 0, _MAX_STEPS, out=steps)  # only rounding could step past the ends
    return steps.astype(np.uint16), origin, step
