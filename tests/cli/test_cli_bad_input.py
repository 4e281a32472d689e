"""Hostile input at the command line: a truncated or malformed file is refused with one line that
names it and says what is wrong, exit code 2, and no library chatter (Open3D's RPly, libjpeg,
libpng, numpy) before it. Every fixture is made here, in tmp_path."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import open3d as o3d
import pytest

from twin.cli import main
from twin.library_stderr import captured_stderr


def refused(capfd, command: str, *args) -> str:
    """Runs `twin COMMAND ARGS...`, checks it exits with 2 and that the whole of stderr is its one
    error line, and returns that line."""
    assert main([command, *map(str, args)]) == 2
    err = capfd.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"twin {command}: error: "), err
    return lines[0]


def points(n: int = 300, seed: int = 0) -> np.ndarray:
    """A box corner: enough structure for a registration to run on."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0, 1, (n, 2))
    side = rng.integers(0, 3, n)[:, None]
    return np.select([side == 0, side == 1, side == 2],
                     [np.c_[u, np.zeros(n)], np.c_[u[:, 0], np.zeros(n), u[:, 1]], np.c_[np.zeros(n), u]])


def write_cloud(path, ascii: bool = False, colors: bool = False):
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points()))
    if colors:
        cloud.colors = o3d.utility.Vector3dVector(np.random.default_rng(1).random((len(cloud.points), 3)))
    assert o3d.io.write_point_cloud(str(path), cloud, write_ascii=ascii)
    return path


def cut(path, keep: float = 2 / 3, at_line_end: bool = False):
    """The file cut short: mid-line (or mid-record), or after a whole line."""
    data = path.read_bytes()
    end = int(len(data) * keep)
    if at_line_end:
        end = data.rindex(b"\n", 0, end) + 1
    path.write_bytes(data[:end])
    return path


@pytest.fixture()
def target(tmp_path):
    return write_cloud(tmp_path / "target.ply")


# --- clouds -------------------------------------------------------------------------------------

@pytest.mark.parametrize("at_line_end", [False, True], ids=["mid-line", "at-a-line-end"])
def test_register_refuses_a_truncated_ascii_ply(tmp_path, target, capfd, at_line_end):
    source = cut(write_cloud(tmp_path / "source.ply", ascii=True), at_line_end=at_line_end)
    line = refused(capfd, "register", source, target)
    assert f"{source}: " in line and "cut short" in line


def test_register_refuses_a_truncated_binary_ply_without_rply_chatter(tmp_path, target, capfd):
    source = cut(write_cloud(tmp_path / "source.ply"))
    line = refused(capfd, "register", source, target)
    assert f"{source}: the PLY promises 300 points but holds " in line and "cut short" in line


def test_register_names_the_line_of_a_malformed_ascii_ply(tmp_path, target, capfd):
    source = write_cloud(tmp_path / "source.ply", ascii=True)
    lines = source.read_text().splitlines()
    bad = lines.index("end_header") + 11
    lines[bad] = "0.1 abc 0.3"
    source.write_text("\n".join(lines) + "\n")
    line = refused(capfd, "register", source, target)
    assert f"{source}: line {bad + 1}: " in line and "'abc'" in line


def test_register_refuses_a_ply_header_with_a_bad_count(tmp_path, target, capfd):
    source = write_cloud(tmp_path / "source.ply")
    source.write_bytes(source.read_bytes().replace(b"element vertex 300", b"element vertex 3OO"))
    assert f"{source}: " in refused(capfd, "register", source, target)


@pytest.mark.parametrize("ascii", [True, False], ids=["ascii", "binary"])
def test_register_refuses_a_truncated_pcd(tmp_path, target, capfd, ascii):
    source = cut(write_cloud(tmp_path / "source.pcd", ascii=ascii, colors=True))
    line = refused(capfd, "register", source, target)
    assert f"{source}: the PCD promises 300 points but holds " in line and "cut short" in line


def test_register_refuses_a_pcd_whose_header_does_not_add_up(tmp_path, target, capfd):
    source = write_cloud(tmp_path / "source.pcd", ascii=True)
    source.write_text(source.read_text().replace("SIZE 4 4 4", "SIZE 4 4"))
    line = refused(capfd, "register", source, target)
    assert f"{source}: " in line and "SIZE" in line


def test_register_names_the_line_of_a_malformed_xyz(tmp_path, target, capfd):
    source = tmp_path / "source.xyz"
    np.savetxt(source, points())
    lines = source.read_text().splitlines()
    lines[10] = "1.0 abc 2.0"
    source.write_text("\n".join(lines) + "\n")
    line = refused(capfd, "register", source, target)
    assert f"{source}: line 11: " in line and "'abc'" in line


