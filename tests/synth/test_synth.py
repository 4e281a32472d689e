"""The procedural sample workshop: spec validation, rendering against ground truth, noise, drift, files."""
from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import open3d as o3d
import pytest

from twin.camera import Camera, look_at
from twin.capture import open_capture
from twin.capture.trajectory_log import read_trajectory_log
from twin.scanfolder import read_cameras_json
from twin.synth import DEFAULT_SPEC, DepthSensorModel, OdometryDrift, load_workshop, render_sample
from twin.synth.paths import photo_poses, walk_poses
from twin.synth.render import Renderer
from twin.synth.sample import RGBD_FOV_DEG
from twin.synth.scene import build_room_scene

MACHINE_IDS = {"printer-1", "cnc-1", "lathe-1", "laser-1"}
SMALL = dict(frames=8, photos=4, rgbd_size=(160, 120), photo_size=(320, 240), mesh_edge_m=0.1)


@pytest.fixture(scope="module")
def workshop():
    return load_workshop()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return render_sample(tmp_path_factory.mktemp("sample"), **SMALL)


# --- the spec ---------------------------------------------------------------------------------

def test_default_workshop_has_the_machines_others_rely_on(workshop):
    assert workshop.source == DEFAULT_SPEC
    np.testing.assert_allclose(workshop.room_size_m, [8.0, 6.0, 3.0])
    assert {m.id for m in workshop.machines} == MACHINE_IDS
    kinds = {m.id: m.kind for m in workshop.machines}
    assert kinds == {"printer-1": "3d_printer", "cnc-1": "cnc_mill", "lathe-1": "lathe", "laser-1": "laser_cutter"}
    for machine in workshop.machines:
        R = machine.T_world_machine[:3, :3]
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert R[2, 2] == pytest.approx(1.0)  # yaw only: machines stand upright
        assert machine.size_m.shape == (3,) and np.all(machine.size_m > 0)
        assert len(machine.parts) >= 3
    # The printer stands on a bench, the others on the floor.
    assert workshop.machine("printer-1").T_world_machine[2, 3] == pytest.approx(0.9)
    assert workshop.machine("lathe-1").T_world_machine[2, 3] == 0.0
    with pytest.raises(ValueError, match="no machine 'mill-9'"):
        workshop.machine("mill-9")
    assert [m.id for m in workshop.markers] == [0, 1, 2, 3, 4]
    for marker in workshop.markers:  # on the walls, inside the room
        corners = marker.corners_m()
        assert np.all(corners >= -1e-9) and np.all(corners <= workshop.room_size_m + 1e-9)


def _write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_SPEC.read_text()
    assert old in text, old
    path = tmp_path / "workshop.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new, field", [
    ("size_m: [8.0, 6.0, 3.0]", "size_m: [8.0, 6.0]", r"room\.size_m"),
    ("size_m: [8.0, 6.0, 3.0]", "size_m: [8.0, -6.0, 3.0]", r"room\.size_m\[1\]"),
    ("yaw_deg: 90}   # on", "yaw_deg: ninety}   # on", r"machines\[0\]\.pose\.yaw_deg"),
    ("id: cnc-1", "id: printer-1", r"used more than once"),
    ("    kind: lathe\n", "", r"machines\[2\]: the field 'kind' is missing"),
    ("{pattern: brick,", "{pattern: marble,", r"materials\.brick_red\.pattern"),
    ("color: [0.60, 0.28, 0.20]", "color: [60, 28, 20]", r"materials\.brick_red\.color"),
    ("radius_m: 0.10, length_m: 0.07, axis: x, material: yellow_plastic",
     "radius_m: 0.10, length_m: 0.07, axis: w, material: yellow_plastic", r"machines\[0\]\.parts\[8\]\.axis"),
    ("material: printer_orange}", "material: unobtainium}", r"machines\[0\]\.parts\[1\]\.material"),
    ("size_m: [1.80, 0.70, 1.50]", "size_m: [1.20, 0.70, 1.50]", r"machines\[2\]\.parts\[0\].*outside the machine"),
    ("position_m: [6.6, 5.35, 0.0]", "position_m: [6.6, 5.9, 0.0]", r"machines\[1\]\.pose.*outside the room"),
    ("walls: {south: plaster_white,", "walls: {sooth: plaster_white,", r"room\.walls"),
    ("version: 1", "version: 1\nextra: true", r"the top level: unknown field"),
    ("machines:\n", "machines: [\n", r"not valid YAML"),
    ("dictionary: DICT_4X4_50", "dictionary: DICT_9X9_1", r"markers\.dictionary"),
    ("{id: 2, pose", "{id: 50, pose", r"markers\.placed\[2\]\.id.*0 to 49"),
    ("{id: 2, pose", "{id: 1, pose", r"markers\.placed\[2\]\.id.*placed twice"),
])
def test_bad_spec_is_a_value_error_naming_the_field(tmp_path, old, new, field):
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(ValueError, match=field) as error:
        load_workshop(path)
    assert str(path) in str(error.value)


