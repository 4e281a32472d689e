"""Every kind of bad input to twin.registration gets a ValueError with a sentence, never a crash."""
from __future__ import annotations

import numpy as np
import pytest

from twin import registration


@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, size=(500, 3)) * [2, 2, 0.3]


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 3)), "empty"),
    (np.zeros((10, 2)), "shape"),
    (np.zeros((10, 4)), "shape"),
    (np.zeros(30), "shape"),
    (np.zeros((2, 5, 3)), "shape"),
    ([["a", "b", "c"]], "array of numbers"),
])
def test_wrong_shapes_and_empty_clouds(cloud, bad, message):
    with pytest.raises(ValueError, match=message):
        registration.align(bad, cloud)
    with pytest.raises(ValueError, match=message):
        registration.align(cloud, bad)
    with pytest.raises(ValueError, match=message):
        registration.prepare(bad)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_coordinates(cloud, value):
    bad = cloud.copy()
    bad[17, 1] = value
    with pytest.raises(ValueError, match="NaN or infinite.*row 17"):
        registration.align(bad, cloud)
    with pytest.raises(ValueError, match="NaN or infinite"):
        registration.prepare(bad, voxel_size=0.1)


@pytest.mark.parametrize("init, message", [
    (np.diag([2.0, 2.0, 2.0, 1.0]), "not a rigid transform"),           # scale
    (np.diag([1.0, 1.0, -1.0, 1.0]), "not a rigid transform"),          # mirror
    (np.array([[1, 0.3, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]]), "not a rigid transform"),  # shear
    (np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1.0]]), "not a rigid transform"),    # projective
    (np.eye(3), "4x4"),
    (np.full((4, 4), np.nan), "NaN"),
    ("identity", "4x4 matrix of numbers|4x4"),
])
def test_init_must_be_rigid(cloud, init, message):
    with pytest.raises(ValueError, match=message):
        registration.align(cloud, cloud, init=init)


def test_too_few_points_for_normals():
    with pytest.raises(ValueError, match="at least 3"):
        registration.prepare(np.zeros((2, 3)))
    # Many points, but all in one voxel once downsampled.
    with pytest.raises(ValueError, match="1 points after downsampling"):
        registration.prepare(np.random.default_rng(1).uniform(0, 0.01, size=(100, 3)), voxel_size=1.0)


@pytest.mark.parametrize("name", ["max_correspondence_distance", "voxel_size", "kernel_scale"])
@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf])
def test_distances_and_sizes_must_be_positive(cloud, name, value):
    kwargs = {name: value, "robust_kernel": "huber"}
    with pytest.raises(ValueError, match=f"{name} must be a positive number"):
        registration.align(cloud, cloud, **kwargs)


@pytest.mark.parametrize("value", [0.0, -0.5])
def test_prepare_voxel_size_must_be_positive(cloud, value):
    with pytest.raises(ValueError, match="voxel_size must be a positive number"):
        registration.prepare(cloud, voxel_size=value)


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "ndt"}, "unknown method"),
    ({"robust_kernel": "welsch"}, "unknown robust_kernel"),
    ({"max_iterations": 0}, "max_iterations"),
    ({"max_iterations": 2.5}, "max_iterations"),
    ({"rotation_epsilon_deg": -1.0}, "rotation_epsilon_deg"),
    ({"translation_epsilon": np.nan}, "translation_epsilon"),
])
def test_bad_settings(cloud, kwargs, message):
    with pytest.raises(ValueError, match=message):
        registration.align(cloud, cloud, **kwargs)


def test_num_neighbors_must_be_at_least_three(cloud):
    with pytest.raises(ValueError, match="num_neighbors"):
        registration.prepare(cloud, num_neighbors=2)


def test_prepared_source_with_another_voxel_size_is_refused(cloud):
    source = registration.prepare(cloud, voxel_size=0.1)
    with pytest.raises(ValueError, match="prepared with voxel_size=0.1"):
        registration.align(source, cloud, voxel_size=0.2)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float16])
def test_other_dtypes_are_converted(cloud, dtype):
    scaled = (cloud * 100).astype(dtype)
    result = registration.align(scaled, scaled, method="point_to_plane", voxel_size=5.0)
    np.testing.assert_allclose(result.T_target_source, np.eye(4), atol=1e-9)
    assert result.fitness == 1.0


def test_lists_and_non_contiguous_arrays_are_accepted(cloud):
    strided = np.asfortranarray(cloud)
    result = registration.align(cloud.tolist(), strided, method="point_to_point")
    np.testing.assert_allclose(result.T_target_source, np.eye(4), atol=1e-12)
