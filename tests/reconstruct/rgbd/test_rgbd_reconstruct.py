"""RGB-D reconstruction end to end: synthetic captures with exact poses, bad frames, reruns, the
command line, and a slice of the real livingroom1_micro capture against Open3D's trajectory."""
from __future__ import annotations

import json

import cv2
import numpy as np
import open3d as o3d
import pytest
from capture_writers import write_open3d_folder, write_record3d
from rgbd_scene import ROOM_SIZE_M, render, walk

from twin.capture import open_capture
from twin.capture.capture import Capture
from twin.capture.trajectory_log import read_trajectory_log, write_trajectory_log
from twin.cli import main
from twin.reconstruct import reconstruct
from twin.reconstruct.rgbd.evaluation import ate_rmse
from twin.reconstruct.result import StageTiming
from twin.reconstruct.rgbd.pipeline import RgbdOptions, RgbdResult, reconstruct_rgbd
from twin.scanfolder import read_cameras_json, write_json

FAST = {"voxel_size_m": 0.03, "fragment_frames": 12}


@pytest.fixture(scope="module")
def frames():
    return render(walk(30), 160, 120)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, frames):
    """A capture without device poses, reconstructed once for the tests that only read outputs."""
    root = write_open3d_folder(tmp_path_factory.mktemp("cap") / "room", frames, with_poses=False)
    out = tmp_path_factory.mktemp("scan")
    result = reconstruct(root, out, **FAST)
    return root, out, result


def _poses(out):
    return [camera.T_world_camera for camera in read_cameras_json(out / "cameras.json")]


def test_synthetic_room_is_tracked_to_millimetres_with_frame_zero_as_world(scanned, frames):
    _, out, result = scanned
    poses = _poses(out)
    assert len(poses) == len(frames) and result.frames.dropped == 0
    np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-9)
    truth = [np.linalg.inv(frames[0].T_world_camera) @ f.T_world_camera for f in frames]
    assert ate_rmse(poses, truth) < 0.005
    # Not only up to a rigid motion: the first camera fixes the frame, so the last pose matches too.
    assert np.linalg.norm(poses[-1][:3, 3] - truth[-1][:3, 3]) < 0.01


def test_outputs_are_a_coloured_mesh_and_cloud_on_the_room_surfaces(scanned, frames):
    _, out, result = scanned
    mesh = o3d.io.read_triangle_mesh(str(out / "mesh.ply"))
    cloud = o3d.io.read_point_cloud(str(out / "cloud.ply"))
    assert len(mesh.triangles) > 1000 and mesh.has_vertex_colors()
    assert len(cloud.points) > 1000 and cloud.has_colors()
    # In the room frame every mesh vertex lies within the room box (up to the voxel size).
    vertices = (np.asarray(mesh.vertices) @ frames[0].T_world_camera[:3, :3].T) + frames[0].T_world_camera[:3, 3]
    assert vertices.min() > -0.05 and np.all(vertices.max(axis=0) < np.array(ROOM_SIZE_M) + 0.05)
    cameras = json.loads((out / "cameras.json").read_text())["frames"]
    assert set(cameras[0]) == {"name", "K", "width", "height", "T_world_camera"}
    assert cameras[0]["width"] == 160 and np.array(cameras[0]["K"]).shape == (3, 3)
    assert set(result.stages) == {"track", "poses", "integrate", "markers"}
    assert json.loads((out / "report.json").read_text())["frames"]["used"] == len(frames)


def test_the_result_is_typed_and_report_json_is_its_report(scanned, frames, tmp_path):
    _, out, result = scanned
    assert isinstance(result, RgbdResult)
    write_json(tmp_path / "again.json", result.as_report())
    assert (out / "report.json").read_text() == (tmp_path / "again.json").read_text()
    assert result.options == RgbdOptions(**FAST) and result.world_frame == "first camera" and result.drift is None
    assert result.capture.frames == len(frames) and not result.capture.device_poses
    assert result.frames.used == len(frames) and result.frames.dropped_frames == ()
    assert result.tracking.keyframes >= 1 and 0 < result.tracking.mean_fitness <= 1
    assert list(result.stages) == ["track", "poses", "integrate", "markers"]
    assert all(isinstance(t, StageTiming) and t.seconds >= 0 for t in result.stages.values())
    assert result.seconds_all_stages >= result.seconds_this_run >= 0
    assert result.markers.found == () and result.markers.frames_searched > 0
    loops = result.loop_closure   # 30 frames in fragments of 12: three fragments, one loop to try
    assert loops.enabled and loops.reason is None and loops.fragments == 3 and loops.accepted <= loops.candidates


def test_rerun_reuses_finished_stages_and_a_new_voxel_size_only_refuses(scanned):
    root, out, _ = scanned
    mesh_before = (out / "mesh.ply").stat().st_mtime_ns
    result = reconstruct(root, out, **FAST)
    assert all(stage.reused for stage in result.stages.values()) and result.seconds_this_run == 0
    assert (out / "mesh.ply").stat().st_mtime_ns == mesh_before
    result = reconstruct(root, out, **{**FAST, "voxel_size_m": 0.04})
    assert result.stages["track"].reused and not result.stages["integrate"].reused


