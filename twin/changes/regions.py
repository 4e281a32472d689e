"""Change regions: connected components of significant points, linked within a distance."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

_NEIGHBOUR_OFFSETS = np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)
                               if (x, y, z) > (0, 0, 0)])  # half of the 26 neighbours: links are symmetric


@dataclass(frozen=True)
class Region:
    """Points of one change region (an (n, 3) array in OLD's frame) and what describes them."""

    points: np.ndarray

    @cached_property
    def centroid(self) -> np.ndarray:
        return self.points.mean(axis=0)

    @cached_property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.points.min(axis=0), self.points.max(axis=0)

    @cached_property
    def spreads(self) -> np.ndarray:
        """Standard deviations along the principal axes, largest first (independent of a rigid motion)."""
        eigenvalues = np.linalg.eigvalsh(np.cov(self.points.T)) if len(self.points) > 3 else np.zeros(3)
        return np.sqrt(np.clip(eigenvalues, 0, None))[::-1]


def connected_regions(points: np.ndarray, link_distance_m: float, min_points: int) -> list[np.ndarray]:
    """Index arrays of the connected components of `points` (cells of link_distance_m touching,
    26-neighbourhood), largest first, keeping those of at least min_points points."""
    if len(points) == 0:
        return []
    cells = np.floor(points / link_distance_m).astype(np.int64)
    cells -= cells.min(axis=0) - 1  # all >= 1, so a neighbour offset never goes negative
    span = cells.max(axis=0) + 2
    keys = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
    unique, point_cell = np.unique(keys, return_inverse=True)
    unique_cells = np.stack([unique // (span[1] * span[2]), unique // span[2] % span[1], unique % span[2]], axis=1)
    pairs = []
    for offset in _NEIGHBOUR_OFFSETS:
        moved = unique_cells + offset
        moved_keys = (moved[:, 0] * span[1] + moved[:, 1]) * span[2] + moved[:, 2]
        where = np.searchsorted(unique, moved_keys)
        found = (where < len(unique)) & (unique[np.minimum(where, len(unique) - 1)] == moved_keys)
        pairs.append(np.stack([np.flatnonzero(found), where[found]], axis=1))
    labels = _components(len(unique), np.concatenate(pairs))[point_cell]
    groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    return sorted((g for g in groups if len(g) >= min_points), key=len, reverse=True)


def _components(count: int, edges: np.ndarray) -> np.ndarray:
    """Component label of each of `count` nodes: the smallest node index reachable, by label
    propagation along the edges until nothing changes (vectorised; a few dozen rounds on rooms)."""
    labels = np.arange(count)
    while True:
        low = np.minimum(labels[edges[:, 0]], labels[edges[:, 1]])
        updated = labels.copy()
        np.minimum.at(updated, edges[:, 0], low)
        np.minimum.at(updated, edges[:, 1], low)
        updated = updated[updated]  # pointer jumping: long chains shrink by halves
        if np.array_equal(updated, labels):
            return labels
        labels = updated
