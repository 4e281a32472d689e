"""Global registration: FPFH, feature matching, RANSAC, similarity and align_global.

The data tests move real 3DMatch kitchen fragments by known random motions (any rotation,
metres of translation), crop them to 30-70 % overlap and add noise, so the truth is exact.
"""
from __future__ import annotations

import numpy as np
import open3d as o3d
import pytest
from global_registration_trials import make_trial, pose_errors, random_rigid

from twin import _native, registration
from twin.registration.global_registration import align_global_detailed, describe, scale_of

VOXEL = 0.05
MAX_ROTATION_ERROR_DEG = 5.0
MAX_TRANSLATION_ERROR_M = 0.10


def _load(shared_data, name: str) -> np.ndarray:
    cloud = o3d.io.read_point_cloud(str(shared_data / "registration" / "3dmatch_kitchen" / f"{name}.ply"))
    return np.asarray(cloud.voxel_down_sample(0.01).points)  # 1 cm keeps the geometry, quarters the work


@pytest.fixture(scope="module")
def kitchen(shared_data) -> dict[str, np.ndarray]:
    return {name: _load(shared_data, name) for name in ("cloud_bin_0", "cloud_bin_4")}


# --- building blocks ---------------------------------------------------------------------------

def test_similarity_recovers_rotation_translation_and_scale():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(50, 3))
    T = random_rigid(rng)
    T[:3, :3] *= 2.5
    target = source @ T[:3, :3].T + T[:3, 3]
    np.testing.assert_allclose(_native.estimate_similarity(source, target, True), T, atol=1e-9)
    rigid = _native.estimate_similarity(source, target / 2.5, False)
    assert abs(np.linalg.det(rigid[:3, :3]) - 1.0) < 1e-9


def test_similarity_refuses_collinear_points():
    line = np.outer(np.arange(5.0), [1.0, 2.0, 3.0])
    assert _native.estimate_similarity(line, line, False) is None


def test_fpfh_matches_open3d_on_the_same_points_and_normals(kitchen):
    cloud = _native.PreparedCloud(kitchen["cloud_bin_0"], VOXEL, 20)
    ours = _native.fpfh(cloud, 5 * VOXEL, 100)
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(cloud.points))
    pcd.normals = o3d.utility.Vector3dVector(cloud.normals)
    theirs = np.asarray(o3d.pipelines.registration.compute_fpfh_feature(
        pcd, o3d.geometry.KDTreeSearchParamHybrid(radius=5 * VOXEL, max_nn=100)).data).T
    assert ours.shape == theirs.shape == (len(cloud), 33)
    # Equal up to pairs at the edge of a bin or of the radius (< 1 % of the mass).
    assert np.linalg.norm(ours - theirs) / np.linalg.norm(theirs) < 0.01
    np.testing.assert_allclose(ours.reshape(-1, 3, 11).sum(axis=2), 200.0, rtol=1e-9)  # 2 x 100 per histogram


def test_fpfh_is_invariant_to_rigid_motion():
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 1, size=(3000, 3)) * [1.0, 1.0, 0.2]
    cloud = _native.PreparedCloud(points, 0.0, 10)
    T = random_rigid(rng)
    moved = _native.PreparedCloud(points @ T[:3, :3].T + T[:3, 3], 0.0, 10)
    # Normals are only defined up to sign: give both clouds the same ones, moved.
    features = _native.fpfh(cloud, 0.3, 100)
    moved_features = _native.fpfh(moved, 0.3, 100)
    same_sign = np.sign(((cloud.normals @ T[:3, :3].T) * moved.normals).sum(axis=1)) > 0
    np.testing.assert_allclose(features[same_sign].sum(axis=1), moved_features[same_sign].sum(axis=1), rtol=1e-9)


def test_mutual_matching_finds_a_permutation_and_the_ratio_test_thins_it():
    rng = np.random.default_rng(2)
    features = rng.uniform(0, 100, size=(700, 33))
    order = rng.permutation(700)
    pairs = _native.match_features(features, features[order], True, 0.0)
    assert len(pairs) == 700
    np.testing.assert_array_equal(order[pairs[:, 1]], pairs[:, 0])
    noisy = features[order] + rng.normal(scale=40.0, size=features.shape)
    strict = _native.match_features(features, noisy, True, 0.8)
    assert 0 < len(strict) < len(_native.match_features(features, noisy, True, 0.0))


