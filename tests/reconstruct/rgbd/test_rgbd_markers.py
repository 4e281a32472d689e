"""Markers in RGB-D reconstructions: found in the colour frames, triangulated at the tracked poses and
fitted as squares, written as anchors.json; checked against the sample workshop's printed markers."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from export_fixtures import SAMPLE_DOCUMENT

from twin.camera import Camera
from twin.capture import open_capture
from twin.capture.trajectory_log import read_trajectory_log
from twin.export import export_scan
from twin.markers.detection import Marker, marker_pose, triangulate_markers
from twin.reconstruct.rgbd.markers import find_capture_markers, frames_to_search, settle_on_surface
from twin.reconstruct.rgbd.pipeline import RgbdOptions, reconstruct_rgbd
from twin.scanfolder import read_cameras_json, read_scan_markers

FRAMES = 60  # the walk's first 60 frames see markers 0, 2, 3 and 4 (1 hides beside the CNC mill)
SIDE_M = 0.16


def rotation_error_deg(R_a: np.ndarray, R_b: np.ndarray) -> float:
    return math.degrees(math.acos(np.clip((np.trace(R_a.T @ R_b) - 1) / 2, -1.0, 1.0)))


def look_at(eye, target) -> np.ndarray:
    """T_world_camera (OpenCV axes) at `eye` looking at `target`, z up in the world."""
    forward = np.subtract(target, eye) / np.linalg.norm(np.subtract(target, eye))
    right = np.cross(forward, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    T = np.eye(4)
    T[:3, :3] = np.column_stack([right, np.cross(forward, right), forward])
    T[:3, 3] = eye
    return T


# --- the square fit on exact geometry ---------------------------------------------------------

def test_triangulated_marker_is_a_square_in_place():
    # A 16 cm marker on a wall about 2 m away, seen from three places along a walk past it. Its corners
    # are found a little inside the black square (as OpenCV's are: the sample's markers come out 1 %
    # small) and with noise. (On the sample's real detections the square fit is what keeps the tilt
    # within 1.5 deg, see test_markers_stage_on_true_poses_is_millimetre_accurate.)
    T_world_marker = np.eye(4)
    T_world_marker[:3, :3] = [[1, 0, 0], [0, 0, -1], [0, 1, 0]]  # on a wall facing -y
    T_world_marker[:3, 3] = [1.0, 3.0, 1.5]
    h = SIDE_M / 2
    corners = (T_world_marker @ np.array([[-h, h, 0, 1], [h, h, 0, 1], [h, -h, 0, 1], [-h, -h, 0, 1]]).T).T[:, :3]
    K = np.array([[525.0, 0, 319.5], [0, 525.0, 239.5], [0, 0, 1]])
    cameras = [Camera.from_K(K, 640, 480, name=str(i), T_world_camera=look_at([0.3 + 0.7 * i, 1.2, 1.4], [1.0, 3.0, 1.5]))
               for i in range(3)]
    rng = np.random.default_rng(4)
    tilts = []
    for _ in range(10):
        detections = []
        for camera in cameras:
            cam = (np.linalg.inv(camera.T_world_camera) @ np.c_[corners, np.ones(4)].T).T[:, :3]
            pixels = (cam @ K.T)[:, :2] / cam[:, 2:]
            inward = 0.4 * (pixels.mean(0) - pixels) / np.linalg.norm(pixels.mean(0) - pixels, axis=1, keepdims=True)
            detections.append({"DICT_4X4_50:3": pixels + inward + rng.normal(0, 0.1, pixels.shape)})
        [marker] = triangulate_markers(cameras, detections)
        T = marker_pose(marker)
        assert np.linalg.norm(T[:3, 3] - T_world_marker[:3, 3]) < 0.005
        assert marker.side == pytest.approx(SIDE_M, rel=0.03)
        assert marker.reprojection_px < 1.0
        tilts.append(rotation_error_deg(T[:3, :3], T_world_marker[:3, :3]))
    assert max(tilts) < 1.0, tilts


def test_marker_settles_onto_the_surface_behind_it():
    # A marker triangulated 3 cm in front of its wall (the plane y = 3), a little tilted.
    h = SIDE_M / 2
    tilt = np.radians(2)
    R = np.array([[1, 0, 0], [0, np.sin(tilt), -np.cos(tilt)], [0, np.cos(tilt), np.sin(tilt)]])
    centre = np.array([1.0, 2.97, 1.5])
    corners = centre + np.array([[-h, h, 0], [h, h, 0], [h, -h, 0], [-h, -h, 0]]) @ R.T
    marker = Marker("DICT_4X4_50:3", corners, 5, 0.2)
    rng = np.random.default_rng(0)
    wall = np.column_stack([rng.uniform(0, 2, 20000), 3 + rng.normal(0, 0.002, 20000), rng.uniform(1, 2, 20000)])
    settled = settle_on_surface(marker, wall)
    assert settled.centre[1] == pytest.approx(3.0, abs=0.002)
    np.testing.assert_allclose(marker_pose(settled)[:3, :3], marker_pose(marker)[:3, :3], atol=1e-9)  # only moved
    assert settled.side == pytest.approx(marker.side) and settled.views == 5
    # No surface within reach (a wall 30 cm behind, or nothing): left where triangulation put it.
    assert settle_on_surface(marker, wall + [0, 0.3, 0]) is marker
    assert settle_on_surface(marker, np.zeros((0, 3))) is marker


def test_frames_to_search_spread_over_the_walk():
    cameras = [Camera(1.0, 1.0, 0.0, 0.0, 1, 1, np.eye(4), name=str(i)) for i in range(100)]
    picked = [int(c.name) for c in frames_to_search(cameras, 5)]
    assert picked == [0, 25, 50, 74, 99]
    assert len(frames_to_search(cameras, 500)) == 100
    with pytest.raises(ValueError, match="at least 2"):
        frames_to_search(cameras, 1)


@pytest.mark.parametrize("options, words", [
    ({"marker_frames": 1}, "marker_frames must be at least 2"),
    ({"marker_dictionaries": ("DICT_4X4_50", "DICT_9X9_7")}, "unknown marker dictionary DICT_9X9_7"),
])
def test_bad_marker_options_are_clear_errors(options, words):
    with pytest.raises(ValueError, match=words):
        RgbdOptions.from_kwargs(**options)


def test_one_dictionary_may_be_named_alone():
    assert RgbdOptions.from_kwargs(marker_dictionaries="DICT_4X4_50").marker_dictionaries == ("DICT_4X4_50",)


# --- the sample workshop ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from twin.synth import render_sample

    return render_sample(tmp_path_factory.mktemp("sample"), frames=FRAMES, photos=3)


@pytest.fixture(scope="module")
def truth(sample) -> dict[str, np.ndarray]:
    """Marker key -> true T_world_marker (OpenCV marker axes), from the printed corners."""
    markers = json.loads(sample.markers.read_text())["markers"]
    return {m["key"]: marker_pose(Marker(m["key"], np.array(m["corners_m"]), 0, 0.0)) for m in markers}


@pytest.fixture(scope="module")
def scan(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan") / "sample_workshop"
    result = reconstruct_rgbd(open_capture(sample.rgbd), out)
    return out, result


def test_markers_stage_on_true_poses_is_millimetre_accurate(sample, truth):
    # The stage's own accuracy: the sample's true camera poses, the rendered colour frames.
    capture = open_capture(sample.rgbd)
    poses = read_trajectory_log(sample.trajectory)
    cameras = [f.camera.with_pose(T, name=f.name) for f, T in zip(capture.frames, poses)]
    markers, searched = find_capture_markers(capture, cameras, ("DICT_4X4_50",), 120, lambda done, total: None)
    assert searched == FRAMES
    assert {m.key for m in markers} == {"DICT_4X4_50:0", "DICT_4X4_50:2", "DICT_4X4_50:3", "DICT_4X4_50:4"}
    for marker in markers:
        T = marker_pose(marker)
        assert np.linalg.norm(T[:3, 3] - truth[marker.key][:3, 3]) < 0.01, marker.key
        assert rotation_error_deg(T[:3, :3], truth[marker.key][:3, :3]) < 1.5, marker.key
        assert marker.side == pytest.approx(SIDE_M, rel=0.02), marker.key


def test_reconstruction_writes_the_sample_markers_as_anchors(scan, sample, truth):
    out, result = scan
    markers = read_scan_markers(out / "anchors.json")  # the format twin export reads
    assert {m.marker.key for m in markers} == {"DICT_4X4_50:0", "DICT_4X4_50:2", "DICT_4X4_50:3", "DICT_4X4_50:4"}
    # The tracked poses themselves are 1-3 cm from the truth (the twin's frame is the reconstruction's),
    # and the markers inherit that: 1-3 cm from their printed places (0.1-0.2 cm on true poses).
    capture = open_capture(sample.rgbd)
    true_poses = dict(zip((f.name for f in capture.frames), read_trajectory_log(sample.trajectory)))
    pose_errors = [np.linalg.norm(c.T_world_camera[:3, 3] - true_poses[c.name][:3, 3])
                   for c in read_cameras_json(out / "cameras.json")]
    assert max(pose_errors) < 0.04
    for scan_marker in markers:
        T, T_true = scan_marker.pose.matrix(), truth[scan_marker.marker.key]
        assert np.linalg.norm(T[:3, 3] - T_true[:3, 3]) < 0.04, scan_marker.marker.key
        assert rotation_error_deg(T[:3, :3], T_true[:3, :3]) < 3.0, scan_marker.marker.key
        assert scan_marker.marker.size_m == pytest.approx(SIDE_M, rel=0.03), scan_marker.marker.key
    assert result.markers.frames_searched == FRAMES
    assert {m.key for m in result.markers.found} == {m.marker.key for m in markers}
    assert set(result.stages) == {"track", "poses", "integrate", "markers"}


def test_new_marker_settings_rerun_only_the_markers_stage(scan, sample):
    out, _ = scan
    result = reconstruct_rgbd(open_capture(sample.rgbd), out, marker_frames=20)
    assert [name for name, stage in result.stages.items() if not stage.reused] == ["markers"]
    assert result.markers.frames_searched == 20
    result = reconstruct_rgbd(open_capture(sample.rgbd), out)
    assert result.markers.frames_searched == FRAMES


def test_exported_sample_twin_has_the_measured_marker_anchors(scan):
    out, _ = scan
    result = export_scan(out, SAMPLE_DOCUMENT, glb_cloud_points=10_000)
    assert result.marker_anchors == 4
    anchors = {a["id"]: a for a in json.loads((out / "twin.json").read_text())["anchors"]}
    for marker_id in (0, 2, 3, 4):
        anchor = anchors[f"marker-{marker_id}"]
        assert anchor["marker"]["dictionary"] == "DICT_4X4_50" and anchor["marker"]["id"] == marker_id
        assert len(anchor["rotation"]) == 4 and "machine" not in anchor
