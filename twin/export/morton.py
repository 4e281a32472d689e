"""Morton (z-order) codes: the spatial order in which we store points and the keys of our octree.

A point's code interleaves the bits of its integer cell coordinates in a cube split into
2**LEVELS cells per axis, x in the lowest bit. Sorting by code puts points of every octree node at
every level into one contiguous run, and neighbours next to each other (good for compression).
Codes and their radix sort are computed by the C++ core (`twin/native/morton.hpp`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin import _native

LEVELS = 21
"""Bits per axis: 3 * 21 = 63 bits fit in a uint64 (as in morton.hpp)."""


@dataclass(frozen=True)
class Cube:
    """The axis-aligned cube that the codes divide: `origin` (its min corner) and edge `size_m`."""

    origin: np.ndarray
    size_m: float

    @classmethod
    def around(cls, points: np.ndarray) -> Cube:
        lo, hi = points.min(axis=0), points.max(axis=0)
        size = float((hi - lo).max())
        # A flat or single-point cloud still needs a cube with room for its points.
        return cls(lo.astype(np.float64), size * (1 + 1e-9) if size > 0 else 1.0)


def spatial_order(points: np.ndarray, cube: Cube | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(order, sorted codes): the stable permutation that sorts points (n, 3) along the z-order curve
    of the cube (by default the cloud's own), and their codes (uint64) in that order."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    cube = cube or Cube.around(points)
    return _native.morton_order(points, cube.origin, cube.size_m)
