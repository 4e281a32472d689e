"""Morton (z-order) codes: the spatial order in which we store points and the keys of our octree.

A point's code interleaves the bits of its integer cell coordinates in a cube split into
2**LEVELS cells per axis, x in the lowest bit. Sorting by code puts points of every octree node at
every level into one contiguous run, and neighbours next to each other (good for compression).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = 21
"""Bits per axis: 3 * 21 = 63 bits fit in a uint64."""


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


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Puts two zero bits between the 21 low bits of each value."""
    v = v & np.uint64(0x1FFFFF)
    v = (v | v << np.uint64(32)) & np.uint64(0x1F00000000FFFF)
    v = (v | v << np.uint64(16)) & np.uint64(0x1F0000FF0000FF)
    v = (v | v << np.uint64(8)) & np.uint64(0x100F00F00F00F00F)
    v = (v | v << np.uint64(4)) & np.uint64(0x10C30C30C30C30C3)
    v = (v | v << np.uint64(2)) & np.uint64(0x1249249249249249)
    return v


# Spreading 7 bits at a time through a table costs half the CPU of spreading 21 bits arithmetically.
_SPREAD_7_BITS = _spread_bits(np.arange(128, dtype=np.uint64))


def codes(points: np.ndarray, cube: Cube) -> np.ndarray:
    """The Morton code (uint64) of each point (n, 3) in the cube."""
    scale = (1 << LEVELS) / cube.size_m
    out = np.zeros(len(points), dtype=np.uint64)
    for axis in range(3):
        cells = points[:, axis] - cube.origin[axis]
        cells *= scale
        np.clip(cells, 0, (1 << LEVELS) - 1, out=cells)
        cells = cells.astype(np.uint32)
        spread = (_SPREAD_7_BITS[cells & 127] | _SPREAD_7_BITS[(cells >> 7) & 127] << np.uint64(21)
                  | _SPREAD_7_BITS[cells >> 14] << np.uint64(42))
        out |= spread << np.uint64(axis)
    return out


def spatial_order(points: np.ndarray, cube: Cube | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(order, sorted codes): the permutation that sorts points along the z-order curve."""
    all_codes = codes(points, cube or Cube.around(points))
    order = np.argsort(all_codes, kind="stable")
    return order, all_codes[order]
