"""The LOD octree and its 3D Tiles 1.1 tileset: every point once, bounded tiles, nested boxes, errors."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from export_fixtures import assert_valid, node_named, points_of, read_glb
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.export import morton
from twin.export.tiles import build_octree, write_tileset


def tile_room(points, colors, out, **options):
    """What `twin export` does for the tiles (`export_scan`): the octree, then its tileset."""
    octree = build_octree(points, max_points_per_tile=options.pop("max_points_per_tile", 50_000))
    return write_tileset(octree, points, colors, out, **options)


def room_cloud(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points on the floor and two walls of a 10 x 8 x 3 m room, with smoothly varying colours."""
    rng = np.random.default_rng(seed)
    points = rng.random((n, 3)) * [10, 8, 3]
    surface = rng.integers(0, 3, n)
    points[surface == 0, 2] = 0
    points[surface == 1, 1] = 0
    points[surface == 2, 0] = 10
    colors = (np.sin(points * [1.3, 0.7, 2.1]) * 120 + 128).astype(np.uint8)
    return points, colors


def test_morton_order_keeps_every_node_contiguous():
    points, _ = room_cloud(5000)
    order, codes = morton.spatial_order(points)
    assert np.all(codes[1:] >= codes[:-1])
    for level in (1, 2, 3):
        keys = codes >> np.uint64(3 * (morton.LEVELS - level))
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        assert len(starts) == len(np.unique(keys)), "each node's points form one run"
    # Neighbours in the order are near in space: ten times nearer than in the (random) input order.
    step = lambda p: np.median(np.linalg.norm(np.diff(p, axis=0), axis=1))
    assert step(points[order]) < step(points) / 10


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4000), budget=st.integers(1, 600), depth=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_octree_holds_every_point_once_within_budget(n, budget, depth, seed):
    points, _ = room_cloud(n, seed)
    octree = build_octree(points, max_points_per_tile=budget, sampling_depth=depth, seed=seed)
    everything = np.concatenate([node.indices for node in octree.nodes])
    assert octree.dropped == 0
    assert np.array_equal(np.sort(everything), np.arange(n))
    assert max(node.indices.size for node in octree.nodes) <= budget
    keys = {(node.level, node.key) for node in octree.nodes}
    for node in octree.nodes:
        assert node.indices.size > 0
        assert node.level == 0 or node.parent_key in keys
        node_keys = octree.codes[node.indices] >> np.uint64(3 * (morton.LEVELS - node.level))
        assert np.all(node_keys == node.key), "a node holds only points inside its cube"
        assert np.all(np.diff(node.indices) > 0), "points stay in spatial order"
        has_children = any(other.parent_key == (node.level, node.key) for other in octree.nodes)
        assert (node.spacing_m > 0) == has_children, "a leaf keeps all its points; an inner node a sample"


def test_coincident_points_beyond_the_budget_are_dropped_with_a_warning(caplog):
    points = np.zeros((5000, 3))
    with caplog.at_level(logging.WARNING, logger="twin.export.tiles"):
        octree = build_octree(points, max_points_per_tile=100)
    # One point per level down to the deepest, which keeps its budget.
    assert octree.dropped == 5000 - morton.LEVELS - 100
    assert max(node.level for node in octree.nodes) == morton.LEVELS
    assert "dropped" in caplog.text


def test_sample_is_spatially_even():
    points, _ = room_cloud(200_000, seed=1)
    octree = build_octree(points, max_points_per_tile=5000)
    root = octree.nodes[0]
    assert root.level == 0 and root.indices.size == 5000
    sample = points[octree.order[root.indices]]
    # Each of the three surfaces gets its share of the root's sample (areas 80, 30 and 24 m²).
    on_floor = np.mean(sample[:, 2] == 0)
    assert 0.45 < on_floor < 0.75
    assert root.spacing_m > 0


@pytest.fixture(scope="module", params=[True, False], ids=["meshopt", "plain"])
def tileset(request, tmp_path_factory):
    points, colors = room_cloud(40_000, seed=2)
    out = tmp_path_factory.mktemp("tiles")
    summary = tile_room(points, colors, out, max_points_per_tile=3000, precision_m=0.001, compress=request.param)
    return points, colors, out, summary


def walk(tile, parent=None):
    yield tile, parent
    for child in tile.get("children", []):
        yield from walk(child, tile)


