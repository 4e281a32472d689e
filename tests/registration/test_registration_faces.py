"""The Python faces of the core's point-cloud helpers: `registration.voxel_downsample` against
Open3D's, `registration.KdTree` against brute force, their refusals of bad input, and their
release of the GIL while they work."""
from __future__ import annotations

import math

import numpy as np
import open3d as o3d
import pytest
from rgbd_scene import intrinsics, render, walk
from test_registration import ticks_inside

from twin import registration
from twin.camera import Camera
from twin.reconstruct.rgbd.depth_points import back_project


def open3d_downsample(points: np.ndarray, voxel_size_m: float) -> np.ndarray:
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    return np.asarray(cloud.voxel_down_sample(voxel_size_m).points)


def sorted_rows(points: np.ndarray) -> np.ndarray:
    return points[np.lexsort(points.T)]


# --- voxel downsampling against Open3D ------------------------------------------------------------
#
# Both give one centroid per occupied voxel; they differ in where the grid starts. Ours is anchored
# at the origin (voxel = floor(p / size)), Open3D's at the cloud's minimum corner less half a voxel.
# Where the two grids coincide the outputs are the same points; elsewhere the counts differ only
# through the voxels along the cloud's faces (measured below).

@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("voxel_size_m", [0.125, 0.05])
def test_voxel_downsample_gives_open3d_centroids_where_the_grids_coincide(seed, voxel_size_m):
    """Open3D's grid starts at min_bound - size / 2: with the cloud's minimum corner at
    (k + 1/2) voxels on every axis it coincides with ours. 20,001 points: more than one of the
    core's parallel blocks (16,384 points). Measured: same count, centroids within 1e-15 m."""
    rng = np.random.default_rng(seed)
    corner = (7 + 0.5) * voxel_size_m
    points = np.vstack([[corner] * 3, corner + rng.uniform(0, 2.0, size=(20_000, 3)) * [1, 1, 0.5]])
    ours, theirs = registration.voxel_downsample(points, voxel_size_m), open3d_downsample(points, voxel_size_m)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(sorted_rows(ours), sorted_rows(theirs), rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", [3, 4])
def test_voxel_downsample_gives_open3d_centroids_once_its_grid_is_moved_onto_ours(seed):
    """Any cloud: shifting the points by Open3D's anchor (min_bound - size / 2) puts its grid on
    ours, so ours of the shifted points, shifted back, is Open3D's of the points."""
    rng = np.random.default_rng(seed)
    voxel_size_m = 0.0625  # a power of two: the shift and the division are exact
    points = rng.normal(size=(5000, 3)) * [1.5, 1.0, 0.4] + rng.uniform(-20, 20, size=3)
    anchor = points.min(axis=0) - voxel_size_m / 2
    ours = registration.voxel_downsample(points - anchor, voxel_size_m) + anchor
    theirs = open3d_downsample(points, voxel_size_m)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(sorted_rows(ours), sorted_rows(theirs), rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def depth_frames_points() -> list[np.ndarray]:
    """Camera-frame points of rendered RGB-D frames on the tracker's stride: what odometry.py
    downsamples."""
    camera = Camera.from_K(intrinsics(160, 120), 160, 120)
    return [back_project(frame.depth_m, camera, 2)[0] for frame in render(walk(30)[::6], 160, 120)]


@pytest.mark.parametrize("voxel_size_m", [0.02, 0.03])
def test_voxel_downsample_counts_match_open3d_on_depth_frames_but_for_the_faces(depth_frames_points,
                                                                                 voxel_size_m):
    """On depth frames (surfaces many voxels across) the grids' anchors change the count by under
    1% (measured on 10 frames at 2 and 3 cm: -0.9% to +0.8%). The difference is one layer of
    voxels per face of the cloud, so on a cloud only a few voxels thick it grows: on a random
    slab 0.6 m thick at 0.3 m voxels it reached 31%."""
    for points in depth_frames_points:
        ours, theirs = len(registration.voxel_downsample(points, voxel_size_m)), len(
            open3d_downsample(points, voxel_size_m))
        assert abs(ours - theirs) <= 0.02 * theirs, (ours, theirs)


def test_voxel_downsample_is_the_same_whatever_the_threads(restore_num_threads):
    points = np.random.default_rng(5).uniform(-3, 3, size=(100_000, 3))
    registration.set_num_threads(1)
    one = registration.voxel_downsample(points, 0.1)
    registration.set_num_threads(2)
    np.testing.assert_array_equal(one, registration.voxel_downsample(points, 0.1))  # same order too


# --- the k-d tree against brute force ---------------------------------------------------------------

@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    rng = np.random.default_rng(6)
    return rng.normal(size=(3000, 3)) * [2.0, 1.0, 0.3]


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(200, 3)) * [2.5, 1.2, 0.5]


def brute_distances(points: np.ndarray, queries: np.ndarray) -> np.ndarray:
    return np.sqrt(((queries[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))


@pytest.mark.parametrize("leaf_size", [1, 16, 64])
def test_knn_matches_brute_force(cloud, queries, leaf_size):
    tree = registration.KdTree(cloud, leaf_size=leaf_size)
    found = tree.knn(queries, 10)
    distances = brute_distances(cloud, queries)
    expected = np.argsort(distances, axis=1)[:, :10]
    assert found.indices.shape == found.distances.shape == (200, 10)
    np.testing.assert_array_equal(found.indices, expected)  # continuous data: no ties
    np.testing.assert_allclose(found.distances, np.take_along_axis(distances, expected, axis=1), rtol=1e-12)


def test_nearest_and_bounded_knn_match_brute_force(cloud, queries):
    tree = registration.KdTree(cloud)
    distances = brute_distances(cloud, queries)
    nearest = tree.nearest(queries)
    np.testing.assert_array_equal(nearest.indices, distances.argmin(axis=1))
    np.testing.assert_allclose(nearest.distances, distances.min(axis=1), rtol=1e-12)
    bound = float(np.median(distances.min(axis=1)))  # about half the queries have a point that close
    near = tree.nearest(queries, max_distance_m=bound)
    within = distances.min(axis=1) < bound
    assert 0 < within.sum() < len(queries)
    np.testing.assert_array_equal(near.indices >= 0, within)
    np.testing.assert_array_equal(near.indices[within], distances.argmin(axis=1)[within])
    assert np.all(np.isinf(near.distances[~within]))
    few = tree.knn(queries, 5, max_distance_m=bound)
    np.testing.assert_array_equal((few.indices >= 0).sum(axis=1), np.minimum((distances < bound).sum(axis=1), 5))


@pytest.mark.parametrize("radius_m", [0.0, 0.1, 0.4, 10.0])
def test_radius_matches_brute_force(cloud, queries, radius_m):
    tree = registration.KdTree(cloud)
    for query in queries[:20]:
        found = tree.radius(query, radius_m)
        distances = np.sqrt(((cloud - query) ** 2).sum(axis=1))
        assert sorted(found.indices.tolist()) == np.flatnonzero(distances <= radius_m).tolist()
        np.testing.assert_allclose(found.distances, np.sort(distances[distances <= radius_m]), rtol=1e-12)
    exact = tree.radius(cloud[42], 0.0)  # the boundary counts
    assert exact.indices.tolist() == [42]


def test_tree_keeps_its_own_copy_and_takes_other_dtypes(cloud):
    points = cloud.copy()
    tree = registration.KdTree(points)
    points[:] = 1e6
    assert tree.nearest(cloud[:3]).indices.tolist() == [0, 1, 2] and len(tree) == len(cloud)
    grid = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0]], dtype=np.int32)
    assert registration.KdTree(grid).nearest(np.asfortranarray([[0.9, 0.1, 0.0]])).indices.tolist() == [1]
    assert registration.KdTree(grid).knn(np.zeros((0, 3)), 2).indices.shape == (0, 2)  # no queries, no answers


