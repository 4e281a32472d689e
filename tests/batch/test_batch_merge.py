"""`twin batch --merge` on a real local Dask cluster: three overlapping slices of the sample
workshop's walk, each reconstructed in its own session frame (its device trajectory moved by a
different rigid transform, as separate phone sessions are), merged into one site."""
from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from twin.batch.site import candidate_pairs
from twin.capture.trajectory_log import read_trajectory_log, write_trajectory_log
from twin.cli import main
from twin.geometry import pose_matrix
from twin.scanfolder import read_cloud
from twin.scanfolder.cameras import read_cameras_json

sys.path.insert(0, str(Path(__file__).parent))
from capture_slices import write_slices  # noqa: E402

FRAMES, OVERLAP = 16, 10
SESSION_FRAMES = [np.eye(4), pose_matrix([1.5, -0.4, 0.0], [0.0, 0.0, 0.3826834, 0.9238795]),  # 45 deg about z
                  pose_matrix([-2.0, 1.0, 0.0], [0.0, 0.0, -0.5, 0.8660254])]                     # -60 deg


@pytest.fixture(scope="module")
def site_run(tmp_path_factory):
    from twin.synth import render_sample

    sample = render_sample(tmp_path_factory.mktemp("sample"), frames=40, photos=3, rgbd_size=(160, 120),
                           photo_size=(320, 240))
    slices = write_slices(sample.rgbd, tmp_path_factory.mktemp("captures"), count=3, frames=FRAMES,
                          overlap=OVERLAP)
    for capture, session in zip(slices, SESSION_FRAMES):  # each session has its own world origin
        log = capture / "device_trajectory.log"
        write_trajectory_log(log, [session @ pose for pose in read_trajectory_log(log)])
    out = tmp_path_factory.mktemp("scans")
    text = io.StringIO()
    with redirect_stdout(text):
        code = main(["batch", *map(str, slices), "-o", str(out), "--workers", "2", "--merge", "--json"])
    return code, json.loads(text.getvalue()), out


def _camera_poses(scan: Path) -> dict[str, np.ndarray]:
    return {camera.name: camera.T_world_camera for camera in read_cameras_json(scan / "cameras.json")}


def test_the_slices_are_placed_as_their_shared_frames_say(site_run):
    code, report, out = site_run
    assert code == 0 and [job["status"] for job in report["jobs"]] == ["done"] * 3
    site = report["site"]
    assert all(scan["placed"] for scan in site["scans"]) and site["scans"][0]["residual_m"] is None
    assert all(scan["residual_m"] < 0.05 for scan in site["scans"][1:]), "within the 5 cm registration voxel"
    cameras = [_camera_poses(Path(job["output"])) for job in report["jobs"]]
    errors = []
    for k in (1, 2):
        # The frames slice k shares with slice k-1 were reconstructed in both: through them, the
        # truth of where scan k sits in scan 0's frame (each scan's own camera error aside).
        T_0_km1 = np.array(site["scans"][k - 1]["T_first_scan"])
        T_0_k = np.array(site["scans"][k]["T_first_scan"])
        shared = sorted(cameras[k].keys() & cameras[k - 1].keys())
        assert len(shared) == OVERLAP
        for name in shared:
            expected = T_0_km1 @ cameras[k - 1][name]
            got = T_0_k @ cameras[k][name]
            errors.append(np.linalg.norm(got[:3, 3] - expected[:3, 3]))
    print(f"site placement: camera positions through shared frames agree within {max(errors):.3f} m")
    assert max(errors) < 0.05


def test_the_site_cloud_is_merged_and_de_duplicated(site_run):
    _, report, out = site_run
    site_cloud, _ = read_cloud(out / "site" / "cloud.ply")
    scans = [read_cloud(Path(job["output"]) / "cloud.ply")[0] for job in report["jobs"]]
    assert len(site_cloud) == report["site"]["points"]
    assert len(scans[0]) + 0.1 * len(scans[2]) < len(site_cloud) < sum(len(s) for s in scans) - 0.2 * len(scans[1]), \
        "every scan adds what only it saw, the overlaps once"
    assert json.loads((out / "site" / "site.json").read_text())["scans"] == report["site"]["scans"]


def test_candidate_pairs_are_the_next_capture_and_the_most_alike_not_every_pair():
    signatures = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.95, 0.05], [0, 0, 1], [0.05, 0, 0.95],
                           [1, 0, 0.01], [0.5, 0.5, 0]], float)
    pairs = candidate_pairs(signatures, neighbours=1)
    assert {(k, k + 1) for k in range(7)} <= set(pairs) and (0, 6) in pairs
    assert len(pairs) < 8 * 7 // 2
    assert candidate_pairs(signatures[:3], neighbours=1) == [(0, 1), (0, 2), (1, 2)], "few scans: every pair"


def test_markers_of_all_scans_are_put_in_the_first_ones_frame_one_anchor_each(tmp_path):
    from twin.batch.site import _site_markers
    from twin.scanfolder.anchors import marker_anchor, read_scan_markers, write_anchors_json

    T_world_marker = pose_matrix([2.0, 1.0, 1.2], [0.0, 0.0, 0.7071068, 0.7071068])
    T_0_1 = SESSION_FRAMES[1]
    scans = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for scan in scans:
        scan.mkdir()
    seen_in_b = np.linalg.inv(T_0_1) @ T_world_marker
    seen_in_b[:3, 3] += [0.01, 0.0, 0.0]  # measured 1 cm off in the second scan
    write_anchors_json(scans[0] / "anchors.json", [marker_anchor("DICT_4X4_50:7", T_world_marker, 0.16)])
    write_anchors_json(scans[1] / "anchors.json", [marker_anchor("DICT_4X4_50:7", seen_in_b, 0.16),
                                                  marker_anchor("DICT_4X4_50:9", seen_in_b, 0.16)])
    write_anchors_json(scans[2] / "anchors.json", [marker_anchor("DICT_4X4_50:3", T_world_marker, 0.16)])
    write_anchors_json(tmp_path / "site.json", _site_markers(scans, [np.eye(4), T_0_1, None]))  # c not placed
    site = {m.marker.key: m.pose.matrix() for m in read_scan_markers(tmp_path / "site.json")}
    assert sorted(site) == ["DICT_4X4_50:7", "DICT_4X4_50:9"], "one anchor per marker, none from an unplaced scan"
    shift = T_0_1[:3, :3] @ [0.005, 0.0, 0.0]  # the mean of the two sightings
    assert np.allclose(site["DICT_4X4_50:7"][:3, 3], T_world_marker[:3, 3] + shift, atol=1e-6)
    assert np.allclose(site["DICT_4X4_50:9"], T_0_1 @ seen_in_b, atol=1e-6)