def test_register_refuses_an_xyz_cut_mid_line(tmp_path, target, capfd):
    source = tmp_path / "source.xyz"
    np.savetxt(source, points())
    text = source.read_text()
    source.write_text(text[: text.index("\n", len(text) // 2) - 30])
    line = refused(capfd, "register", source, target)
    assert f"{source}: line " in line and "cut short" in line


def test_register_refuses_a_truncated_pts(tmp_path, target, capfd):
    source = tmp_path / "source.pts"
    o3d.io.write_point_cloud(str(source), o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points())))
    cut(source, at_line_end=True)
    line = refused(capfd, "register", source, target)
    assert f"{source}: the PTS file promises 300 points but holds " in line


# --- the --init transform -----------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("1 0 0 0\n0 1 0 0\n0 0 1 0\n", "4 lines of 4 numbers"),
    ("1 0 0 0\n0 1 0 0\n0 0 1\n0 0 0 1\n", "line 3"),
    ("1 0 0 0\n0 1 x 0\n0 0 1 0\n0 0 0 1\n", "line 2"),
    ("", "4 lines of 4 numbers"),
], ids=["three-lines", "short-line", "not-a-number", "empty"])
def test_register_refuses_a_malformed_init_file_in_one_line(tmp_path, target, capfd, text, words):
    init = tmp_path / "init.txt"
    init.write_text(text)
    line = refused(capfd, "register", target, target, "--init", init)
    assert str(init) in line and words in line


# --- images -------------------------------------------------------------------------------------

def noise_image(path, seed: int, size=(640, 480)) -> None:
    blocks = np.random.default_rng(seed).integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), cv2.resize(blocks, size, interpolation=cv2.INTER_NEAREST))


def test_reconstruct_refuses_a_truncated_photo_and_leaves_a_failed_report(tmp_path, capfd):
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(3):
        noise_image(photos / f"{seed}.jpg", seed)
    cut(photos / "2.jpg", keep=0.5)
    scan = tmp_path / "scan"
    line = refused(capfd, "reconstruct", photos, "-o", scan)
    assert "2 readable photo(s)" in line and "2.jpg: the image is cut short" in line
    report = json.loads((scan / "report.json").read_text())
    assert report["status"] == "failed" and "2.jpg: the image is cut short" in report["error"]
    left = [p.name for p in scan.rglob("*")]
    assert not [name for name in left if ".partial" in name], left


def test_reconstruct_of_photos_that_do_not_overlap_is_one_line_without_colmap_chatter(tmp_path, capfd):
    for seed in range(3):
        noise_image(tmp_path / f"{seed}.jpg", 20 + seed)
    assert "only 0 of 3 photos registered" in refused(capfd, "reconstruct", tmp_path, "-o", tmp_path / "scan")


def test_reconstruct_drops_truncated_rgbd_images_without_chatter(tmp_path, capfd):
    capture = tmp_path / "capture"
    (capture / "image").mkdir(parents=True)
    (capture / "depth").mkdir()
    for k in range(2):
        noise_image(capture / "image" / f"{k:05d}.jpg", k, size=(64, 48))
        assert cv2.imwrite(str(capture / "depth" / f"{k:05d}.png"), np.full((48, 64), 1500, np.uint16))
    cut(capture / "image" / "00000.jpg", keep=0.5)
    cut(capture / "depth" / "00001.png", keep=0.5)
    scan = tmp_path / "scan"
    line = refused(capfd, "reconstruct", capture, "-o", scan, "--intrinsics", "50", "50", "32", "24")
    assert "no frame of" in line
    assert f"{capture / 'image' / '00000.jpg'}: the image is cut short" in line
    assert f"{capture / 'depth' / '00001.png'}: the file cannot be decoded" in line


def test_reconstruct_of_too_short_an_rgbd_walk_is_one_line_not_a_traceback(tmp_path, capfd):
    capture = tmp_path / "capture"
    (capture / "image").mkdir(parents=True)
    (capture / "depth").mkdir()
    for k in range(2):  # too few views of any surface to fuse it
        noise_image(capture / "image" / f"{k:05d}.jpg", k, size=(64, 48))
        assert cv2.imwrite(str(capture / "depth" / f"{k:05d}.png"), np.full((48, 64), 1500, np.uint16))
    scan = tmp_path / "scan"
    line = refused(capfd, "reconstruct", capture, "-o", scan, "--intrinsics", "50", "50", "32", "24")
    assert "the fused surface is empty" in line
    assert not (scan / "mesh.ply").exists() and not [p for p in scan.rglob("*.partial*")]