# --- bad input ------------------------------------------------------------------------------------

BAD_POINTS = [
    (np.zeros((0, 3)), "empty"),
    (np.zeros((10, 2)), r"\(N, 3\)"),
    (np.zeros(30), r"\(N, 3\)"),
    (np.zeros((2, 5, 3)), r"\(N, 3\)"),
    ([["a", "b", "c"]], "array of numbers"),
    (np.array([[0.0, 0.0, 0.0], [1.0, np.nan, 0.0]]), "NaN or infinite.*row 1"),
    (np.array([[0.0, 0.0, np.inf]]), "NaN or infinite"),
]


@pytest.mark.parametrize("bad, message", BAD_POINTS)
def test_bad_points_are_refused_with_a_sentence(bad, message):
    with pytest.raises(ValueError, match=message):
        registration.voxel_downsample(bad, 0.1)
    with pytest.raises(ValueError, match=message):
        registration.KdTree(bad)


@pytest.mark.parametrize("bad, message", [item for item in BAD_POINTS if item[1] != "empty"])
def test_bad_queries_are_refused_with_a_sentence(cloud, bad, message):
    tree = registration.KdTree(cloud)
    with pytest.raises(ValueError, match=message):
        tree.knn(bad, 3)
    with pytest.raises(ValueError, match=message):
        tree.nearest(bad)


