"""The photo pipeline on photos rendered at test time: a textured floor and wall with ArUco markers
on the floor, seen by upright cameras with known poses (exact ground truth for scale, up and depth)."""
from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import open3d as o3d
import pytest

from twin.camera import Camera
from twin.cli import main
from twin.markers.detection import (detect_markers, marker_pose, scale_from_known_distance, scale_from_marker_size,
                                    triangulate_markers)
from twin.reconstruct.photos.dense_stereo import View, combine_pair_depths, depth_from_pair
from twin.reconstruct.photos.depth_fusion import fuse_view
from twin.reconstruct.photos.evaluation import camera_centre_errors
from twin.reconstruct.photos.levelling import level
from twin.reconstruct.photos.pipeline import PhotoOptions, PhotoResult, reconstruct_photos
from twin.reconstruct.result import StageTiming
from twin.scanfolder import read_cameras_json, write_json

K = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])
WIDTH, HEIGHT = 640, 480
MARKER_SIZE_M = 0.2
MARKERS = {0: (-0.6, 0.7), 1: (0.6, 0.7), 2: (-0.5, 1.7), 3: (0.5, 1.7)}  # id -> centre on the floor (x, y)
PX_PER_M = 500  # texture resolution: 2 mm per texel

# Planes: (origin, u axis, v axis, size_u, size_v); texture pixel (col, row) = (u, v) * PX_PER_M.
FLOOR = (np.array([-2.0, -1.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), 4.0, 4.0)
WALL = (np.array([-2.0, 3.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0]), 4.0, 2.5)


def _texture(rng: np.random.Generator, size_u: float, size_v: float) -> np.ndarray:
    width, height = int(size_u * PX_PER_M), int(size_v * PX_PER_M)
    texture = np.zeros((height, width, 3), np.float32)
    for cell in (3, 9, 27, 81):
        noise = rng.random((height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        texture += cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) / cell ** 0.3
    texture -= texture.min()
    return (255 * texture / texture.max()).astype(np.uint8)


def _floor_with_markers(rng: np.random.Generator) -> np.ndarray:
    texture = _texture(rng, FLOOR[3], FLOOR[4])
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    side = int(MARKER_SIZE_M * PX_PER_M)
    border = side // 6
    for marker_id, (x, y) in MARKERS.items():
        image = cv2.aruco.generateImageMarker(dictionary, marker_id, side)
        # The texture's rows run along +y on the floor; flip so the marker reads upright from above.
        image = cv2.cvtColor(image[::-1], cv2.COLOR_GRAY2RGB)
        col, row = int((x - FLOOR[0][0]) * PX_PER_M) - side // 2, int((y - FLOOR[0][1]) * PX_PER_M) - side // 2
        texture[row - border:row + side + border, col - border:col + side + border] = 255
        texture[row:row + side, col:col + side] = image
    return texture


def look_at(centre, target) -> np.ndarray:
    """T_world_camera of an upright OpenCV camera at `centre` looking at `target` (world z up)."""
    z = np.asarray(target, float) - centre
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, y, z], axis=1)
    T[:3, 3] = centre
    return T


