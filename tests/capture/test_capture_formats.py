"""Each capture reader on a small capture written in its real format at test time (frames ray-cast
from a synthetic room with exact poses), plus detection and the bad-input errors."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from capture_writers import (HEIGHT, WIDTH, _bgr, write_nerfstudio, write_open3d_folder, write_record3d,
                             write_stray_scanner, write_tum_folder)
from rgbd_scene import intrinsics, render, walk

from twin.camera import checked_intrinsics
from twin.capture import detect, open_capture
from twin.capture.trajectory_log import write_trajectory_log


@pytest.fixture(scope="module")
def frames():
    return render(walk(4), WIDTH, HEIGHT)


def _check_frames(capture, frames, *, color_tolerance, poses=True):
    assert len(capture) == len(frames)
    for frame, truth in zip(capture.frames, frames):
        assert frame.camera.size == (WIDTH, HEIGHT)
        np.testing.assert_allclose(frame.camera.K, intrinsics(WIDTH, HEIGHT), atol=1e-6)
        data = frame.load()
        assert data.color.shape == (HEIGHT, WIDTH, 3) and data.color.dtype == np.uint8
        assert data.depth_m.dtype == np.float32
        np.testing.assert_allclose(data.depth_m, truth.depth_m, atol=1e-3)
        assert np.mean(np.abs(data.color.astype(float) - truth.color)) < color_tolerance
        if poses:
            np.testing.assert_allclose(frame.camera.T_world_camera, truth.T_world_camera, atol=1e-5)
        else:
            assert frame.camera.T_world_camera is None


def test_open3d_folder_picks_up_intrinsics_and_device_poses(tmp_path, frames):
    root = write_open3d_folder(tmp_path / "cap", frames)
    assert detect(root) == "open3d"
    capture = open_capture(root)
    assert capture.kind == "open3d" and capture.has_device_poses
    _check_frames(capture, frames, color_tolerance=0.5)


def test_open3d_folder_with_color_folder_and_intrinsics_from_flags(tmp_path, frames):
    root = write_open3d_folder(tmp_path / "cap", frames, with_poses=False, color_folder="color")
    (root / "intrinsic.json").unlink()
    with pytest.raises(ValueError, match="intrinsic"):
        open_capture(root)
    K = intrinsics(WIDTH, HEIGHT)
    capture = open_capture(root, intrinsics=(K[0, 0], K[1, 1], K[0, 2], K[1, 2]))
    assert not capture.has_device_poses
    _check_frames(capture, frames, color_tolerance=0.5, poses=False)


def test_tum_folder_associates_by_time_and_uses_its_depth_scale(tmp_path, frames):
    root = write_tum_folder(tmp_path / "tum", frames)
    K = intrinsics(WIDTH, HEIGHT)
    (root / "intrinsic.json").write_text(json.dumps(
        {"width": WIDTH, "height": HEIGHT, "intrinsic_matrix": K.T.flatten().tolist()}))
    assert detect(root) == "tum"
    capture = open_capture(root)
    assert capture.kind == "tum"
    _check_frames(capture, frames, color_tolerance=0.5, poses=False)


def test_stray_scanner_export(tmp_path, frames):
    root = write_stray_scanner(tmp_path / "stray", frames)
    assert detect(root) == "stray_scanner"
    capture = open_capture(root)
    assert capture.kind == "stray_scanner"
    _check_frames(capture, frames, color_tolerance=12.0)   # mp4 is lossy
    confidence = capture.frames[0].load().confidence
    assert confidence is not None and confidence[:, 0].max() == 0 and confidence[:, -1].min() == 2


def test_record3d_export(tmp_path, frames):
    path = write_record3d(tmp_path / "scan.r3d", frames)
    assert detect(path) == "record3d"
    capture = open_capture(path)
    assert capture.kind == "record3d"
    _check_frames(capture, frames, color_tolerance=8.0)
    confidence = capture.frames[1].load().confidence
    assert confidence.shape == (HEIGHT, WIDTH) and confidence[0, 0] == 1 and confidence[-1, 0] == 2


def test_nerfstudio_transforms_with_depth(tmp_path, frames):
    root = write_nerfstudio(tmp_path / "ns", frames)
    assert detect(root) == "nerfstudio" and detect(root / "transforms.json") == "nerfstudio"
    capture = open_capture(root)
    assert capture.kind == "nerfstudio"
    _check_frames(capture, frames, color_tolerance=0.5)


def test_detect_names_what_it_expected_for_an_unknown_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("not a capture")
    with pytest.raises(ValueError, match="expected a Record3D .r3d file"):
        detect(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        detect(tmp_path / "missing")


def test_a_folder_of_photos_is_detected_as_photos_and_is_no_rgbd_capture(tmp_path, frames):
    cv2.imwrite(str(tmp_path / "a.jpg"), _bgr(frames[0].color))
    assert detect(tmp_path) == "photos"
    with pytest.raises(ValueError, match="photo pipeline"):
        open_capture(tmp_path)


def test_missing_and_mismatched_frames_fail_on_load_with_the_reason(tmp_path, frames):
    root = write_open3d_folder(tmp_path / "cap", frames)
    (root / "depth" / "00001.png").unlink()
    cv2.imwrite(str(root / "image" / "00002.png"), np.zeros((60, 80, 3), np.uint8))
    (root / "device_trajectory.log").unlink()
    capture = open_capture(root)
    assert len(capture) == 4
    with pytest.raises(ValueError, match="no depth image"):
        capture.frames[1].load()
    with pytest.raises(ValueError, match="same size"):
        capture.frames[2].load()
    capture.frames[3].load()


def test_bad_intrinsics_and_trajectories_are_clear_errors(tmp_path, frames):
    root = write_open3d_folder(tmp_path / "cap", frames)
    write_trajectory_log(root / "device_trajectory.log", [frames[0].T_world_camera])
    with pytest.raises(ValueError, match="1 poses but the capture has 4 frames"):
        open_capture(root)
    (root / "device_trajectory.log").unlink()
    (root / "intrinsic.json").write_text("{not json")
    with pytest.raises(ValueError, match="PinholeCameraIntrinsic"):
        open_capture(root)
    with pytest.raises(ValueError, match="focal lengths must be positive"):
        checked_intrinsics(0.0, 100.0, 50.0, 50.0)


def test_a_corrupt_record3d_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.r3d"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="zip archive"):
        open_capture(path)


def test_a_scaled_pose_is_refused_and_file_rounding_is_cleaned(tmp_path, frames):
    root = write_nerfstudio(tmp_path / "ns", frames[:2])
    data = json.loads((root / "transforms.json").read_text())
    data["frames"][1]["transform_matrix"] = (np.diag([2.0, 2.0, 2.0, 1.0]) @ np.array(
        data["frames"][1]["transform_matrix"])).tolist()
    (root / "transforms.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="not a rigid transform"):
        open_capture(root)
    root = write_open3d_folder(tmp_path / "cap", frames)   # .log files keep 8 decimals
    for frame in open_capture(root).frames:
        R = frame.camera.T_world_camera[:3, :3]
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