# --- twin documents -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, content", [
    ("bytes.twin.yaml", b"\xff\xfe name: x\n"),
    ("cut.twin.yaml", b"name: x\nmachines: [\n  - id: a\n"),
    ("quote.twin.yaml", b'name: "x\n'),
    ("empty.twin.yaml", b""),
    ("list.twin.yaml", b"- 1\n- 2\n"),
    ("cut.twin.json", b'{"name": "x", "machines": ['),
])
def test_export_refuses_an_unreadable_document_naming_it(tmp_path, capfd, name, content):
    scan = tmp_path / "scan"
    scan.mkdir()
    write_cloud(scan / "cloud.ply")
    document = tmp_path / name
    document.write_bytes(content)
    assert f"{document}: " in refused(capfd, "export", scan, "--document", document)
    assert not (scan / "twin.json").exists()


# --- scan folders -------------------------------------------------------------------------------

def test_export_refuses_a_truncated_ascii_cloud(tmp_path, capfd):
    scan = tmp_path / "scan"
    scan.mkdir()
    cut(write_cloud(scan / "cloud.ply", ascii=True), at_line_end=True)
    assert f"{scan / 'cloud.ply'}: the PLY promises 300 points but holds " in refused(capfd, "export", scan)
    assert not (scan / "twin.glb").exists()


def test_export_refuses_nan_colours_without_a_numpy_warning(tmp_path, capfd):
    scan = tmp_path / "scan"
    scan.mkdir()
    header = ("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\n"
              "property float red\nproperty float green\nproperty float blue\nend_header\n")
    (scan / "cloud.ply").write_text(header + "0 0 0 0.5 nan 0.5\n1 1 1 0.5 0.5 0.5\n")
    assert f"{scan / 'cloud.ply'}: " in refused(capfd, "export", scan)


@pytest.mark.parametrize("ascii", [True, False], ids=["ascii", "binary"])
def test_export_refuses_a_truncated_mesh_without_rply_chatter(tmp_path, capfd, ascii):
    scan = tmp_path / "scan"
    scan.mkdir()
    write_cloud(scan / "cloud.ply")
    mesh = o3d.geometry.TriangleMesh.create_sphere(1.0, 10)
    assert o3d.io.write_triangle_mesh(str(scan / "mesh.ply"), mesh, write_ascii=ascii)
    cut(scan / "mesh.ply", keep=0.8)
    line = refused(capfd, "export", scan)
    assert f"{scan / 'mesh.ply'}: " in line and "cut short" in line
    assert not (scan / "twin.glb").exists()


def test_locate_refuses_a_truncated_model_without_rply_chatter(tmp_path, target, capfd):
    model = tmp_path / "model.ply"
    assert o3d.io.write_triangle_mesh(str(model), o3d.geometry.TriangleMesh.create_box(0.3, 0.3, 0.3))
    cut(model, keep=0.8)
    line = refused(capfd, "locate", model, target)
    assert f"{model}: " in line and "cut short" in line


def test_merge_refuses_a_truncated_scan(tmp_path, target, capfd):
    bad = cut(write_cloud(tmp_path / "bad.ply", ascii=True), at_line_end=True)
    line = refused(capfd, "merge", target, bad, "-o", tmp_path / "merged.ply")
    assert f"{bad}: the PLY promises 300 points but holds " in line
    assert not list(tmp_path.glob("merged*"))


# --- what libraries say -------------------------------------------------------------------------

def test_native_stderr_is_captured_and_restored(capfd):
    with captured_stderr() as said:
        os.write(2, b"RPly: Error reading 'x' of 'vertex' number 7\n")
    assert said == ["RPly: Error reading 'x' of 'vertex' number 7"]
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_library_warnings_do_not_precede_the_error_line(tmp_path):
    # In a process of its own: pytest would catch the warning itself and hide what the CLI prints.
    script = """
import sys, warnings
from twin import cli
from twin.cli import register

def warns_then_fails(args):
    warnings.warn("invalid value encountered in divide", RuntimeWarning)
    raise ValueError("what went wrong")

register.run = warns_then_fails
sys.exit(cli.main(["register", "a.ply", "b.ply"]))
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and run.stderr == "twin register: error: what went wrong\n", run.stderr