def test_missing_spec_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the workshop file"):
        load_workshop(tmp_path / "nope.yaml")


# --- paths and drift (no rendering) -----------------------------------------------------------

def _rotation_angle_deg(R: np.ndarray) -> float:
    return math.degrees(math.acos(np.clip((np.trace(R) - 1) / 2, -1, 1)))


def test_walk_is_a_smooth_closed_loop_inside_the_room(workshop):
    poses = walk_poses(workshop, 300)
    steps = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    turns = [_rotation_angle_deg(a[:3, :3].T @ b[:3, :3]) for a, b in zip(poses, poses[1:])]
    assert steps.max() < 0.08 and max(turns) < 5.0  # small motion between frames: odometry can follow
    assert np.linalg.norm(poses[-1, :3, 3] - poses[0, :3, 3]) < 0.1  # ends next to its start: a loop
    assert _rotation_angle_deg(poses[-1, :3, :3].T @ poses[0, :3, :3]) < 5.0
    eyes = poses[:, :3, 3]
    assert np.all(eyes > [1.5, 1.5, 1.2]) and np.all(eyes < workshop.room_size_m - [1.5, 1.5, 1.2])
    # OpenCV axes: image y points down, so the camera's y axis has a negative world z (upright phone).
    assert np.all(poses[:, 2, 1] < -0.8)
    for T in poses[::37]:
        np.testing.assert_allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-9)
        assert np.linalg.det(T[:3, :3]) == pytest.approx(1.0)


def test_device_poses_drift_but_stay_near_the_truth(workshop):
    truth = walk_poses(workshop, 300)
    device = OdometryDrift().apply(truth, seed=3)
    np.testing.assert_allclose(device[0], truth[0], atol=1e-12)  # the device frame starts as the world frame
    error = np.linalg.norm(device[:, :3, 3] - truth[:, :3, 3], axis=1)
    walked = np.linalg.norm(np.diff(truth[:, :3, 3], axis=0), axis=1).sum()
    assert error[-1] > 0.002 * walked  # it drifts...
    assert error.max() < 0.03 * walked  # ...by a few percent of the distance at most
    angles = [_rotation_angle_deg(d[:3, :3].T @ t[:3, :3]) for d, t in zip(device, truth)]
    assert 0.1 < max(angles) < 5.0
    # Drift is slow: frame-to-frame motion is almost the true motion.
    relative_error = [np.linalg.norm((np.linalg.inv(d0) @ d1 - np.linalg.inv(t0) @ t1)[:3, 3])
                      for d0, d1, t0, t1 in zip(device, device[1:], truth, truth[1:])]
    assert max(relative_error) < 0.01
    assert not np.allclose(OdometryDrift().apply(truth, seed=4), device)


