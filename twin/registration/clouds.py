"""Point clouds on the C++ core: the (N, 3) check, voxel downsampling and the k-d tree.

    from twin import registration
    sparse = registration.voxel_downsample(points, voxel_size_m=0.02)   # (M, 3) voxel centroids
    tree = registration.KdTree(sparse)
    near = tree.nearest(queries, max_distance_m=0.1)    # near.indices (Q,), -1 where none so close
    near = tree.knn(queries, 8)                          # (Q, 8), nearest first
    near = tree.radius(queries[0], radius_m=0.05)        # (K,), nearest first

The lowest module of the package: `align` and `global_registration` build on it.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from twin import _native

DEFAULT_LEAF_SIZE = 16   # the core's default (twin::KdTree::kDefaultLeafSize)
MAX_LEAF_SIZE = 64       # and its limit (kMaxLeafSize)


def as_points(points, name: str = "points", *, allow_empty: bool = False) -> np.ndarray:
    """`points` as a C-contiguous (N, 3) float64 array of finite rows, N >= 1 unless
    `allow_empty`, or ValueError."""
    try:
        array = np.ascontiguousarray(points, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an (N, 3) array of numbers: {error}") from None
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"{name} must be an (N, 3) array of x, y, z rows, got shape {array.shape}")
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: give at least one point")
    if not np.isfinite(array).all():  # the flat test is fast; find the rows only when it fails
        finite = np.isfinite(array).all(axis=1)
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{name} has {int((~finite).sum())} rows with NaN or infinite coordinates "
                         f"(first at row {bad}); remove them first")
    return array


def check_metres(value, name: str, *, zero_ok: bool = False, infinite_ok: bool = False) -> float:
    """A positive finite number of metres (zero or infinity too where allowed), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number of metres, got {value!r}")
    value = float(value)
    if math.isnan(value) or value < 0 or (value == 0 and not zero_ok) or (math.isinf(value) and not infinite_ok):
        allowed = "a non-negative" if zero_ok else "a positive"
        raise ValueError(f"{name} must be {allowed} number of metres{' (or infinity)' if infinite_ok else ''}, "
                         f"got {value}")
    return value


def voxel_downsample(points, voxel_size_m: float) -> np.ndarray:
    """One point per occupied voxel of a cubic grid: the centroid of the points in it.

    The grid is anchored at the origin (voxel (i, j, k) = floor(p / voxel_size_m)), so the same
    surface gives the same voxels whatever else is in the cloud; Open3D's `voxel_down_sample`
    anchors its grid at the cloud's own minimum corner instead, so the two group points
    differently (see tests/test_registration_faces.py for how much). Voxels come out in the order
    in which the points first touch them, whatever the thread count. Returns a new (M, 3) array.
    """
    array = as_points(points)
    return _native.voxel_downsample(array, check_metres(voxel_size_m, "voxel_size_m"))


class Neighbors(NamedTuple):
    """What a k-d tree query found: `indices` (int32) into the tree's points and `distances` in
    metres, nearest first; where fewer were found than asked for, -1 and infinity."""

    indices: np.ndarray
    distances: np.ndarray


class KdTree:
    """A k-d tree over (N, 3) points, built in parallel by the core, which keeps its own copy of
    the points (changing the array afterwards does not change the tree). Queries are
    thread-safe and run with the GIL released."""

    __slots__ = ("_tree",)

    def __init__(self, points, leaf_size: int = DEFAULT_LEAF_SIZE):
        array = as_points(points)
        if isinstance(leaf_size, bool) or not isinstance(leaf_size, (int, np.integer)) or \
                not 1 <= leaf_size <= MAX_LEAF_SIZE:
            raise ValueError(f"leaf_size must be an integer from 1 to {MAX_LEAF_SIZE}, got {leaf_size!r}")
        self._tree = _native.KdTree(array, int(leaf_size))

    def __len__(self) -> int:
        return len(self._tree)

    def __repr__(self) -> str:
        return f"KdTree({len(self)} points)"

    def knn(self, queries, k: int, max_distance_m: float = math.inf) -> Neighbors:
        """The `k` nearest points to each of `queries` (Q, 3) closer than `max_distance_m`:
        (Q, k) indices and distances."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        bound = check_metres(max_distance_m, "max_distance_m", infinite_ok=True)
        indices, sq_distances = self._tree.knn(as_points(queries, "queries", allow_empty=True), int(k), bound)
        return Neighbors(indices, np.sqrt(sq_distances))

    def nearest(self, queries, max_distance_m: float = math.inf) -> Neighbors:
        """The nearest point to each of `queries` (Q, 3) closer than `max_distance_m`: (Q,)
        indices and distances."""
        indices, distances = self.knn(queries, 1, max_distance_m)
        return Neighbors(indices[:, 0], distances[:, 0])

    def radius(self, query, radius_m: float) -> Neighbors:
        """Every point within `radius_m` of one `query` point (3,) (boundary included): (K,)
        indices and distances, nearest first."""
        point = as_points([query] if np.ndim(query) == 1 else query, "query")
        if len(point) != 1:
            raise ValueError(f"query must be one point (x, y, z), got {point.shape[0]} rows")
        indices, sq_distances = self._tree.radius(point[0], check_metres(radius_m, "radius_m", zero_ok=True))
        return Neighbors(indices, np.sqrt(sq_distances))