def render(T_world_camera: np.ndarray, textures, supersample: int = 2, K: np.ndarray = K,
           size: tuple[int, int] = (WIDTH, HEIGHT)) -> tuple[np.ndarray, np.ndarray]:
    """(RGB image, depth along z in metres) by casting each pixel's ray at the two planes."""
    w, h = size[0] * supersample, size[1] * supersample
    Ks = np.diag([supersample, supersample, 1.0]) @ K
    Ks[:2, 2] = (K[:2, 2] + 0.5) * supersample - 0.5
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    rays = (T_world_camera[:3, :3] @ np.linalg.inv(Ks) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])).T
    centre = T_world_camera[:3, 3]
    image = np.full((h * w, 3), 128, np.uint8)
    depth = np.full(h * w, np.inf)
    for (origin, axis_u, axis_v, size_u, size_v), texture in zip((FLOOR, WALL), textures):
        normal = np.cross(axis_u, axis_v)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ((origin - centre) @ normal) / (rays @ normal)
        hit = centre + t[:, None] * rays
        cu, cv = (hit - origin) @ axis_u, (hit - origin) @ axis_v
        ok = (t > 0) & (cu >= 0) & (cu < size_u) & (cv >= 0) & (cv < size_v) & (t < depth)
        map_u = (cu * PX_PER_M - 0.5).astype(np.float32).reshape(h, w)
        map_v = (cv * PX_PER_M - 0.5).astype(np.float32).reshape(h, w)
        sampled = cv2.remap(texture, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).reshape(-1, 3)
        image[ok], depth[ok] = sampled[ok], t[ok]  # rays have unit z in the camera: t is the depth
    image = cv2.resize(image.reshape(h, w, 3), size, interpolation=cv2.INTER_AREA)
    depth = depth.reshape(h, w)[supersample // 2::supersample, supersample // 2::supersample]
    return image, np.where(np.isfinite(depth), depth, 0.0)


def camera_poses() -> list[np.ndarray]:
    return [look_at(np.array([x, -0.8, 1.3]), [0.45 * x, 1.5, 0.2]) for x in (-0.9, -0.55, -0.2, 0.15, 0.5, 0.85)]


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> dict:
    rng = np.random.default_rng(7)
    textures = (_floor_with_markers(rng), _texture(rng, WALL[3], WALL[4]))
    folder = tmp_path_factory.mktemp("photos")
    poses, images, depths = camera_poses(), [], []
    for index, T in enumerate(poses):
        image, depth = render(T, textures)
        cv2.imwrite(str(folder / f"photo_{index:02d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append(image)
        depths.append(depth)
    np.savetxt(folder / "K.txt", K)
    return {"folder": folder, "poses": poses, "images": images, "depths": depths}


def _view(scene, index) -> View:
    return View(scene["images"][index], K, np.linalg.inv(scene["poses"][index]))


def _sample_points(scene, index, count=300) -> np.ndarray:
    depth = scene["depths"][index]
    rows, cols = np.nonzero(depth > 0)
    pick = np.random.default_rng(0).choice(len(rows), count, replace=False)
    z = depth[rows[pick], cols[pick]]
    cam = np.stack([(cols[pick] - K[0, 2]) * z / K[0, 0], (rows[pick] - K[1, 2]) * z / K[1, 1], z], axis=1)
    T = scene["poses"][index]
    return cam @ T[:3, :3].T + T[:3, 3]


@pytest.mark.parametrize("ref, src", [(2, 3), (3, 2)])  # src right of ref, then left (mirrored SGBM)
def test_sgbm_depth_matches_the_rendered_depth(scene, ref, src):
    depth = depth_from_pair(_view(scene, ref), _view(scene, src), _sample_points(scene, ref))
    truth = scene["depths"][ref]
    both = (depth > 0) & (truth > 0)
    assert both.mean() > 0.5 * (truth > 0).mean()
    relative = np.abs(depth[both] - truth[both]) / truth[both]
    assert np.median(relative) < 0.01
    assert np.mean(relative < 0.03) > 0.9


def test_sgbm_depth_of_a_vertical_pair(scene, tmp_path):
    """Cameras one above the other: rectification is vertical, the pair is transposed for SGBM."""
    rng = np.random.default_rng(3)
    textures = (_floor_with_markers(rng), _texture(rng, WALL[3], WALL[4]))
    upper, lower = look_at(np.array([0.0, -0.8, 1.5]), [0, 1.5, 0.3]), look_at(np.array([0.0, -0.8, 1.3]), [0, 1.5, 0.1])
    (image_a, depth_a), (image_b, _) = render(upper, textures), render(lower, textures)
    vertical = {"images": [image_a, image_b], "depths": [depth_a], "poses": [upper, lower]}
    depth = depth_from_pair(_view(vertical, 0), _view(vertical, 1), _sample_points(vertical, 0))
    both = (depth > 0) & (depth_a > 0)
    assert both.mean() > 0.3
    assert np.median(np.abs(depth[both] - depth_a[both]) / depth_a[both]) < 0.01


def test_combining_pair_depths_keeps_agreement_and_drops_conflict():
    a = np.array([[1.0, 2.0, 0.0, 4.0]], np.float32)
    b = np.array([[1.004, 3.0, 0.0, 0.0]], np.float32)
    combined = combine_pair_depths([a, b])
    assert combined[0, 0] == pytest.approx(1.002, abs=1e-4)  # two agree: their mean
    assert combined[0, 1] == 0 and combined[0, 2] == 0  # conflict, and nothing measured
    assert combined[0, 3] == pytest.approx(4.0)  # one measured: left to the multi-view check
    three = combine_pair_depths([np.float32([[2.0]]), np.float32([[2.5]]), np.float32([[3.0]])])
    assert three[0, 0] == pytest.approx(2.5)  # three pairs that differ: the one at their median stays


def test_fusion_keeps_consistent_points_and_drops_a_wrong_depth_map(scene):
    views = [_view(scene, i) for i in range(4)]
    depths = [d.astype(np.float32) for d in scene["depths"][:4]]
    points, colors = fuse_view(views[1], depths[1], [(views[i], depths[i]) for i in (0, 2, 3)], min_views=2)
    assert len(points) > 0.8 * (depths[1] > 0).sum()
    assert colors.dtype == np.uint8 and colors.shape == points.shape
    floor = points[points[:, 1] < 2.9]
    assert np.percentile(np.abs(floor[:, 2]), 95) < 0.01  # floor points lie on z = 0
    wrong = [(views[i], depths[i] * 1.1) for i in (0, 2, 3)]
    assert len(fuse_view(views[1], depths[1], wrong, min_views=2)[0]) < 0.01 * len(points)


def test_markers_are_triangulated_to_their_printed_size_and_place(scene):
    cameras = [Camera.from_K(K, WIDTH, HEIGHT, name=f"{i}", T_world_camera=T, distortion=np.zeros(4))
               for i, T in enumerate(scene["poses"])]
    detections = [detect_markers(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)) for image in scene["images"]]
    markers = triangulate_markers(cameras, detections)
    assert {m.key for m in markers} == {f"DICT_4X4_50:{i}" for i in MARKERS}
    for marker in markers:
        x, y = MARKERS[int(marker.key.split(":")[1])]
        assert marker.side == pytest.approx(MARKER_SIZE_M, rel=0.02)
        assert np.linalg.norm(marker.centre - [x, y, 0]) < 0.01
        T = marker_pose(marker)
        assert abs(T[:3, 2] @ [0, 0, 1]) > 0.99  # the marker's z is the floor's normal
    assert scale_from_marker_size(markers, MARKER_SIZE_M) == pytest.approx(1.0, rel=0.02)
    assert scale_from_known_distance(markers, "0", "1", 1.2) == pytest.approx(1.0, rel=0.01)
    with pytest.raises(ValueError, match="not found"):
        scale_from_known_distance(markers, "0", "9", 1.0)


def test_levelling_finds_the_floor_not_the_wall():
    rng = np.random.default_rng(1)
    floor = np.column_stack([rng.uniform(-2, 2, 20000), rng.uniform(-1, 3, 20000), np.zeros(20000)])
    wall = np.column_stack([rng.uniform(-2, 2, 30000), np.full(30000, 3.0), rng.uniform(0, 2.5, 30000)])
    table = np.column_stack([rng.uniform(-0.5, 0.5, 3000), rng.uniform(0, 1, 3000), np.full(3000, 0.8)])
    points = np.concatenate([floor, wall, table])
    tilt = look_at(np.zeros(3), [0.3, 1.0, 0.2])  # a rotation that hides which way is up
    T_model_world = np.linalg.inv(tilt)
    model_points = points @ T_model_world[:3, :3].T + T_model_world[:3, 3]
    cameras = [T_model_world @ T for T in camera_poses()]
    result = level(model_points, cameras, scale=2.0)
    assert result.up_source == "floor plane"
    levelled = model_points @ result.T_world_model[:3, :3].T + result.T_world_model[:3, 3]
    assert np.percentile(np.abs(levelled[:20000, 2]), 99) < 0.02 * 2  # the floor at z = 0 (scaled by 2)
    assert np.median(levelled[-3000:, 2]) == pytest.approx(1.6, abs=0.05)  # the table above it


@pytest.fixture(scope="module")
def reconstruction(scene, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan")
    result = reconstruct_photos(scene["folder"], out, PhotoOptions(marker_size_m=MARKER_SIZE_M, dense_max_size=480,
                                                                   poisson_depth=7))
    return out, result


def test_photos_to_metric_levelled_cameras_cloud_and_mesh(scene, reconstruction):
    out, result = reconstruction
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "ok" and result.status == "ok"
    assert len(report["photos"]["registered"]) == 6 and report["photos"]["not_registered"] == {}
    assert report["scale"]["status"] == "metric (markers)"
    assert report["up"] == "floor plane"
    cameras = read_cameras_json(out / "cameras.json")
    centres = np.array([c.T_world_camera[:3, 3] for c in cameras])
    truth = np.array([T[:3, 3] for T in scene["poses"]])
    # Metric: distances between cameras as rendered; level: cameras 1.3 m above the floor.
    assert np.linalg.norm(centres[0] - centres[-1]) == pytest.approx(np.linalg.norm(truth[0] - truth[-1]), rel=0.02)
    assert np.allclose(centres[:, 2], 1.3, atol=0.03)
    for camera in cameras:
        R = camera.T_world_camera[:3, :3]
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-6)
    cloud = o3d.io.read_point_cloud(str(out / "cloud.ply"))
    points = np.asarray(cloud.points)
    assert len(points) > 50_000 and cloud.has_colors()
    assert np.mean(np.abs(points[:, 2]) < 0.02) > 0.4  # much of what was seen is floor, at z = 0
    mesh = o3d.io.read_triangle_mesh(str(out / "mesh.ply"))
    assert len(mesh.triangles) > 1000
    anchors = json.loads((out / "anchors.json").read_text())["anchors"]
    assert len(anchors) == 4
    for anchor in anchors:
        assert anchor["size_m"] == pytest.approx(MARKER_SIZE_M, rel=0.03)
        assert abs(anchor["pose"]["translation"][2]) < 0.02  # markers lie on the floor
    positions = {a["marker"]: np.array(a["pose"]["translation"]) for a in anchors}
    assert np.linalg.norm(positions["DICT_4X4_50:0"] - positions["DICT_4X4_50:1"]) == pytest.approx(1.2, abs=0.03)


def test_the_result_is_typed_and_report_json_is_its_report(reconstruction, tmp_path):
    out, result = reconstruction
    assert isinstance(result, PhotoResult)
    write_json(tmp_path / "again.json", result.as_report())
    assert (out / "report.json").read_text() == (tmp_path / "again.json").read_text()
    assert result.photos.total == len(result.photos.registered) == 6 and result.photos.not_registered == {}
    assert result.scale.status == "metric (markers)" and result.scale.metres_per_unit > 0
    assert [m.key for m in result.scale.markers] == [f"DICT_4X4_50:{i}" for i in range(4)]
    assert result.mesh is not None and result.mesh.triangles > 1000
    assert result.dense.points > 50_000 and result.up == "floor plane" and result.intrinsics == "K.txt"
    assert list(result.stages) == ["sfm", "markers", "depth", "fusion", "world", "mesh"]
    assert all(isinstance(t, StageTiming) and t.seconds >= 0 for t in result.stages.values())


def test_rerun_reuses_finished_stages_and_known_distance_rescales(scene, reconstruction):
    out, _ = reconstruction
    result = reconstruct_photos(scene["folder"], out, PhotoOptions(
        known_distance=("0", "3", float(np.hypot(1.1, 1.0))), dense_max_size=480, poisson_depth=7))
    timings = result.stages
    assert all(timings[name].reused for name in ("sfm", "markers", "depth", "fusion"))
    assert not timings["world"].reused
    assert result.scale.status == "metric (known distance)"
    cameras = read_cameras_json(out / "cameras.json")
    assert np.allclose([c.T_world_camera[2, 3] for c in cameras], 1.3, atol=0.03)


def test_corrupt_and_unrelated_photos_are_reported_and_the_rest_reconstructed(scene, tmp_path):
    """Without markers or a known distance the report says the scale is arbitrary; a corrupt JPEG
    and a photo of something else are listed with their reasons, the others still reconstruct."""
    folder = tmp_path / "photos"
    shutil.copytree(scene["folder"], folder)
    (folder / "broken.jpg").write_bytes((folder / "photo_00.jpg").read_bytes()[:600])
    elsewhere = np.random.default_rng(5).integers(0, 255, (HEIGHT // 8, WIDTH // 8, 3), dtype=np.uint8)
    cv2.imwrite(str(folder / "elsewhere.jpg"), cv2.resize(elsewhere, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST))
    result = reconstruct_photos(folder, tmp_path / "scan", PhotoOptions(dense_max_size=320, mesh=False))
    report = json.loads((tmp_path / "scan" / "report.json").read_text())
    assert report["status"] == "ok" and len(report["photos"]["registered"]) == 6
    assert set(report["photos"]["not_registered"]) == {"broken.jpg", "elsewhere.jpg"}
    assert "cannot be decoded" in report["photos"]["not_registered"]["broken.jpg"]
    assert "matches" in report["photos"]["not_registered"]["elsewhere.jpg"]
    assert result.scale.status == "arbitrary" and result.scale.metres_per_unit is None and result.mesh is None
    assert "arbitrary" in result.scale.note and "DICT_4X4_50:0" in result.scale.note
    write_json(tmp_path / "again.json", result.as_report())
    assert (tmp_path / "scan" / "report.json").read_text() == (tmp_path / "again.json").read_text()
    assert json.loads((tmp_path / "scan" / "anchors.json").read_text())["anchors"] == []
    assert not (tmp_path / "scan" / "mesh.ply").exists()


def test_twin_reconstruct_command_on_a_photo_folder(scene, reconstruction, capsys):
    out_dir, _ = reconstruction
    code = main(["reconstruct", str(scene["folder"]), "-o", str(out_dir), "--marker-size", "0.2",
                 "--dense-size", "480", "--no-mesh"])
    out = capsys.readouterr().out
    assert code == 0
    assert "photos registered: 6 of 6" in out and "metric (markers)" in out
    assert "sfm: " in out and "(done before, reused)" in out  # the same settings as before: not redone
    assert (out_dir / "cloud.ply").is_file()
    code = main(["reconstruct", str(scene["folder"]), "-o", str(out_dir), "--voxel-size", "0.01"])
    assert code == 2 and "apply to RGB-D captures" in capsys.readouterr().err


def test_mixed_resolutions_and_cameras_register_together(scene, tmp_path):
    """Two of the photos from another camera (wider lens, larger sensor, no K.txt for it): K.txt
    holds for the most common size; the others' intrinsics are estimated."""
    folder = tmp_path / "photos"
    shutil.copytree(scene["folder"], folder)
    other_K = np.array([[600.0, 0.0, 399.5], [0.0, 600.0, 299.5], [0.0, 0.0, 1.0]])
    rng = np.random.default_rng(7)
    textures = (_floor_with_markers(rng), _texture(rng, WALL[3], WALL[4]))  # the scene's own textures
    for index in (1, 4):
        image, _ = render(scene["poses"][index], textures, K=other_K, size=(800, 600))
        (folder / f"photo_{index:02d}.jpg").unlink()
        cv2.imwrite(str(folder / f"other_{index:02d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    result = reconstruct_photos(folder, tmp_path / "scan", PhotoOptions(marker_size_m=MARKER_SIZE_M,
                                                                           dense_max_size=320, mesh=False))
    assert len(result.photos.registered) == 6, result.photos.not_registered
    cameras = {c.name: c for c in read_cameras_json(tmp_path / "scan" / "cameras.json")}
    assert (cameras["other_01.jpg"].width, cameras["other_01.jpg"].height) == (800, 600)
    assert cameras["other_01.jpg"].K[0, 0] == pytest.approx(600, rel=0.05)  # estimated, not K.txt's 500
    assert cameras["photo_00.jpg"].K[0, 0] == pytest.approx(500, rel=0.02)
    truth = dict(zip(sorted(cameras), [scene["poses"][i][:3, 3] for i in (1, 4, 0, 2, 3, 5)]))
    assert max(camera_centre_errors({n: c.T_world_camera[:3, 3] for n, c in cameras.items()}, truth).values()) < 0.03