def test_photo_views_see_their_machines(workshop):
    camera = Camera.with_fov(1600, 1200, 63.0)
    views = photo_poses(workshop, 40)
    assert len(views) == 40 and len({name for name, _ in views}) == 40
    for machine in workshop.machines:
        mine = [T for name, T in views if name.startswith(machine.id + "_")]
        assert len(mine) == 4
        middle = machine.T_world_machine[:3, 3] + [0, 0, machine.size_m[2] / 2]
        for T in mine:
            local = np.linalg.inv(T) @ np.r_[middle, 1.0]
            assert local[2] > 1.0  # in front of the camera, at least a metre away
            u, v = (camera.K @ local[:3])[:2] / local[2]
            assert abs(u - 800) < 2 and abs(v - 600) < 2  # aimed at the machine's middle
    with pytest.raises(ValueError, match="at least 3 photos"):
        photo_poses(workshop, 2)


# --- the depth sensor model -------------------------------------------------------------------

def test_depth_noise_grows_with_depth_squared_and_readings_go_missing():
    sensor = DepthSensorModel()
    shape = (240, 320)
    errors = {}
    for depth in (1.0, 3.0):
        clean = np.full(shape, depth, np.float32)
        reading = sensor.apply(clean, np.ones(shape, np.float32), np.full(shape, 0.5, np.float32), 525.0,
                               np.random.default_rng(0)).astype(np.float64) / sensor.depth_scale
        valid = reading > 0
        assert 0.95 < valid.mean() < 0.995  # a few dropouts and holes, most pixels read
        errors[depth] = np.std(reading[valid] - depth)
        assert errors[depth] == pytest.approx(float(sensor.sigma_m(depth)), rel=0.25)
    assert errors[3.0] > 4 * errors[1.0]

    ones = np.ones(shape, np.float32)
    rng = np.random.default_rng(1)
    assert not sensor.apply(np.full(shape, 6.0, np.float32), ones, ones * 0.5, 525.0, rng).any()  # beyond range
    assert not sensor.apply(np.full(shape, 2.0, np.float32), ones * 0.05, ones * 0.5, 525.0, rng).any()  # grazing
    dark = sensor.apply(np.full(shape, 2.0, np.float32), ones, ones * 0.05, 525.0, rng)
    assert 0.5 < (dark > 0).mean() < 0.8  # black surfaces absorb infrared
    step = np.zeros(shape, np.float32)
    step[:, :160], step[:, 160:] = 1.0, 2.0
    edged = sensor.apply(step, ones, ones * 0.5, 525.0, rng)
    assert (edged[:, 159:161] > 0).mean() < 0.5 < (edged[:, 100:140] > 0).mean()  # depth edges lose readings


# --- the rendered sample ----------------------------------------------------------------------

