"""The photo pipeline on real photos: Strecha's Herz-Jesu-P8 (8 photos, metric ground-truth cameras),
at a low resolution so that it stays fast; full-resolution figures are in benchmarks/photos.py."""
from __future__ import annotations

import json

import numpy as np
import open3d as o3d
import pytest

from twin.reconstruct.photos.evaluation import camera_centre_errors, read_strecha_cameras
from twin.reconstruct.photos.pipeline import PhotoOptions, reconstruct_photos
from twin.scanfolder import read_cameras_json

pytestmark = [pytest.mark.data, pytest.mark.slow]


@pytest.fixture(scope="module")
def herzjesu(shared_data, tmp_path_factory):
    folder = shared_data / "photos" / "herzjesu_p8"
    out = tmp_path_factory.mktemp("herzjesu")
    steps = []
    result = reconstruct_photos(folder, out, PhotoOptions(max_image_size=800, dense_max_size=384, mesh=False),
                                progress=lambda stage, done, total: steps.append((stage, done, total)))
    return folder, out, result, steps


def test_every_photo_registers_within_a_centimetre_of_the_ground_truth(herzjesu):
    folder, out, result, _ = herzjesu
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "ok"
    assert sorted(report["photos"]["registered"]) == [f"{i:04d}.jpg" for i in range(8)]
    assert report["photos"]["not_registered"] == {}
    assert report["intrinsics"] == "K.txt"
    assert 0 < report["sfm"]["mean_reprojection_error_px"] < 1.0
    cameras = read_cameras_json(out / "cameras.json")
    errors = camera_centre_errors({c.name: c.T_world_camera[:3, 3] for c in cameras},
                                  read_strecha_cameras(folder / "gt_dense_cameras"))
    assert len(errors) == 8
    assert np.mean(list(errors.values())) < 0.010 and max(errors.values()) < 0.02
    assert report["scale"]["status"] == "arbitrary"


def test_dense_cloud_is_coloured_and_consistent_with_the_cameras(herzjesu):
    _, out, result, steps = herzjesu
    cloud = o3d.io.read_point_cloud(str(out / "cloud.ply"))
    points, colors = np.asarray(cloud.points), np.asarray(cloud.colors)
    assert len(points) == result.dense.points > 150_000
    assert colors.std() > 0.05  # real colours, not one grey
    # Every camera looks at the cloud: most points lie in front of each camera.
    for camera in read_cameras_json(out / "cameras.json"):
        T_camera_world = np.linalg.inv(camera.T_world_camera)
        depth = points @ T_camera_world[2, :3] + T_camera_world[2, 3]
        assert np.mean(depth > 0) > 0.9
    assert {stage for stage, _, _ in steps} >= {"sfm", "sfm: features", "sfm: mapping", "depth", "fusion", "world"}


def test_rerun_reuses_every_stage(herzjesu):
    folder, out, _, _ = herzjesu
    again = reconstruct_photos(folder, out, PhotoOptions(max_image_size=800, dense_max_size=384, mesh=False))
    assert all(timing.reused for timing in again.stages.values())
    assert again.dense.points == json.loads((out / "report.json").read_text())["dense"]["points"]
