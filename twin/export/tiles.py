"""Level-of-detail tiles for large clouds: an octree with additive refinement, written as
3D Tiles 1.1 (`tileset.json` plus one GLB per tile), in the manner of Potree.

Each octree node keeps a spatially even sample of the points that reach it (one random point per
cell of a grid 2**sampling_depth cells across the node, at most `max_points_per_tile`) and passes
the rest down to its children; a node with few enough points keeps them all and is a leaf. A
viewer draws a node and adds its children's points as it gets closer ("refine": "ADD"). A tile's
geometric error is the spacing of its sample (0 for a leaf). The C++ core puts the points in Morton
order, so that every node's points are one contiguous run, and builds the levels
(`twin/native/octree.hpp`); the tiles are written by a few threads.

Frames: tileset bounding volumes are in the twin's z-up world frame (3D Tiles is z-up); each tile's
glTF content hangs under a node that turns z-up into glTF's y-up, which 3D Tiles runtimes undo.
"""
from __future__ import annotations

import json
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin import _native
from twin.export import morton
from twin.export.glb import GENERATOR, GlbBuilder
from twin.export.point_cloud import add_points
from twin.geometry import QUATERNION_YUP_ZUP
from twin.progress import Progress

log = logging.getLogger(__name__)

TILESET_FILE = "tileset.json"


@dataclass(frozen=True)
class OctreeNode:
    level: int
    key: int
    """The node's Morton prefix: the top 3 * level bits of its points' codes."""
    indices: np.ndarray
    """Its own points, as indices into the Morton-sorted cloud, ascending."""
    spacing_m: float
    """The distance between its points that its sample leaves (0 for a leaf, which keeps all)."""

    @property
    def name(self) -> str:
        """'r' then one octant digit per level, e.g. 'r' (the root), 'r0', 'r07'."""
        return "r" + "".join(str((self.key >> 3 * (self.level - i)) & 7) for i in range(1, self.level + 1))

    @property
    def parent_key(self) -> tuple[int, int]:
        return self.level - 1, self.key >> 3


@dataclass(frozen=True)
class Octree:
    cube: morton.Cube
    order: np.ndarray
    """The permutation that sorts the input points along the z-order curve."""
    codes: np.ndarray
    """The sorted Morton codes."""
    nodes: list[OctreeNode]
    """In breadth-first order: every parent before its children."""
    dropped: int
    """Points beyond the budget of a deepest node (coincident to within cube / 2**21)."""


@dataclass(frozen=True)
class TilesetSummary:
    points: int
    tiles: int
    depth: int
    max_points_in_tile: int
    content_bytes: int
    """The bytes of the whole tileset on disk: tileset.json and every tile GLB."""
    compressed: bool

    @property
    def bytes_per_point(self) -> float:
        return self.content_bytes / max(self.points, 1)


def build_octree(points: np.ndarray, *, max_points_per_tile: int = 50_000, sampling_depth: int = 7,
                 seed: int = 0) -> Octree:
    """The octree of a cloud (n, 3); each node holds at most `max_points_per_tile` points."""
    if max_points_per_tile < 1 or not 1 <= sampling_depth <= 10:
        raise ValueError("max_points_per_tile must be at least 1 and sampling_depth between 1 and 10")
    cube = morton.Cube.around(points)
    order, codes = morton.spatial_order(points, cube)
    levels, keys, offsets, indices, occupied, dropped = _native.octree_nodes(codes, max_points_per_tile,
                                                                             sampling_depth, seed)
    nodes = []
    for i, level in enumerate(levels.tolist()):
        count = int(offsets[i + 1] - offsets[i])
        cell_size = cube.size_m / (1 << min(level + sampling_depth, morton.LEVELS))
        # A sample thinned below one point per occupied cell is sparser, as on a surface.
        spacing = cell_size * math.sqrt(occupied[i] / count) if occupied[i] else 0.0
        nodes.append(OctreeNode(level, int(keys[i]), indices[offsets[i]:offsets[i + 1]], spacing))
    if dropped:
        log.warning("dropped %d points that coincide with others beyond the tile budget", dropped)
    return Octree(cube, order, codes, nodes, int(dropped))