def test_sample_files_have_the_promised_layout(sample):
    rgbd = sample.rgbd
    images = sorted((rgbd / "image").glob("*.jpg"))
    depths = sorted((rgbd / "depth").glob("*.png"))
    assert [p.name for p in images] == [f"{k:05d}.jpg" for k in range(8)]
    assert [p.name for p in depths] == [f"{k:05d}.png" for k in range(8)]
    depth = cv2.imread(str(depths[0]), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (120, 160)
    assert cv2.imread(str(images[0])).shape == (120, 160, 3)
    intrinsic = json.loads((rgbd / "intrinsic.json").read_text())
    assert intrinsic["width"] == 160 and intrinsic["height"] == 120 and intrinsic["depth_scale"] == 1000
    K = np.array(intrinsic["intrinsic_matrix"]).reshape(3, 3).T  # column-major
    assert K[0, 2] == pytest.approx(79.5) and K[1, 2] == pytest.approx(59.5) and K[2, 2] == 1.0
    assert len(read_trajectory_log(rgbd / "device_trajectory.log")) == 8

    photos = sorted(sample.photos.glob("*.jpg"))
    assert len(photos) == 4 and cv2.imread(str(photos[0])).shape == (240, 320, 3)
    K_photo = np.loadtxt(sample.photos / "K.txt")
    assert K_photo.shape == (3, 3) and K_photo[0, 2] == pytest.approx(159.5)
    cameras = read_cameras_json(sample.photo_cameras)
    assert sorted(c.name for c in cameras) == sorted(p.name for p in photos)
    np.testing.assert_allclose(cameras[0].K, K_photo, atol=1e-5)

    truth = read_trajectory_log(sample.trajectory)
    assert len(truth) == 8
    mesh = o3d.io.read_triangle_mesh(str(sample.mesh))
    assert mesh.has_vertex_colors() and len(mesh.triangles) > 10_000
    # Only the glass and door leaf set back in their wall openings lie beyond the room's walls.
    np.testing.assert_allclose(mesh.get_min_bound(), [-0.09, -0.10, 0], atol=1e-4)
    np.testing.assert_allclose(mesh.get_max_bound(), [8, 6, 3], atol=1e-4)
    assert not list(sample.root.glob("*.partial"))  # no half-written folders left behind


def test_capture_reader_takes_the_sample_with_its_device_poses(sample):
    capture = open_capture(sample.rgbd)
    assert len(capture) == 8 and capture.has_device_poses
    frame = capture.frames[3]
    data = frame.load()
    assert data.color.shape == (120, 160, 3) and data.depth_m.shape == (120, 160)
    device = read_trajectory_log(sample.rgbd / "device_trajectory.log")
    np.testing.assert_allclose(frame.camera.T_world_camera, device[3], atol=1e-7)


def test_machine_models_are_in_their_own_frames(sample, workshop):
    assert set(sample.machines) == MACHINE_IDS
    for machine in workshop.machines:
        mesh = o3d.io.read_triangle_mesh(str(sample.machines[machine.id]))
        assert mesh.has_vertex_colors() and len(mesh.triangles) > 100
        low, high = mesh.get_min_bound(), mesh.get_max_bound()
        half = machine.size_m / 2
        assert low[2] == pytest.approx(0.0, abs=1e-4)  # standing on z = 0 of its frame
        assert np.all(low[:2] >= -half[:2] - 0.006) and np.all(high[:2] <= half[:2] + 0.006)
        assert high[2] <= machine.size_m[2] + 0.006
        assert np.all(high - low > 0.8 * np.r_[machine.size_m[:2], machine.size_m[2]])  # fills its box


def test_ground_truth_mesh_has_no_hidden_faces(sample):
    mesh = o3d.io.read_triangle_mesh(str(sample.mesh))
    mesh.compute_triangle_normals()
    normals = np.asarray(mesh.triangle_normals)
    centres = np.asarray(mesh.vertices)[np.asarray(mesh.triangles)].mean(axis=1)
    # Nothing faces down onto the floor (bottoms of machines, bins, shelves standing on it).
    assert not np.any((normals[:, 2] < -0.9) & (centres[:, 2] < 0.01))
    # The floor faces up, into the room.
    floor = centres[:, 2] < 1e-6
    assert floor.any() and np.all(normals[floor, 2] > 0.99)


def _back_project(depth_mm: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v, u = np.nonzero(depth_mm)
    z = depth_mm[v, u] / 1000.0
    camera = np.stack([(u - K[0, 2]) * z / K[0, 0], (v - K[1, 2]) * z / K[1, 1], z], axis=1)
    return camera @ T_world_camera[:3, :3].T + T_world_camera[:3, 3], z


def test_rendered_depth_lies_on_the_ground_truth_mesh(sample):
    mesh = o3d.t.io.read_triangle_mesh(str(sample.mesh))
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(mesh)
    K = np.array(json.loads((sample.rgbd / "intrinsic.json").read_text())["intrinsic_matrix"]).reshape(3, 3).T
    truth = read_trajectory_log(sample.trajectory)
    sensor = DepthSensorModel()
    for k in (0, 7):
        depth = cv2.imread(str(sample.rgbd / "depth" / f"{k:05d}.png"), cv2.IMREAD_UNCHANGED)
        assert 0.6 < (depth > 0).mean() < 0.995  # mostly readings, some missing
        points, z = _back_project(depth, K, truth[k])
        distance = scene.compute_distance(o3d.core.Tensor(points.astype(np.float32))).numpy()
        # The depth-dependent noise, disparity quantisation and lateral jitter bound the distance.
        quantum = z ** 2 / (K[0, 0] * sensor.disparity_baseline_m) * sensor.disparity_step_px
        bound = 4 * sensor.sigma_m(z) + quantum + 0.002
        assert np.mean(distance <= bound) > 0.95
        assert np.median(distance) < np.median(sensor.sigma_m(z)) * 1.5
    # With the drifting device pose instead, the last frame lands measurably off the mesh.
    device = read_trajectory_log(sample.rgbd / "device_trajectory.log")
    assert np.linalg.norm(device[7][:3, 3] - truth[7][:3, 3]) > 1e-4


def test_observed_clouds_are_true_surface_within_reach(sample):
    mesh = o3d.t.io.read_triangle_mesh(str(sample.mesh))
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(mesh)
    eyes = np.array([T[:3, 3] for T in read_trajectory_log(sample.trajectory)])
    for path in (sample.observed_rgbd, sample.observed_photos):
        cloud = o3d.io.read_point_cloud(str(path))
        points = np.asarray(cloud.points)
        assert len(points) > 5_000 and cloud.has_colors()
        assert scene.compute_distance(o3d.core.Tensor(points.astype(np.float32))).numpy().max() < 1e-3
        keys = np.floor(points / 0.01).astype(np.int64)
        # One point per centimetre voxel (a few land across a boundary once stored as float32).
        assert len(np.unique(keys, axis=0)) > 0.999 * len(points)
    rgbd = np.asarray(o3d.io.read_point_cloud(str(sample.observed_rgbd)).points)
    reach = np.min(np.linalg.norm(rgbd[:, None, :] - eyes[None], axis=2), axis=1)
    assert reach.max() < DepthSensorModel().max_range_m * 1.3  # depth limit, stretched at the image corners


def test_markers_are_detected_where_the_ground_truth_says(sample, workshop):
    entries = json.loads(sample.markers.read_text())["markers"]
    assert [e["key"] for e in entries] == [f"DICT_4X4_50:{i}" for i in range(5)]
    renderer = Renderer(workshop, build_room_scene(workshop))
    camera = Camera.with_fov(800, 600, 63.0)
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50),
                                       cv2.aruco.DetectorParameters())
    for marker, entry in zip(workshop.markers, entries):
        corners = np.array(entry["corners_m"])
        assert np.linalg.norm(corners[1] - corners[0]) == pytest.approx(0.16)
        centre = corners.mean(axis=0)
        eye = centre - 2.0 * marker.T_world_marker[:3, 1] + [0.2, 0.3, -0.2]  # in front of it, a bit aside
        T = look_at(eye, centre)
        image = (renderer.render(camera, T).color * 255).astype(np.uint8)
        found, ids, _ = detector.detectMarkers(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        assert ids is not None and ids.ravel().tolist() == [marker.id]
        local = np.linalg.inv(T) @ np.c_[corners, np.ones(4)].T
        expected = ((camera.K @ local[:3]) / local[2]).T[:, :2]
        assert np.abs(found[0].reshape(4, 2) - expected).max() < 1.5  # same corners, same order


def test_colour_has_texture_for_features(sample, workshop):
    sift = cv2.SIFT_create()
    for photo in sorted(sample.photos.glob("*.jpg")):
        gray = cv2.imread(str(photo), cv2.IMREAD_GRAYSCALE)
        assert len(sift.detect(gray, None)) > 100, photo.name  # even at 320x240
        gradient = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        assert np.mean(gradient > 20) > 0.05, photo.name
    frames = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted((sample.rgbd / "image").glob("*.jpg"))]
    assert np.mean([len(sift.detect(f, None)) for f in frames]) > 40  # even at 160x120
    # At the default 640x480, frames all around the walk are rich in features.
    renderer = Renderer(workshop, build_room_scene(workshop))
    camera = Camera.with_fov(640, 480, RGBD_FOV_DEG)
    for T in walk_poses(workshop, 300)[::60]:
        image = (renderer.render(camera, T).color * 255).astype(np.uint8)
        assert len(sift.detect(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), None)) > 300


