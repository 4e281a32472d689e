"""Colours for viewing distances: grey where nothing changed, red where NEW stands out of OLD's
surface, blue where it lies behind it, brighter with the distance up to scale_m."""
from __future__ import annotations

import numpy as np

UNCHANGED = np.array([0.6, 0.6, 0.6])
OUTWARD = np.array([0.85, 0.1, 0.1])
INWARD = np.array([0.1, 0.3, 0.9])


def distance_colors(distance: np.ndarray, significant: np.ndarray, scale_m: float) -> np.ndarray:
    """(N, 3) floats in [0, 1]; non-significant points grey whatever their distance."""
    strength = np.clip(np.nan_to_num(np.abs(distance)) / scale_m, 0.3, 1.0)[:, None]
    tint = np.where((np.nan_to_num(distance) >= 0)[:, None], OUTWARD, INWARD)
    colours = UNCHANGED + strength * (tint - UNCHANGED)
    colours[~significant] = UNCHANGED
    return colours
