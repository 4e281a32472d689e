"""The core's foundations against brute force: k-d tree queries, voxel downsampling, normals, covariances."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin import _native

coordinates = st.floats(min_value=-50, max_value=50, allow_nan=False, width=64)


def brute_knn(points: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    return np.sort(((points - query) ** 2).sum(axis=1))[:k]


@settings(max_examples=60, deadline=None)
@given(points=arrays(np.float64, st.tuples(st.integers(1, 300), st.just(3)), elements=coordinates),
       queries=arrays(np.float64, st.tuples(st.integers(1, 20), st.just(3)), elements=coordinates),
       k=st.integers(1, 40), leaf_size=st.integers(1, 20))
def test_knn_matches_brute_force(points, queries, k, leaf_size):
    tree = _native.KdTree(points, leaf_size)
    indices, sq_dists = tree.knn(queries, k)
    for q, idx, d2 in zip(queries, indices, sq_dists):
        expected = brute_knn(points, q, k)
        found = idx >= 0
        assert found.sum() == min(k, len(points))
        np.testing.assert_allclose(d2[found], expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(((points[idx[found]] - q) ** 2).sum(axis=1), d2[found], rtol=1e-12, atol=1e-12)
        assert np.all(np.isinf(d2[~found]))


@settings(max_examples=40, deadline=None)
@given(points=arrays(np.float64, st.tuples(st.integers(1, 300), st.just(3)),
                     elements=st.floats(-5, 5, allow_nan=False)),
       query=arrays(np.float64, 3, elements=st.floats(-5, 5, allow_nan=False)),
       radius=st.floats(0.0, 6.0))
def test_radius_and_bounded_knn_match_brute_force(points, query, radius):
    tree = _native.KdTree(points)
    d2_all = ((points - query) ** 2).sum(axis=1)
    indices, sq_dists = tree.radius(query, radius)
    assert sorted(indices.tolist()) == sorted(np.flatnonzero(d2_all <= radius * radius).tolist())
    assert np.all(np.diff(sq_dists) >= 0)
    # Hybrid search: at most 8 neighbours, all strictly within the radius.
    idx, d2 = tree.knn(query[None], 8, radius)
    inside = np.sort(d2_all[d2_all < radius * radius])[:8]
    np.testing.assert_allclose(d2[0][idx[0] >= 0], inside, rtol=1e-12, atol=1e-12)


def test_large_tree_is_exact_and_parallel_build_is_deterministic(restore_num_threads):
    rng = np.random.default_rng(3)
    points = rng.normal(size=(60_000, 3)) * [10, 10, 1]
    queries = rng.normal(size=(200, 3)) * [10, 10, 1]
    _native.set_max_threads(1)
    idx1, d1 = _native.KdTree(points).knn(queries, 12)
    _native.set_max_threads(0)
    idx2, d2 = _native.KdTree(points).knn(queries, 12)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(idx1, idx2)
    for q, d in zip(queries[:50], d1[:50]):
        np.testing.assert_allclose(d, brute_knn(points, q, 12), rtol=1e-12)


def test_tree_keeps_its_own_copy_of_the_points():
    points = np.random.default_rng(0).uniform(size=(100, 3))
    tree = _native.KdTree(points.copy())
    idx, d2 = tree.knn(points[:1], 1)
    assert idx[0, 0] == 0 and d2[0, 0] == 0.0


def voxel_reference(points: np.ndarray, voxel: float) -> np.ndarray:
    keys = np.floor(points * (1.0 / voxel)).astype(np.int64)  # the core multiplies by the inverse too
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    sums = np.zeros((inverse.max() + 1, 3))
    np.add.at(sums, inverse, points)
    return sums / np.bincount(inverse)[:, None]


@settings(max_examples=40, deadline=None)
@given(points=arrays(np.float64, st.tuples(st.integers(1, 500), st.just(3)),
                     elements=st.floats(-20, 20, allow_nan=False)),
       voxel=st.floats(0.05, 5.0))
def test_voxel_downsample_gives_one_centroid_per_occupied_voxel(points, voxel):
    down = _native.voxel_downsample(points, voxel)
    expected = voxel_reference(points, voxel)
    assert down.shape == expected.shape
    order = np.lexsort(down.T)
    np.testing.assert_allclose(down[order], expected[np.lexsort(expected.T)], rtol=1e-9, atol=1e-9)


def test_voxel_downsample_refuses_bad_input():
    points = np.zeros((4, 3))
    for voxel in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="voxel size"):
            _native.voxel_downsample(points, voxel)
    with pytest.raises(ValueError, match="not finite"):
        _native.voxel_downsample(np.array([[0, 0, 0], [np.nan, 0, 0]], float), 0.1)
    with pytest.raises(ValueError, match="2\\^20 voxels"):
        _native.voxel_downsample(np.array([[1e9, 0, 0]]), 0.01)
    with pytest.raises(ValueError, match="\\(N, 3\\)"):
        _native.voxel_downsample(np.zeros((4, 2)), 0.1)


def test_normals_and_covariances_of_a_tilted_plane():
    rng = np.random.default_rng(1)
    uv = rng.uniform(-1, 1, size=(2000, 2))
    normal = np.array([1.0, 2.0, 2.0]) / 3.0
    a = np.cross(normal, [0, 0, 1.0]); a /= np.linalg.norm(a)
    b = np.cross(normal, a)
    points = uv[:, :1] * a + uv[:, 1:] * b + [5, -3, 2]
    normals = _native.estimate_normals(points, 10)
    np.testing.assert_allclose(np.abs(normals @ normal), 1.0, atol=1e-9)
    covs = _native.estimate_covariances(points, 10)
    assert covs.shape == (2000, 3, 3)
    np.testing.assert_allclose(covs, covs.transpose(0, 2, 1), atol=1e-15)
    # Flat neighbourhoods: no spread along the normal, some within the plane.
    np.testing.assert_allclose(np.einsum("i,nij,j->n", normal, covs, normal), 0.0, atol=1e-12)
    assert np.all(np.trace(covs, axis1=1, axis2=2) > 0)


def test_covariance_matches_numpy_on_its_neighbourhood():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(500, 3))
    covs = _native.estimate_covariances(points, 15)
    idx, _ = _native.KdTree(points).knn(points, 15)
    for i in (0, 17, 499):
        np.testing.assert_allclose(covs[i], np.cov(points[idx[i]].T, bias=True), atol=1e-12)


def test_local_geometry_refuses_too_few_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        _native.estimate_normals(np.zeros((2, 3)), 10)
    with pytest.raises(ValueError, match="at least 3 neighbours"):
        _native.estimate_covariances(np.zeros((20, 3)), 2)
