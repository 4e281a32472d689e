"""`twin register`: outputs, help and exit code 2 with a message for every bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import open3d as o3d
import pytest
from scipy.spatial.transform import Rotation

from twin.cli import main


def write_cloud(path, points):
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    assert o3d.io.write_point_cloud(str(path), cloud)
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A room corner with a box, and the same samples moved by a known transform."""
    rng = np.random.default_rng(0)
    n = 6000
    u = rng.uniform(0, 1, size=(n, 2))
    part = rng.integers(0, 4, size=n)[:, None]
    target = np.select([part == 0, part == 1, part == 2, part == 3], [
        np.c_[4 * u[:, 0], 3 * u[:, 1], np.zeros(n)], np.c_[np.zeros(n), 3 * u[:, 0], 2.5 * u[:, 1]],
        np.c_[4 * u[:, 0], np.zeros(n), 2.5 * u[:, 1]], np.c_[1.5 + 0.8 * u[:, 0], 1 + 0.6 * u[:, 1], np.full(n, 0.7)]])
    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler("xyz", [1, -2, 3], degrees=True).as_matrix()
    T[:3, 3] = [0.05, -0.03, 0.02]
    source = (target - T[:3, 3]) @ T[:3, :3]
    folder = tmp_path_factory.mktemp("clouds")
    return write_cloud(folder / "source.pcd", source), write_cloud(folder / "target.ply", target), T


def run_json(capsys, *args) -> dict:
    assert main(["register", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("method", ["point_to_point", "point_to_plane", "gicp"])
def test_json_output_recovers_the_transform(capsys, pair, method):
    source, target, T = pair
    out = run_json(capsys, source, target, "--method", method, "--voxel-size", "0.05", "--max-distance", "0.3")
    assert set(out) == {"T_target_source", "fitness", "inlier_rmse", "iterations", "converged", "seconds"}
    np.testing.assert_allclose(out["T_target_source"], T, atol=2e-3)
    assert out["converged"] is True and out["fitness"] > 0.95 and out["seconds"] > 0


def test_text_output_and_init_file(capsys, pair, tmp_path):
    source, target, T = pair
    init = tmp_path / "init.txt"
    np.savetxt(init, T)
    assert main(["register", str(source), str(target), "--init", str(init), "--voxel-size", "0.05",
                 "--robust-kernel", "cauchy", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "T_target_source =" in out and "fitness" in out and "converged: yes" in out


def test_xyz_and_pts_files_are_read(capsys, pair, tmp_path):
    source, target, T = pair
    points = np.asarray(o3d.io.read_point_cloud(str(source)).points)
    np.savetxt(tmp_path / "source.xyz", points)
    write_cloud(tmp_path / "source.pts", points)
    for name in ("source.xyz", "source.pts"):
        out = run_json(capsys, tmp_path / name, target, "--voxel-size", "0.05", "--max-distance", "0.3")
        np.testing.assert_allclose(out["T_target_source"], T, atol=2e-3)


def expect_error(capsys, args, message):
    assert main(["register", *map(str, args)]) == 2
    err = capsys.readouterr().err
    assert "twin register: error:" in err and message in err, err


def test_bad_files_exit_with_code_2(capsys, pair, tmp_path):
    source, target, _ = pair
    expect_error(capsys, [tmp_path / "missing.ply", target], "no such file")
    (tmp_path / "notes.txt").write_text("hello")
    expect_error(capsys, [source, tmp_path / "notes.txt"], "expected a point cloud file")
    (tmp_path / "broken.ply").write_text("this is not a ply file")
    expect_error(capsys, [source, tmp_path / "broken.ply"], "not a PLY file")
    (tmp_path / "empty.ply").write_text("ply\nformat ascii 1.0\nelement vertex 0\n"
                                        "property float x\nproperty float y\nproperty float z\nend_header\n")
    expect_error(capsys, [tmp_path / "empty.ply", target], "no points in it")


def test_bad_init_files_exit_with_code_2(capsys, pair, tmp_path):
    source, target, _ = pair
    expect_error(capsys, [source, target, "--init", tmp_path / "nowhere.txt"], "cannot read the initial transform")
    np.savetxt(tmp_path / "three.txt", np.eye(3))
    expect_error(capsys, [source, target, "--init", tmp_path / "three.txt"], "4 lines of 4 numbers")
    np.savetxt(tmp_path / "scaled.txt", np.diag([2.0, 2, 2, 1]))
    expect_error(capsys, [source, target, "--init", tmp_path / "scaled.txt"], "not a rigid transform")
    (tmp_path / "words.txt").write_text("a b c d\n" * 4)
    expect_error(capsys, [source, target, "--init", tmp_path / "words.txt"], "cannot read the initial transform")


@pytest.mark.parametrize("option, value, message", [
    ("--voxel-size", "0", "voxel_size must be a positive number"),
    ("--voxel-size", "-0.1", "voxel_size must be a positive number"),
    ("--max-distance", "0", "max_correspondence_distance must be a positive number"),
    ("--max-distance", "-1", "max_correspondence_distance must be a positive number"),
    ("--max-iterations", "0", "max_iterations must be a positive integer"),
    ("--kernel-scale", "-1", "kernel_scale must be a positive number"),
])
def test_bad_numbers_exit_with_code_2(capsys, pair, option, value, message):
    source, target, _ = pair
    args = [source, target, option, value] + (["--robust-kernel", "huber"] if option == "--kernel-scale" else [])
    expect_error(capsys, args, message)


def test_voxel_too_large_for_the_cloud_exits_with_code_2(capsys, pair):
    source, target, _ = pair
    expect_error(capsys, [source, target, "--voxel-size", "100"], "points after downsampling")


def test_help_teaches_with_an_example():
    run = lambda *args: subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True)  # noqa: E731
    top = run("--help")
    assert top.returncode == 0 and "register" in top.stdout
    sub = run("register", "--help")
    assert sub.returncode == 0
    for text in ("twin register scan2.ply scan1.ply", "--method", "--voxel-size", "--max-distance", "--init", "--json"):
        assert text in sub.stdout
    bad = run("register", "only-one.ply")
    assert bad.returncode == 2


@pytest.mark.data
def test_kitti_pair_from_the_command_line(capsys, shared_data):
    folder = shared_data / "registration/kitti_pair"
    out = run_json(capsys, folder / "source.ply", folder / "target.ply", "--method", "gicp",
                   "--voxel-size", "0.25", "--max-distance", "1.0")
    D = np.linalg.inv(np.loadtxt(folder / "T_target_source.txt")) @ np.array(out["T_target_source"])
    assert np.degrees(Rotation.from_matrix(D[:3, :3]).magnitude()) < 0.5
    assert np.linalg.norm(D[:3, 3]) < 0.05