def test_ransac_finds_the_transform_among_90_percent_outliers_whatever_the_threads(restore_num_threads):
    rng = np.random.default_rng(3)
    source = rng.uniform(-2, 2, size=(1000, 3))
    T = random_rigid(rng)
    target = source @ T[:3, :3].T + T[:3, 3] + rng.normal(scale=0.005, size=source.shape)
    outliers = rng.random(1000) < 0.9
    target[outliers] = rng.uniform(-5, 5, size=(int(outliers.sum()), 3))
    results = []
    for threads in (1, 2):
        registration.set_num_threads(threads)
        results.append(_native.ransac(source, target, 0.05, 0.9, False, 100000, 0.999, 7))
    assert results[0].found
    np.testing.assert_allclose(results[0].T_target_source, T, atol=0.02)
    assert results[0].inliers[~outliers].all()  # every true pair, and few chance ones
    assert results[0].num_inliers < (~outliers).sum() + 0.01 * outliers.sum()
    np.testing.assert_array_equal(results[0].T_target_source, results[1].T_target_source)
    assert results[0].hypotheses == results[1].hypotheses < 100000  # stopped early


# --- align_global on exact-truth kitchen trials ------------------------------------------------

@pytest.mark.data
@pytest.mark.parametrize("fragment,seed", [("cloud_bin_0", s) for s in range(4)] + [("cloud_bin_4", s) for s in range(3)])
def test_random_motion_partial_overlap_and_noise(kitchen, fragment, seed):
    trial = make_trial(kitchen[fragment], np.random.default_rng(seed))
    result = registration.align_global(trial.source, trial.target, voxel_size=VOXEL, seed=seed)
    rotation_error, translation_error = pose_errors(result.T_target_source, trial.T_target_source)
    assert rotation_error < MAX_ROTATION_ERROR_DEG and translation_error < MAX_TRANSLATION_ERROR_M, (
        f"overlap {trial.overlap:.2f}: {rotation_error:.2f} deg, {translation_error:.3f} m")
    assert result.converged
    assert result.fitness > 0.2 and result.inlier_rmse < 1.5 * VOXEL
    assert result.information.shape == (6, 6)


@pytest.mark.data
def test_same_seed_same_transform_on_repeats_and_thread_counts(kitchen, restore_num_threads):
    trial = make_trial(kitchen["cloud_bin_0"], np.random.default_rng(11))
    transforms = []
    for threads in (2, 1, 2):
        registration.set_num_threads(threads)
        transforms.append(registration.align_global(trial.source, trial.target, VOXEL, seed=5).T_target_source)
    np.testing.assert_array_equal(transforms[0], transforms[1])
    np.testing.assert_array_equal(transforms[0], transforms[2])


@pytest.mark.data
def test_scale_is_recovered_from_a_scaled_copy(kitchen):
    rng = np.random.default_rng(4)
    trial = make_trial(kitchen["cloud_bin_0"], rng, overlap_range=(0.8, 0.9))
    scale = 0.37  # e.g. a photo reconstruction in arbitrary units
    scaled_source = trial.source * scale
    truth = trial.T_target_source @ np.diag([1 / scale] * 3 + [1.0])
    detail = align_global_detailed(scaled_source, trial.target, VOXEL, with_scale=True, seed=0)
    T = detail.result.T_target_source
    assert abs(scale_of(T) - 1 / scale) < 0.01 / scale
    rotation_error, _ = pose_errors(_rigid_part(T), _rigid_part(truth))
    assert rotation_error < MAX_ROTATION_ERROR_DEG
    moved = scaled_source @ T[:3, :3].T + T[:3, 3]
    expected = scaled_source @ truth[:3, :3].T + truth[:3, 3]
    assert np.sqrt(((moved - expected) ** 2).sum(axis=1).mean()) < MAX_TRANSLATION_ERROR_M
    assert detail.result.converged


def _rigid_part(T: np.ndarray) -> np.ndarray:
    rigid = np.array(T, dtype=float)
    rigid[:3, :3] /= scale_of(T)
    return rigid