def test_bad_frames_are_dropped_with_reasons_and_the_run_goes_on(tmp_path, frames):
    root = write_open3d_folder(tmp_path / "cap", frames[:16], with_poses=False)
    cv2.imwrite(str(root / "depth" / "00003.png"), np.zeros((120, 160), np.uint16))
    (root / "depth" / "00005.png").unlink()
    cv2.imwrite(str(root / "depth" / "00007.png"), np.zeros((60, 80), np.uint16) + 1500)
    (root / "image" / "00009.png").write_bytes(b"truncated")
    result = reconstruct(root, tmp_path / "scan", **FAST)
    dropped = {item.name: item.reason for item in result.frames.dropped_frames}
    assert set(dropped) == {"00003", "00005", "00007", "00009"}
    assert "all zero" in dropped["00003"] and "no depth image" in dropped["00005"]
    assert "80x60" in dropped["00007"] and "cannot read colour" in dropped["00009"]
    assert result.frames.used == 12 and result.frames.dropped == 4
    assert sum(result.frames.dropped_by_reason.values()) == 4
    assert len(read_cameras_json(tmp_path / "scan" / "cameras.json")) == 12


def test_device_poses_set_the_world_frame_and_tracking_removes_their_drift(tmp_path, frames):
    root = write_open3d_folder(tmp_path / "cap", frames, with_poses=False)
    drifting = []
    for i, frame in enumerate(frames):
        drift = np.eye(4)
        drift[:3, 3] = [0.004 * i, -0.002 * i, 0.001 * i]   # 4.5 mm per frame, 13 cm at the end
        drifting.append(drift @ frame.T_world_camera)
    write_trajectory_log(root / "device_trajectory.log", drifting)
    result = reconstruct(root, tmp_path / "scan", **FAST)
    poses = _poses(tmp_path / "scan")
    np.testing.assert_allclose(poses[0], frames[0].T_world_camera, atol=1e-9)
    errors = [np.linalg.norm(p[:3, 3] - f.T_world_camera[:3, 3]) for p, f in zip(poses, frames)]
    assert max(errors) < 0.01
    assert result.world_frame == "device" and result.capture.device_poses
    assert result.drift is not None and result.drift.last_frame_m > 0.1


def test_record3d_capture_end_to_end_in_the_room_frame(tmp_path, frames):
    path = write_record3d(tmp_path / "scan.r3d", frames[:12])
    result = reconstruct(path, tmp_path / "scan", **FAST)
    assert result.capture.kind == "record3d" and result.frames.used == 12
    poses = _poses(tmp_path / "scan")
    errors = [np.linalg.norm(p[:3, 3] - f.T_world_camera[:3, 3]) for p, f in zip(poses, frames)]
    assert max(errors) < 0.01


def test_unknown_options_and_empty_captures_are_clear_errors(tmp_path, frames):
    root = write_open3d_folder(tmp_path / "cap", frames[:3], with_poses=False)
    with pytest.raises(ValueError, match="unknown RGB-D option"):
        reconstruct(root, tmp_path / "scan", voxel=0.01)
    with pytest.raises(ValueError, match="must be positive"):
        reconstruct(root, tmp_path / "scan", voxel_size_m=0)
    for path in (root / "depth").iterdir():
        cv2.imwrite(str(path), np.zeros((120, 160), np.uint16))
    with pytest.raises(ValueError, match="no frame .* could be used"):
        reconstruct(root, tmp_path / "scan")
    assert not (tmp_path / "scan" / "cameras.json").exists()


def test_command_line_reconstructs_and_reports(tmp_path, frames, capsys):
    root = write_open3d_folder(tmp_path / "cap", frames[:10], with_poses=False)
    assert main(["reconstruct", str(root), "-o", str(tmp_path / "scan"), "--voxel-size", "0.04"]) == 0
    printed = capsys.readouterr().out
    assert "frames used: 10" in printed and "mesh.ply" in printed
    assert "printed markers found: none" in printed and (tmp_path / "scan" / "anchors.json").is_file()
    assert main(["reconstruct", str(root), "-o", str(tmp_path / "scan"), "--marker-frames", "1"]) == 2
    assert "marker_frames must be at least 2" in capsys.readouterr().err
    assert main(["reconstruct", str(root), "-o", str(tmp_path / "scan"), "--marker-dictionaries", "DICT_NOPE"]) == 2
    assert "unknown marker dictionary" in capsys.readouterr().err
    assert main(["reconstruct", str(tmp_path / "scan"), "-o", str(tmp_path / "x")]) == 2
    assert "expected a Record3D" in capsys.readouterr().err


@pytest.mark.data
def test_livingroom_slice_follows_open3d_reference(shared_data, tmp_path):
    root = shared_data / "rgbd" / "livingroom1_micro"
    capture = open_capture(root)
    first = Capture(capture.kind, capture.path, capture.frames[:40])
    result = reconstruct_rgbd(first, tmp_path / "scan", voxel_size_m=0.03, fragment_frames=20)
    reference = read_trajectory_log(root / "open3d_reference_trajectory.log")[:40]
    assert result.frames.used == 40
    assert ate_rmse(_poses(tmp_path / "scan"), reference) < 0.03
