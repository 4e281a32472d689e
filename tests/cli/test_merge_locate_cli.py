"""`twin merge` and `twin locate` end to end on real kitchen geometry moved by known motions."""
from __future__ import annotations

import json

import numpy as np
import open3d as o3d
import pytest
from global_registration_trials import pose_errors, random_rigid

from twin.cli import main

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def kitchen(shared_data) -> np.ndarray:
    cloud = o3d.io.read_point_cloud(str(shared_data / "registration" / "3dmatch_kitchen" / "cloud_bin_0.ply"))
    return np.asarray(cloud.voxel_down_sample(0.01).points)


def _write_cloud(path, points, colors=None) -> None:
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if colors is not None:
        cloud.colors = o3d.utility.Vector3dVector(colors)
    o3d.io.write_point_cloud(str(path), cloud)


@pytest.fixture(scope="module")
def scans(kitchen, tmp_path_factory):
    """Three overlapping strips of the kitchen, each moved by its own random motion, with colours."""
    folder = tmp_path_factory.mktemp("scans")
    x = kitchen[:, 0]
    strips = [kitchen[x < np.quantile(x, 0.55)],
              kitchen[(x > np.quantile(x, 0.3)) & (x < np.quantile(x, 0.8))],
              kitchen[x > np.quantile(x, 0.5)]]
    rng = np.random.default_rng(0)
    paths, motions = [], []
    for k, strip in enumerate(strips):
        T = np.eye(4) if k == 0 else random_rigid(rng)
        path = folder / f"scan{k}.ply"
        _write_cloud(path, strip @ T[:3, :3].T + T[:3, 3], np.full((len(strip), 3), k / 3))
        paths.append(path)
        motions.append(T)
    return paths, motions


def test_merge_puts_every_scan_into_the_first_ones_frame(scans, tmp_path, capsys):
    paths, motions = scans
    out = tmp_path / "merged.ply"
    assert main(["merge", *map(str, paths), "-o", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads(out.with_suffix(".json").read_text())
    assert printed["scans"] == written["scans"]
    for scan, T_scan_part in zip(written["scans"], motions):
        assert scan["placed"]
        # T_first_scan undoes the scan's motion (the first scan's frame is the kitchen's).
        rotation_error, translation_error = pose_errors(np.array(scan["T_first_scan"]) @ T_scan_part, np.eye(4))
        assert rotation_error < 2.0 and translation_error < 0.05
    merged = o3d.io.read_point_cloud(str(out))
    total = sum(len(o3d.io.read_point_cloud(str(p)).points) for p in paths)
    assert len(merged.points) == total and merged.has_colors()
    assert any(p["trusted"] and p["accepted"] for p in written["pairs"])


def test_merge_leaves_out_a_scan_of_somewhere_else(scans, tmp_path, capsys):
    paths, _ = scans
    rng = np.random.default_rng(1)
    elsewhere = tmp_path / "elsewhere.ply"
    _write_cloud(elsewhere, np.c_[rng.uniform(0, 3, (20000, 2)), rng.normal(scale=0.003, size=20000)])
    out = tmp_path / "merged.ply"
    assert main(["merge", str(paths[0]), str(paths[1]), str(elsewhere), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "NOT PLACED" in captured.out and "could not be placed" in captured.err
    written = json.loads(out.with_suffix(".json").read_text())
    assert [s["placed"] for s in written["scans"]] == [True, True, False]
    assert written["scans"][2]["T_first_scan"] is None


@pytest.mark.parametrize("arguments,message", [
    (["only.ply"], "at least two scans"),
    (["a.ply", "b.ply", "-o", "out.txt"], "PLY"),
    (["missing1.ply", "missing2.ply"], "no such file"),
])
def test_merge_bad_input_is_exit_code_2_with_a_sentence(arguments, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "-o" not in arguments:
        arguments = [*arguments, "-o", "out.ply"]
    assert main(["merge", *arguments]) == 2
    assert message in capsys.readouterr().err


def _machine_mesh() -> o3d.geometry.TriangleMesh:
    """A lathe-like model: a bed, a headstock and a spindle (metres)."""
    spindle = o3d.geometry.TriangleMesh.create_cylinder(0.08, 0.6)
    spindle.rotate(o3d.geometry.get_rotation_matrix_from_xyz((0, np.pi / 2, 0)), center=(0, 0, 0))
    return (o3d.geometry.TriangleMesh.create_box(1.2, 0.5, 0.8)
            + o3d.geometry.TriangleMesh.create_box(0.3, 0.4, 0.35).translate((0, 0.05, 0.8))
            + spindle.translate((0.6, 0.25, 1.0)))


@pytest.fixture(scope="module")
def machine(kitchen, tmp_path_factory):
    """The model as an STL in millimetres, a workshop scan with the machine standing in it at a
    known pose, and the scan without it."""
    folder = tmp_path_factory.mktemp("machine")
    mesh = _machine_mesh()
    model_mm = o3d.geometry.TriangleMesh(mesh)
    model_mm.scale(1000.0, center=(0, 0, 0))
    model_mm.compute_triangle_normals()
    o3d.io.write_triangle_mesh(str(folder / "lathe.stl"), model_mm)
    T = np.eye(4)
    T[:3, :3] = o3d.geometry.get_rotation_matrix_from_xyz((0, 0, 0.7))
    T[:3, 3] = kitchen.mean(axis=0) + [2.0, 0.0, 0.0]
    o3d.utility.random.seed(1)
    samples = np.asarray(mesh.sample_points_uniformly(30000).points) @ T[:3, :3].T + T[:3, 3]
    _write_cloud(folder / "with.ply", np.r_[kitchen, samples])
    _write_cloud(folder / "without.ply", kitchen)
    return folder, T


def test_locate_finds_the_machine_and_its_pose(machine, capsys):
    folder, T = machine
    assert main(["locate", str(folder / "lathe.stl"), str(folder / "with.ply"), "--model-scale", "0.001", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["found"]
    rotation_error, translation_error = pose_errors(np.array(out["T_scan_model"]), T)
    assert rotation_error < 2.0 and translation_error < 0.05
    qx, qy, qz, qw = out["pose"]["rotation"]
    assert np.allclose(out["pose"]["translation"], np.array(out["T_scan_model"])[:3, 3])
    assert abs(np.degrees(2 * np.arctan2(qz, qw)) - np.degrees(0.7)) < 2.0 and abs(qx) < 0.02 and abs(qy) < 0.02
    assert out["fitness"] > 0.9


def test_locate_says_so_when_the_machine_is_not_in_the_scan(machine, capsys):
    folder, _ = machine
    assert main(["locate", str(folder / "lathe.stl"), str(folder / "without.ply"), "--model-scale", "0.001"]) == 1
    assert "found        no" in capsys.readouterr().out


def test_locate_refuses_a_model_it_cannot_read(machine, tmp_path, capsys):
    folder, _ = machine
    notes = tmp_path / "lathe.txt"
    notes.write_text("not a mesh")
    assert main(["locate", str(notes), str(folder / "with.ply")]) == 2
    assert "a machine model must be one of" in capsys.readouterr().err