def test_small_render_is_deterministic_for_a_seed(tmp_path):
    options = dict(frames=2, photos=3, rgbd_size=(64, 48), photo_size=(96, 72), mesh_edge_m=0.25)
    first = render_sample(tmp_path / "a", **options, seed=5)
    second = render_sample(tmp_path / "b", **options, seed=5)
    other = render_sample(tmp_path / "c", **options, seed=6)
    names = sorted(str(p.relative_to(first.root)) for p in first.root.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(second.root)) for p in second.root.rglob("*") if p.is_file())
    for name in names:
        assert (first.root / name).read_bytes() == (second.root / name).read_bytes(), name
    assert (first.rgbd / "depth" / "00001.png").read_bytes() != (other.rgbd / "depth" / "00001.png").read_bytes()


def test_render_sample_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="at least 2 frames"):
        render_sample(tmp_path, frames=1)
    with pytest.raises(ValueError, match="at least 2 frames and 3 photos"):
        render_sample(tmp_path, photos=2.5)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        render_sample(tmp_path / "file")
    with pytest.raises(ValueError, match="cannot render"):
        render_sample(tmp_path / "out", frames=2, photos=3, rgbd_size=(4, 3))
    assert not (tmp_path / "out" / "rgbd").exists()


# --- the renderer against a per-pixel reference ---------------------------------------------------