@pytest.mark.data
def test_described_clouds_give_the_same_result_as_points(kitchen):
    trial = make_trial(kitchen["cloud_bin_0"], np.random.default_rng(12))
    from_points = registration.align_global(trial.source, trial.target, VOXEL, seed=3)
    source, target = describe(trial.source, VOXEL), describe(trial.target, VOXEL)
    from_features = registration.align_global(source, target, VOXEL, seed=3)
    np.testing.assert_array_equal(from_points.T_target_source, from_features.T_target_source)
    with pytest.raises(ValueError, match="same voxel_size"):
        registration.align_global(source, target, 2 * VOXEL)
    with pytest.raises(ValueError, match="with_scale"):
        registration.align_global(source, trial.target, VOXEL, with_scale=True)


# --- honest failure ----------------------------------------------------------------------------

@pytest.mark.data
def test_clouds_without_overlap_are_not_trusted(kitchen):
    points = kitchen["cloud_bin_0"]
    along = points[:, 0]
    left, right = points[along < np.quantile(along, 0.4)], points[along > np.quantile(along, 0.6)]
    T = random_rigid(np.random.default_rng(5))
    result = registration.align_global(left @ T[:3, :3].T + T[:3, 3], right, VOXEL, seed=0)
    assert not result.converged


def test_a_plane_against_a_plane_is_not_trusted():
    rng = np.random.default_rng(6)
    plane = np.c_[rng.uniform(0, 2, (20000, 2)), rng.normal(scale=0.003, size=20000)]
    other = np.c_[rng.uniform(0.5, 2.5, (20000, 2)), rng.normal(scale=0.003, size=20000)]
    T = random_rigid(rng)
    detail = align_global_detailed(plane @ T[:3, :3].T + T[:3, 3], other, VOXEL, seed=0)
    assert not detail.result.converged
    assert detail.constraint < 0.005  # a plane leaves three degrees of freedom free


@pytest.mark.data
def test_a_model_that_is_not_in_the_scan_is_not_trusted(kitchen):
    rng = np.random.default_rng(7)
    size = np.array([0.6, 0.4, 0.9])  # a cabinet-sized box, sampled on its surface
    box = rng.uniform(0, 1, size=(20000, 3)) * size
    axis = rng.integers(0, 3, size=len(box))
    box[np.arange(len(box)), axis] = rng.integers(0, 2, size=len(box)) * size[axis]
    T = random_rigid(rng)
    model = box @ T[:3, :3].T + T[:3, 3]
    assert not registration.align_global(model, kitchen["cloud_bin_0"], VOXEL, seed=0).converged


@pytest.mark.data
def test_a_model_that_is_in_the_scan_is_found(kitchen):
    scan = kitchen["cloud_bin_0"]
    centre = scan[len(scan) // 3]
    model = scan[np.linalg.norm(scan - centre, axis=1) < 0.6]
    T = random_rigid(np.random.default_rng(8))
    result = registration.align_global(model @ T[:3, :3].T + T[:3, 3], scan, VOXEL, seed=0)
    rotation_error, translation_error = pose_errors(result.T_target_source, np.linalg.inv(T))
    assert result.converged and rotation_error < MAX_ROTATION_ERROR_DEG and translation_error < MAX_TRANSLATION_ERROR_M


# --- bad input ---------------------------------------------------------------------------------

GOOD = np.random.default_rng(9).uniform(size=(500, 3))


@pytest.mark.parametrize("source,target,kwargs,message", [
    (np.zeros((0, 3)), GOOD, {}, "empty"),
    (GOOD, np.zeros((0, 3)), {}, "empty"),
    (np.full((10, 3), np.nan), GOOD, {}, "NaN"),
    (np.zeros((10, 2)), GOOD, {}, "shape"),
    ("points", GOOD, {}, "array"),
    (GOOD, GOOD, {"voxel_size": 0}, "voxel_size"),
    (GOOD, GOOD, {"voxel_size": float("nan")}, "voxel_size"),
    (GOOD, GOOD, {"seed": -1}, "seed"),
    (GOOD, GOOD, {"seed": 1.5}, "seed"),
    (GOOD, GOOD, {"max_hypotheses": 0}, "max_hypotheses"),
    (GOOD, GOOD, {"confidence": 1.0}, "confidence"),
    (GOOD, GOOD, {"ratio_test": 2.0}, "ratio_test"),
    (GOOD, GOOD, {"voxel_size": 10.0}, "after downsampling"),
    (np.zeros((100, 3)), GOOD, {"with_scale": True}, "extent"),
])
def test_bad_input_is_a_value_error_with_a_sentence(source, target, kwargs, message):
    with pytest.raises(ValueError, match=message):
        registration.align_global(source, target, **kwargs)
