"""twin.registration on exact-truth synthetic motions of real scans, on the real KITTI pair,
on property-based random scenes, and with threads."""
from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from twin import registration

METHODS = registration.METHODS


def random_rigid(rng: np.random.Generator, degrees: float, metres: float) -> np.ndarray:
    """A rigid transform turning by exactly `degrees` about a random axis and moving `metres`."""
    axis = rng.normal(size=3)
    direction = rng.normal(size=3)
    T = np.eye(4)
    T[:3, :3] = Rotation.from_rotvec(np.radians(degrees) * axis / np.linalg.norm(axis)).as_matrix()
    T[:3, 3] = metres * direction / np.linalg.norm(direction)
    return T


def transform(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ T[:3, :3].T + T[:3, 3]


def pose_error(T_estimate: np.ndarray, T_truth: np.ndarray) -> tuple[float, float]:
    """(rotation error in degrees, translation error in metres)."""
    D = np.linalg.inv(T_truth) @ T_estimate
    return float(np.degrees(Rotation.from_matrix(D[:3, :3]).magnitude())), float(np.linalg.norm(D[:3, 3]))


def box_scene(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points on the floor and two walls of a room plus a box on the floor: every motion is observable."""
    u = rng.uniform(0, 1, size=(n, 2))
    part = rng.integers(0, 4, size=n)
    floor = np.c_[4 * u[:, 0], 3 * u[:, 1], np.zeros(n)]
    wall_x = np.c_[np.zeros(n), 3 * u[:, 0], 2.5 * u[:, 1]]
    wall_y = np.c_[4 * u[:, 0], np.zeros(n), 2.5 * u[:, 1]]
    box = np.c_[1.5 + 0.8 * u[:, 0], 1.0 + 0.6 * u[:, 1], np.full(n, 0.7)]
    return np.select([part[:, None] == i for i in range(4)], [floor, wall_x, wall_y, box])


@pytest.fixture(scope="module")
def kitchen(shared_data) -> np.ndarray:
    import open3d as o3d

    cloud = o3d.io.read_point_cloud(str(shared_data / "registration/3dmatch_kitchen/cloud_bin_0.ply"))
    return np.asarray(cloud.points)


@pytest.fixture(scope="module")
def kitti(shared_data):
    import open3d as o3d

    folder = shared_data / "registration/kitti_pair"
    read = lambda name: np.asarray(o3d.io.read_point_cloud(str(folder / name)).points)  # noqa: E731
    return read("source.ply"), read("target.ply"), np.loadtxt(folder / "T_target_source.txt")


@pytest.mark.data
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [0, 1])
def test_exact_truth_on_a_real_kitchen_scan(kitchen, method, seed):
    """Crop, move and noise a real scan; the motion is the exact truth to recover."""
    rng = np.random.default_rng(seed)
    T_truth = random_rigid(rng, degrees=6.0, metres=0.08)
    axis = rng.integers(0, 3)
    cropped = kitchen[kitchen[:, axis] < np.quantile(kitchen[:, axis], 0.75)]
    source = transform(np.linalg.inv(T_truth), cropped) + rng.normal(0, 0.002, cropped.shape)
    target = registration.prepare(kitchen, voxel_size=0.03)
    result = registration.align(source, target, method=method, max_correspondence_distance=0.2,
                                max_iterations=100, rotation_epsilon_deg=0.01, translation_epsilon=1e-4)
    rotation_deg, translation_m = pose_error(result.T_target_source, T_truth)
    assert result.converged
    assert rotation_deg < 0.2 and translation_m < 0.005, (rotation_deg, translation_m)
    assert result.fitness > 0.9
    assert result.inlier_rmse < 0.02


@pytest.mark.data
@pytest.mark.parametrize("method", ["point_to_plane", "gicp"])
def test_kitti_pair_matches_the_reference(kitti, method):
    source, target, T_reference = kitti
    result = registration.align(source, registration.prepare(target, voxel_size=0.25), method=method,
                                max_correspondence_distance=1.0, voxel_size=0.25)
    rotation_deg, translation_m = pose_error(result.T_target_source, T_reference)
    assert result.converged
    assert rotation_deg < 0.5 and translation_m < 0.05, (rotation_deg, translation_m)


@pytest.mark.data
def test_kitti_pair_converges_from_a_yaw_offset(kitti):
    source, target, T_reference = kitti
    init = T_reference.copy()
    init[:3, :3] = Rotation.from_euler("z", 8, degrees=True).as_matrix() @ init[:3, :3]
    result = registration.align(source, target, method="gicp", voxel_size=0.25, init=init)
    rotation_deg, translation_m = pose_error(result.T_target_source, T_reference)
    assert rotation_deg < 0.5 and translation_m < 0.05, (rotation_deg, translation_m)


# --- both directions: aligning B to A gives the inverse of A to B (small_gicp's check) ----------

def inverse_error(T_a_b: np.ndarray, T_b_a: np.ndarray) -> tuple[float, float]:
    """How far T_a_b @ T_b_a is from the identity: (degrees, metres)."""
    return pose_error(T_a_b @ T_b_a, np.eye(4))


@pytest.mark.data
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [0, 1])
def test_aligning_back_gives_the_inverse_on_a_real_kitchen_scan(kitchen, method, seed):
    """The whole scan twice, each with its own noise, one moved: either way round, the same motion.
    (Whole, not cropped: with a crop, aligning the whole scan into the crop has points with no
    counterpart, which pull it off by a degree, an asymmetry of the data, not of the method.)"""
    rng = np.random.default_rng(seed)
    T_truth = random_rigid(rng, degrees=6.0, metres=0.08)
    a = registration.prepare(kitchen + rng.normal(0, 0.002, kitchen.shape), voxel_size=0.03)
    b = registration.prepare(transform(np.linalg.inv(T_truth), kitchen) + rng.normal(0, 0.002, kitchen.shape),
                             voxel_size=0.03)
    options = dict(method=method, max_correspondence_distance=0.2, max_iterations=100, rotation_epsilon_deg=0.01,
                   translation_epsilon=1e-4)
    T_a_b = registration.align(b, a, **options).T_target_source
    T_b_a = registration.align(a, b, **options).T_target_source
    rotation_deg, translation_m = inverse_error(T_a_b, T_b_a)
    assert rotation_deg < 0.1 and translation_m < 0.003, (rotation_deg, translation_m)
    rotation_deg, translation_m = pose_error(T_b_a, np.linalg.inv(T_truth))
    assert rotation_deg < 0.2 and translation_m < 0.005, (rotation_deg, translation_m)


@pytest.mark.data
@pytest.mark.parametrize("method", METHODS)
def test_aligning_back_gives_the_inverse_on_the_kitti_pair(kitti, method):
    """Two real scans with partial overlap both ways (measured: within 0.3 deg and 2.2 cm)."""
    source, target, _ = kitti
    a, b = registration.prepare(target, voxel_size=0.25), registration.prepare(source, voxel_size=0.25)
    T_a_b = registration.align(b, a, method=method, max_correspondence_distance=1.0).T_target_source
    T_b_a = registration.align(a, b, method=method, max_correspondence_distance=1.0).T_target_source
    rotation_deg, translation_m = inverse_error(T_a_b, T_b_a)
    assert rotation_deg < 0.5 and translation_m < 0.05, (rotation_deg, translation_m)


@pytest.mark.parametrize("method", METHODS)
def test_aligning_back_gives_the_inverse_on_a_noisy_synthetic_room(method):
    """The same check where the real data is absent."""
    rng = np.random.default_rng(12)
    T_truth = random_rigid(rng, 3.0, 0.05)
    points = box_scene(rng, 4000)
    a = points + rng.normal(0, 0.002, points.shape)
    b = transform(np.linalg.inv(T_truth), points) + rng.normal(0, 0.002, points.shape)
    T_a_b = registration.align(b, a, method=method, max_correspondence_distance=0.5).T_target_source
    T_b_a = registration.align(a, b, method=method, max_correspondence_distance=0.5).T_target_source
    rotation_deg, translation_m = inverse_error(T_a_b, T_b_a)
    assert rotation_deg < 0.01 and translation_m < 0.001, (rotation_deg, translation_m)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(METHODS),
       degrees=st.floats(0.0, 5.0), metres=st.floats(0.0, 0.1))
def test_small_motions_of_random_scenes_are_recovered(seed, method, degrees, metres):
    rng = np.random.default_rng(seed)
    target_points = box_scene(rng, 3000)
    T_truth = random_rigid(rng, degrees, metres)
    subset = target_points[rng.choice(len(target_points), 2000, replace=False)]
    source_points = transform(np.linalg.inv(T_truth), subset)
    result = registration.align(source_points, target_points, method=method, max_correspondence_distance=0.5,
                                max_iterations=100, rotation_epsilon_deg=0.001, translation_epsilon=1e-5)
    rotation_deg, translation_m = pose_error(result.T_target_source, T_truth)
    assert rotation_deg < 0.01 and translation_m < 0.0005, (rotation_deg, translation_m)
    R = result.T_target_source[:3, :3]
    np.testing.assert_allclose(R.T @ R, np.eye(3), atol=1e-9)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(METHODS), n=st.integers(10, 200))
def test_the_same_points_at_the_true_pose_stay_there(seed, method, n):
    """Source = the target's own points moved by T^-1 and init = T: a fixed point of every method."""
    rng = np.random.default_rng(seed)
    target_points = box_scene(rng, n)
    T_truth = random_rigid(rng, 30.0, 2.0)
    source_points = transform(np.linalg.inv(T_truth), target_points)
    result = registration.align(source_points, target_points, method=method, init=T_truth)
    rotation_deg, translation_m = pose_error(result.T_target_source, T_truth)
    assert rotation_deg < 1e-5 and translation_m < 1e-7
    assert result.fitness == 1.0 and result.inlier_rmse < 1e-7 and result.converged


@pytest.mark.parametrize("kernel", registration.ROBUST_KERNELS[1:])
def test_robust_kernels_resist_outliers(kernel):
    rng = np.random.default_rng(7)
    target_points = box_scene(rng, 4000)
    T_truth = random_rigid(rng, 2.0, 0.03)
    clean = transform(np.linalg.inv(T_truth), target_points[:3000])
    outliers = clean[:900] + rng.normal(0, 0.15, size=(900, 3))  # 23% of points, off the surfaces
    source_points = np.vstack([clean, outliers])
    errors = {}
    for name in (None, kernel):
        result = registration.align(source_points, target_points, method="point_to_plane",
                                    max_correspondence_distance=0.5, robust_kernel=name, kernel_scale=0.1,
                                    max_iterations=100)
        errors[name] = pose_error(result.T_target_source, T_truth)[1]
    assert errors[None] > 0.005, errors  # the outliers really pull plain least squares away
    assert errors[kernel] < 0.7 * errors[None], errors


def test_prepared_target_is_reusable_and_equals_a_plain_target():
    rng = np.random.default_rng(4)
    target_points = box_scene(rng, 5000)
    target = registration.prepare(target_points, voxel_size=0.05)
    assert len(target) == len(target.points) == len(target.normals) == len(target.covariances)
    assert target.voxel_size == 0.05 and target.num_neighbors == registration.DEFAULT_NUM_NEIGHBORS
    np.testing.assert_allclose(np.linalg.norm(target.normals, axis=1), 1.0)
    results = []
    for seed in (1, 2):
        T = random_rigid(np.random.default_rng(seed), 3.0, 0.05)
        source_points = transform(np.linalg.inv(T), box_scene(rng, 2000))
        for tgt in (target, target, target_points):
            results.append(registration.align(source_points, tgt, method="gicp", voxel_size=0.05))
        a, b, c = results[-3:]
        np.testing.assert_array_equal(a.T_target_source, b.T_target_source)
        np.testing.assert_allclose(a.T_target_source, c.T_target_source, atol=1e-12)
        assert pose_error(a.T_target_source, T)[1] < 0.01


def test_a_prepared_cloud_can_be_the_source():
    rng = np.random.default_rng(5)
    T = random_rigid(rng, 3.0, 0.05)
    target = registration.prepare(box_scene(rng, 4000), voxel_size=0.05)
    source = registration.prepare(transform(np.linalg.inv(T), box_scene(rng, 4000)), voxel_size=0.05)
    result = registration.align(source, target, method="gicp")
    assert pose_error(result.T_target_source, T)[1] < 0.01


def test_result_is_frozen_with_the_documented_fields():
    rng = np.random.default_rng(6)
    points = box_scene(rng, 2000)
    result = registration.align(points + [0.02, 0, 0], points, method="point_to_plane")
    assert result.T_target_source.shape == (4, 4) and result.T_target_source.dtype == np.float64
    assert isinstance(result.fitness, float) and isinstance(result.inlier_rmse, float)
    assert isinstance(result.iterations, int) and isinstance(result.converged, bool)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.fitness = 0.0
    with pytest.raises(ValueError):
        result.T_target_source[0, 0] = 2.0
    info = result.information
    assert info.shape == (6, 6)
    np.testing.assert_allclose(info, info.T, atol=1e-9 * np.abs(info).max())
    assert np.linalg.eigvalsh(info).min() > 0
    np.testing.assert_allclose(info[3:, 3:], result.num_inliers * np.eye(3))


def test_no_overlap_is_reported_not_hidden():
    rng = np.random.default_rng(8)
    points = box_scene(rng, 1000)
    result = registration.align(points + [100.0, 0, 0], points, method="gicp")
    assert not result.converged
    assert result.fitness == 0.0 and result.num_inliers == 0


def test_thread_count_is_process_wide_and_results_do_not_depend_on_it(restore_num_threads):
    rng = np.random.default_rng(9)
    points = box_scene(rng, 5000)
    T = random_rigid(rng, 3.0, 0.05)
    source_points = transform(np.linalg.inv(T), points)
    default = registration.get_num_threads()
    registration.set_num_threads(1)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(registration.get_num_threads()))
    worker.start()
    worker.join()
    assert seen == [1]
    one = registration.align(source_points, points, method="gicp", voxel_size=0.05)
    registration.set_num_threads(2)
    two = registration.align(source_points, points, method="gicp", voxel_size=0.05)
    registration.set_num_threads(0)
    assert registration.get_num_threads() == default
    np.testing.assert_array_equal(one.T_target_source, two.T_target_source)  # fixed blocks, summed in order
    assert one.iterations == two.iterations


def ticks_inside(call) -> int:
    """How many of this thread's Python ticks fall inside `call()` run by a worker thread.

    The worker timestamps (time.perf_counter) just before and just after the call; this thread,
    meanwhile, timestamps a tick after each 1 ms sleep, and each tick needs the GIL back. Counted
    are the ticks in the middle half of the worker's window: none can land there unless the call
    lets the GIL go. The window's edges are left out because a tick may slip in between the
    worker's timestamp and the call itself (the interpreter switches threads between bytecodes).
    """
    window, done = {}, threading.Event()

    def work():
        window["start"] = time.perf_counter()
        try:
            call()
        finally:
            window["end"] = time.perf_counter()
            done.set()

    ticks = []
    worker = threading.Thread(target=work)
    worker.start()
    while not done.is_set():
        time.sleep(0.001)
        ticks.append(time.perf_counter())
    worker.join()
    quarter = (window["end"] - window["start"]) / 4
    return sum(window["start"] + quarter < t < window["end"] - quarter for t in ticks)


def test_registration_releases_the_gil(restore_num_threads):
    """While a worker thread is inside a long registration, the main thread keeps running Python."""
    registration.set_num_threads(1)  # leaves a core to the ticking thread on a small machine
    rng = np.random.default_rng(10)
    target_points = box_scene(rng, 150_000)
    source_points = target_points + [0.01, 0, 0]
    inside = ticks_inside(lambda: registration.align(source_points, target_points, method="point_to_point",
                                                     max_iterations=10, rotation_epsilon_deg=0.0,
                                                     translation_epsilon=0.0))
    assert inside > 0, "no tick of the main thread fell inside the registration: it held the GIL"


def test_the_gil_check_sees_a_call_that_holds_the_gil():
    """The check itself can fail: `sum` over a range runs in C with the GIL held throughout (no
    bytecode, so no thread switch), like a binding without `gil_scoped_release`. A pure-Python
    loop would not do as a stand-in: the interpreter hands the GIL over every few milliseconds."""
    assert ticks_inside(lambda: sum(range(30_000_000))) == 0


def test_information_matches_open3d_definition():
    import open3d as o3d

    rng = np.random.default_rng(11)
    target_points = box_scene(rng, 800)
    T = random_rigid(rng, 10.0, 0.5)
    source_points = transform(np.linalg.inv(T), target_points)
    result = registration.align(source_points, target_points, method="point_to_plane", init=T,
                                max_correspondence_distance=0.3)
    cloud = lambda points: o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))  # noqa: E731
    expected = o3d.pipelines.registration.get_information_matrix_from_point_clouds(
        cloud(source_points), cloud(target_points), 0.3, result.T_target_source)
    np.testing.assert_allclose(result.information, expected, rtol=1e-9, atol=1e-6)