def _reference_pixel(scene, textures, lighting, camera, T_world_camera, u, v):
    """One pixel the slow, obvious way: the ray against every triangle (Moller-Trumbore), the
    texture's bilinear sample at the hit (wrapping, mip level from the pixel's footprint), the lamps,
    sky and daylight summed there. Returns depth, |cos incidence| and the (colour, albedo luma) of
    each face hit at that depth (coplanar faces tie: the renderer may show either)."""
    K = camera.K
    d = T_world_camera[:3, :3] @ np.array([(u - K[0, 2]) / camera.fx, (v - K[1, 2]) / camera.fy, 1.0])
    o = T_world_camera[:3, 3]
    a, b, c = (scene.vertices[scene.triangles[:, i]] for i in range(3))
    e1, e2 = b - a, c - a
    p = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = o - a
        bu = np.einsum("ij,ij->i", s, p) / det
        q = np.cross(s, e1)
        bv = (q @ d) / det
        t = np.einsum("ij,ij->i", e2, q) / det
    inside = (np.abs(det) > 1e-12) & (bu >= -1e-9) & (bv >= -1e-9) & (bu + bv <= 1 + 1e-9) & (t > 0)
    depth = float(t[inside].min())
    point = o + depth * d
    shades = []
    for tri in np.flatnonzero(inside & (t <= depth * (1 + 1e-6))):
        normal = np.cross(e1[tri], e2[tri])
        normal /= np.linalg.norm(normal)
        cos = abs(normal @ d) / np.linalg.norm(d)
        texture = textures[int(np.searchsorted(np.unique(scene.material_index), scene.material_index[tri]))]
        footprint = depth * np.linalg.norm(d) / camera.fx / max(cos, 0.3)
        level = int(np.clip(math.floor(math.log2(max(footprint / texture.texel_m, 1.0))), 0, len(texture.levels) - 1))
        image = texture.levels[level].astype(np.float64) / 255
        h, w = image.shape[:2]
        x, y = (scene.uv_axes[tri] @ point + scene.uv_offset[tri]) / (texture.texel_m * 2 ** level) - 0.5
        x0, y0 = math.floor(x), math.floor(y)
        fx, fy = x - x0, y - y0
        albedo = sum(weight * image[(y0 + dy) % h, (x0 + dx) % w]
                     for dx, dy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                                            (0, 1, (1 - fx) * fy), (1, 1, fx * fy)))
        shade = lighting.ambient + lighting.sky * (0.5 + 0.5 * normal[2])
        shade += lighting.daylight * max(-(normal @ lighting.daylight_direction), 0.0)
        for lamp in lighting.point_lights_m:
            distance = np.linalg.norm(lamp - point)
            incidence = max(normal @ (lamp - point), 0.0) / distance
            shade += lighting.lamp * incidence / (1 + (distance / lighting.lamp_falloff_m) ** 2)
        shades.append((np.clip(albedo * shade, 0, 1), albedo @ [0.299, 0.587, 0.114]))
    return depth, cos, shades