@pytest.mark.parametrize("value", [0.0, -0.1, math.nan, math.inf, "2 cm", None, True])
def test_voxel_size_must_be_a_positive_number_of_metres(cloud, value):
    with pytest.raises(ValueError, match="voxel_size_m must be"):
        registration.voxel_downsample(cloud, value)


def test_voxel_downsample_refuses_a_cloud_too_wide_for_its_grid():
    with pytest.raises(ValueError, match="2\\^20 voxels"):
        registration.voxel_downsample(np.array([[1e9, 0.0, 0.0]]), 0.01)


def test_bad_query_settings_are_refused(cloud):
    tree = registration.KdTree(cloud)
    for k in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            tree.knn(cloud[:2], k)
    for bound in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="max_distance_m must be"):
            tree.nearest(cloud[:2], bound)
    for radius in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="radius_m must be"):
            tree.radius(cloud[0], radius)
    for query in (cloud[:2], [1.0, 2.0], [[np.nan, 0.0, 0.0]]):
        with pytest.raises(ValueError, match="query"):
            tree.radius(query, 0.1)
    for leaf_size in (0, 65, 4.0):
        with pytest.raises(ValueError, match="leaf_size"):
            registration.KdTree(cloud, leaf_size=leaf_size)


# --- the GIL --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_cloud() -> np.ndarray:
    return np.random.default_rng(8).uniform(-10, 10, size=(400_000, 3))


@pytest.mark.parametrize("work", ["voxel_downsample", "KdTree", "knn"])
def test_the_faces_release_the_gil_while_they_work(big_cloud, work, restore_num_threads):
    """While a worker thread downsamples, builds a tree or queries one, the main thread keeps
    running Python (each call takes 0.1 to 0.3 s on one thread; see ticks_inside for the check,
    which fails on a call that holds the GIL)."""
    registration.set_num_threads(1)  # leaves a core to the ticking thread on a small machine
    tree = registration.KdTree(big_cloud) if work == "knn" else None
    call = {"voxel_downsample": lambda: registration.voxel_downsample(big_cloud, 0.05),
            "KdTree": lambda: registration.KdTree(big_cloud),
            "knn": lambda: tree.knn(big_cloud[:100_000], 8)}[work]
    assert ticks_inside(call) > 0, f"no tick of the main thread fell inside {work}: it held the GIL"