def box_bounds(tile):
    box = np.asarray(tile["boundingVolume"]["box"])
    half = np.abs(box[3:].reshape(3, 3)).sum(axis=0)
    return box[:3] - half, box[:3] + half


def test_tileset_is_3d_tiles_1_1_with_additive_refinement(tileset):
    points, _, out, summary = tileset
    data = json.loads((out / "tileset.json").read_text())
    assert data["asset"]["version"] == "1.1"
    assert data["geometricError"] >= data["root"]["geometricError"] > 0
    tiles = list(walk(data["root"]))
    assert len(tiles) == summary.tiles == len(list(out.glob("*.glb")))
    assert summary.content_bytes == sum(f.stat().st_size for f in out.iterdir())
    for tile, parent in tiles:
        assert tile["refine"] == "ADD"
        assert (out / tile["content"]["uri"]).is_file()
        if parent is not None:
            assert tile["geometricError"] <= parent["geometricError"]
            lo, hi = box_bounds(tile)
            plo, phi = box_bounds(parent)
            assert np.all(lo >= plo - 1e-9) and np.all(hi <= phi + 1e-9), "children lie inside their parent"
        if "children" not in tile:
            assert tile["geometricError"] == 0


def test_tiles_hold_the_cloud_within_precision(tileset):
    points, colors, out, summary = tileset
    octree = build_octree(points, max_points_per_tile=3000)  # the same (seeded) octree the fixture wrote
    data = json.loads((out / "tileset.json").read_text())
    tiles_by_uri = {tile["content"]["uri"]: tile for tile, _ in walk(data["root"])}
    assert set(tiles_by_uri) == {f"{n.name}.glb" for n in octree.nodes}
    for node in octree.nodes:
        gltf, blob = read_glb(out / f"{node.name}.glb")
        np.testing.assert_allclose(node_named(gltf, "tile")["rotation"], [-np.sqrt(0.5), 0, 0, np.sqrt(0.5)])
        content = node_named(gltf, "points")
        positions, tile_colors = points_of(gltf, blob, content)
        expected = points[octree.order[node.indices]]
        assert tiles_by_uri[f"{node.name}.glb"]["extras"]["points"] == len(positions) == len(expected)
        step = content["scale"][0]
        extent = np.ptp(expected, axis=0).max()
        assert step == pytest.approx(max(0.001, extent / 65535)), "1 mm steps, coarser only where 16 bits need it"
        assert np.abs(positions - expected).max() <= step / 2 + 1e-9
        assert np.array_equal(tile_colors, colors[octree.order[node.indices]])
    assert summary.points == len(points)


def test_every_tile_validates(tileset):
    _, _, out, _ = tileset
    assert_valid(sorted(out.glob("*.glb")))


def test_meshopt_tiles_are_smaller(tmp_path):
    points, colors = room_cloud(30_000, seed=4)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = tile_room(points, colors, tmp_path / "a", compress=False)
    packed = tile_room(points, colors, tmp_path / "b", compress=True)
    assert plain.points == packed.points == 30_000
    assert packed.bytes_per_point < plain.bytes_per_point
    # Quantised, uncompressed: 8 bytes of position and 4 of colour per point, plus headers.
    assert 12 <= plain.bytes_per_point < 13


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, (1 << morton.LEVELS) - 1)] * 3), min_size=1, max_size=50))
def test_morton_code_interleaves_bits_x_lowest(cells):
    cells = np.asarray(cells, dtype=np.int64)
    cube = morton.Cube(np.zeros(3), float(1 << morton.LEVELS))
    order, sorted_codes = morton.spatial_order(cells.astype(np.float64) + 0.5, cube)
    codes = np.empty_like(sorted_codes)
    codes[order] = sorted_codes
    expected = [sum(((int(c[axis]) >> bit) & 1) << (3 * bit + axis) for bit in range(morton.LEVELS) for axis in range(3))
                for c in cells]
    assert codes.tolist() == expected
    assert np.array_equal(order, np.argsort(codes, kind="stable")), "a stable sort: equal codes keep their order"


def test_morton_order_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        morton.spatial_order(np.zeros((4, 2)), morton.Cube(np.zeros(3), 1.0))
    with pytest.raises(ValueError, match="size"):
        morton.spatial_order(np.zeros((4, 3)), morton.Cube(np.zeros(3), 0.0))