@pytest.mark.parametrize("size, fov_deg, pose_index", [((32, 24), 63.0, 0), ((40, 30), 9.0, 137)])
def test_render_matches_a_per_pixel_reference(workshop, size, fov_deg, pose_index):
    """The vectorised renderer (atlas lookups, bands of rows, per-triangle lighting) against one ray
    and one texture sample at a time: wide and zoomed views, so coarse and fine mip levels both count."""
    from twin.synth.lighting import Lighting
    from twin.synth.shader import _textures

    scene = build_room_scene(workshop)
    camera = Camera.with_fov(*size, fov_deg)
    T = walk_poses(workshop, 300)[pose_index]
    view = Renderer(workshop, scene).render(camera, T)
    textures, lighting = _textures(workshop, scene), Lighting.from_workshop(workshop)
    K = camera.K
    matched = 0
    for v in range(camera.height):
        for u in range(camera.width):
            depth, cos, shades = _reference_pixel(scene, textures, lighting, camera, T, u, v)
            assert view.depth_m[v, u] == pytest.approx(depth, abs=1e-5)
            assert view.cos_incidence[v, u] == pytest.approx(cos, abs=1e-5)
            ray = T[:3, :3] @ [(u - K[0, 2]) / camera.fx, (v - K[1, 2]) / camera.fy, 1.0]
            np.testing.assert_allclose(view.points_m[v, u], T[:3, 3] + depth * ray, atol=1e-5)
            # 8-bit texels sampled at float32 coordinates: within a level and a half of 255.
            matched += any(np.abs(view.color[v, u] - color).max() < 1.5 / 255
                           and abs(view.albedo_luma[v, u] - luma) < 1.5 / 255 for color, luma in shades)
    # A ray through an edge between two faces may hit either in float32.
    assert matched >= 0.99 * camera.width * camera.height


def test_windows_and_the_door_are_holes_in_their_walls(workshop):
    """A depth ray through a window or the doorway passes the wall's face and meets the glass or leaf
    set back behind it; beside them it stops on the wall."""
    scene = build_room_scene(workshop)
    raycaster = o3d.t.geometry.RaycastingScene()
    raycaster.add_triangles(o3d.core.Tensor(scene.vertices.astype(np.float32)),
                            o3d.core.Tensor(scene.triangles.astype(np.uint32)))
    # (origin, direction): towards window-2's centre, the wall below its sill, the door, the wall beside it.
    rays = np.array([[4.0, 1.5, 1.75, 0, -1, 0], [4.0, 1.5, 0.9, 0, -1, 0],
                     [1.0, 0.9, 1.0, -1, 0, 0], [1.0, 2.0, 1.0, -1, 0, 0]], np.float32)
    distance = raycaster.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy()
    np.testing.assert_allclose(distance, [1.56, 1.5, 1.05, 1.0], atol=1e-4)