def write_tileset(octree: Octree, points: np.ndarray, colors: np.ndarray | None, out_dir: Path, *,
                  precision_m: float = 0.001, compress: bool = False, progress: Progress | None = None,
                  workers: int = 2) -> TilesetSummary:
    """Writes `tileset.json` and one GLB per octree node into `out_dir` (which must exist)."""
    total = len(octree.nodes)

    def write(node: OctreeNode) -> tuple[int, np.ndarray]:
        """Writes the node's tile; returns its size in bytes and the (min, max) of its points."""
        rows = octree.order[node.indices]
        content_points = points[rows]
        builder = GlbBuilder(compress=compress)
        material = builder.material("points", unlit=True)
        content = add_points(builder, "points", content_points, None if colors is None else colors[rows],
                             precision_m=precision_m, material=material)
        root = builder.node("tile", rotation=QUATERNION_YUP_ZUP, children=[content])
        builder.scene([root])
        data = builder.to_bytes()
        (out_dir / f"{node.name}.glb").write_bytes(data)
        return len(data), np.stack([content_points.min(axis=0), content_points.max(axis=0)])

    sizes, content_boxes = [], []
    if progress:
        progress("tiles", 0, total)
    # Tiles are written by a few threads: meshopt and numpy release the GIL for the heavy work.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, (size, box) in enumerate(pool.map(write, octree.nodes), start=1):
            sizes.append(size)
            content_boxes.append(box)
            if progress and (done == total or done % 16 == 0):
                progress("tiles", done, total)
    boxes = _subtree_boxes(octree, content_boxes, precision_m)
    tileset = json.dumps(_tileset_json(octree, boxes, len(points), precision_m)).encode("utf-8")
    (out_dir / TILESET_FILE).write_bytes(tileset)
    sizes.append(len(tileset))
    return TilesetSummary(points=int(sum(n.indices.size for n in octree.nodes)), tiles=total,
                          depth=max(n.level for n in octree.nodes),
                          max_points_in_tile=max(n.indices.size for n in octree.nodes),
                          content_bytes=int(sum(sizes)), compressed=compress)


def _subtree_boxes(octree: Octree, content_boxes: list[np.ndarray], pad_m: float) -> list[np.ndarray]:
    """Each node's tight (min, max) over its own and all its descendants' points, children merged into
    their parents; padded so that flat content still has a box of non-zero volume."""
    boxes = [box.copy() for box in content_boxes]
    index = {(n.level, n.key): i for i, n in enumerate(octree.nodes)}
    for i in range(len(octree.nodes) - 1, 0, -1):  # breadth-first order reversed: children before parents
        parent = boxes[index[octree.nodes[i].parent_key]]
        parent[0] = np.minimum(parent[0], boxes[i][0])
        parent[1] = np.maximum(parent[1], boxes[i][1])
    return [box + [[-pad_m] * 3, [pad_m] * 3] for box in boxes]


def _tileset_json(octree: Octree, boxes: list[np.ndarray], input_points: int, precision_m: float) -> dict:
    tiles: dict[tuple[int, int], dict] = {}
    root = None
    for node, (lo, hi) in zip(octree.nodes, boxes):
        center, half = (lo + hi) / 2, (hi - lo) / 2
        tile = {"boundingVolume": {"box": [*center, half[0], 0, 0, 0, half[1], 0, 0, 0, half[2]]},
                "geometricError": node.spacing_m, "refine": "ADD", "content": {"uri": f"{node.name}.glb"},
                # The tile's point count, so that a viewer can keep to a point budget before loading it.
                "extras": {"points": int(node.indices.size)}}
        if node.level == 0:
            root = tile
        else:
            parent = tiles[node.parent_key]
            tile["geometricError"] = min(tile["geometricError"], parent["geometricError"])
            parent.setdefault("children", []).append(tile)
        tiles[(node.level, node.key)] = tile
    root_lo, root_hi = boxes[0]
    return {
        "asset": {"version": "1.1", "generator": GENERATOR,
                  "extras": {"points": input_points, "precision_m": precision_m, "up": "z"}},
        # Showing nothing at all misses the whole cloud: its diagonal is the error of the empty view.
        "geometricError": float(np.linalg.norm(root_hi - root_lo)),
        "root": root,
    }
