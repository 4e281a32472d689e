"""The scan folder's files: readers agree with Open3D on what Open3D writes, read back what our writers
write, and refuse bad files with a ValueError that names the file; writes are atomic."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import open3d as o3d
import pytest

from twin.camera import Camera
from twin.document import PrintedMarker
from twin.scanfolder import (atomic_write, marker_anchor, read_cameras_json, read_cloud, read_json, read_mesh,
                             read_scan_markers, write_anchors_json, write_cameras_json, write_json, write_mesh_ply,
                             write_point_cloud_ply)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def cloud():
    rng = np.random.default_rng(7)
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(rng.normal(size=(2000, 3)) * 3))
    pcd.colors = o3d.utility.Vector3dVector(rng.random((2000, 3)))
    return pcd


# --- atomic writes ------------------------------------------------------------------------------

def test_a_finished_write_replaces_the_file(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    with atomic_write(path) as partial:
        assert partial.suffix == ".json" and partial != path
        partial.write_text("new")
        assert path.read_text() == "old"
    assert path.read_text() == "new" and list(tmp_path.iterdir()) == [path]


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    path = tmp_path / "cloud.ply"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as partial:
        partial.write_text("half")
        raise RuntimeError("killed halfway")
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


def test_a_folder_is_replaced_whole_and_a_stale_partial_is_cleared(tmp_path):
    final = tmp_path / "tiles"
    final.mkdir()
    (final / "old.glb").write_text("old")
    stale = tmp_path / "tiles.partial"
    stale.mkdir()
    (stale / "junk").write_text("left by a killed run")
    with atomic_write(final) as partial:
        assert not partial.exists()
        partial.mkdir()
        (partial / "r0.glb").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["r0.glb"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiles"]


def test_json_writes_numpy_values_and_reads_back(tmp_path):
    write_json(tmp_path / "report.json", {"T": np.eye(2), "n": np.int64(3), "path": tmp_path})
    assert read_json(tmp_path / "report.json", "the report") == {"T": [[1, 0], [0, 1]], "n": 3, "path": str(tmp_path)}


@pytest.mark.parametrize("content, words", [
    (None, "cannot read the report"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
])
def test_unreadable_json_names_the_file(tmp_path, content, words):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=words) as caught:
        read_json(path, "the report")
    assert str(caught.value).startswith(f"{path}: ")


# --- cameras and anchors ------------------------------------------------------------------------

def test_cameras_round_trip_and_a_bad_file_names_itself(tmp_path):
    T = np.eye(4)
    T[:3, 3] = [1, 2, 3]
    cameras = [Camera(500.0, 500.0, 0.0, 0.0, 640, 480, T, name="a.jpg")]
    write_cameras_json(tmp_path / "cameras.json", cameras)
    [back] = read_cameras_json(tmp_path / "cameras.json")
    assert back.name == "a.jpg" and (back.width, back.height) == (640, 480)
    np.testing.assert_array_equal(back.T_world_camera, T)
    (tmp_path / "cameras.json").write_text('{"frames": [{"name": "a.jpg"}]}')
    with pytest.raises(ValueError, match=f"{tmp_path / 'cameras.json'}.*cameras.json layout"):
        read_cameras_json(tmp_path / "cameras.json")


def test_anchors_reader_reads_what_the_writer_writes(tmp_path):
    T = np.array([[1.0, 0, 0, 3.3], [0, 0, -1, 6.0], [0, 1, 0, 1.6], [0, 0, 0, 1]])
    write_anchors_json(tmp_path / "anchors.json", [marker_anchor("DICT_4X4_50:2", T, 0.158)])
    [scan_marker] = read_scan_markers(tmp_path / "anchors.json")
    assert scan_marker.marker == PrintedMarker("DICT_4X4_50", 2, 0.158)
    np.testing.assert_allclose(scan_marker.pose.matrix(), T, atol=1e-12)


# --- clouds -------------------------------------------------------------------------------------

@pytest.mark.parametrize("ascii", [False, True], ids=["binary", "ascii"])
def test_reads_the_ply_open3d_writes(tmp_path, cloud, ascii):
    path = tmp_path / "cloud.ply"
    o3d.io.write_point_cloud(str(path), cloud, write_ascii=ascii)
    reference = o3d.io.read_point_cloud(str(path))
    points, colors = read_cloud(path)
    np.testing.assert_array_equal(points, np.asarray(reference.points))
    np.testing.assert_array_equal(colors, np.rint(np.asarray(reference.colors) * 255).astype(np.uint8))


@pytest.mark.parametrize("name, ascii", [("cloud.pcd", True), ("cloud.pcd", False), ("cloud.xyz", True),
                                         ("cloud.xyzrgb", True), ("cloud.xyzn", True), ("cloud.pts", True)])
def test_reads_the_other_formats_open3d_writes(tmp_path, cloud, name, ascii):
    path = tmp_path / name
    cloud.normals = o3d.utility.Vector3dVector(np.tile([0.0, 0, 1], (len(cloud.points), 1)))
    assert o3d.io.write_point_cloud(str(path), cloud, write_ascii=ascii)
    reference = o3d.io.read_point_cloud(str(path))
    points, colors = read_cloud(path)
    np.testing.assert_allclose(points, np.asarray(reference.points), rtol=0, atol=1e-6)
    if reference.has_colors():
        np.testing.assert_array_equal(colors, np.rint(np.asarray(reference.colors) * 255).astype(np.uint8))
    else:
        assert colors is None


def test_reads_a_pcl_style_pcd_with_packed_float_colours(tmp_path):
    rgb = np.array([(10 << 16) | (20 << 8) | 30, (200 << 16) | (100 << 8) | 50], dtype=np.uint32)
    header = ("# .PCD v0.7\nVERSION 0.7\nFIELDS x y z rgb\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\nWIDTH 2\n"
              "HEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 2\nDATA binary\n")
    body = np.zeros(2, dtype=[("xyz", "<f4", 3), ("rgb", "<u4")])
    body["xyz"] = [[0, 1, 2], [3, 4, 5]]
    body["rgb"] = rgb
    (tmp_path / "pcl.pcd").write_bytes(header.encode() + body.tobytes())
    points, colors = read_cloud(tmp_path / "pcl.pcd")
    np.testing.assert_array_equal(points, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(colors, [[10, 20, 30], [200, 100, 50]])


def test_cloud_without_colours(tmp_path, cloud):
    path = tmp_path / "cloud.ply"
    o3d.io.write_point_cloud(str(path), o3d.geometry.PointCloud(cloud.points))
    points, colors = read_cloud(path)
    assert colors is None and points.shape == (2000, 3)


def test_float_colours_and_big_endian(tmp_path):
    header = ("ply\nformat binary_big_endian 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
              "property float z\nproperty float red\nproperty float green\nproperty float blue\nend_header\n")
    body = np.array([[0, 1, 2, 0.0, 0.5, 1.0], [3, 4, 5, 1.0, 0.25, 0.0]], dtype=">f4").tobytes()
    path = tmp_path / "cloud.ply"
    path.write_bytes(header.encode() + body)
    points, colors = read_cloud(path)
    np.testing.assert_array_equal(points, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(colors, [[0, 128, 255], [255, 64, 0]])


def test_what_the_cloud_writer_writes_reads_back(tmp_path):
    rng = np.random.default_rng(3)
    points, colors = rng.normal(size=(500, 3)), rng.integers(0, 256, (500, 3), dtype=np.uint8)
    write_point_cloud_ply(tmp_path / "cloud.ply", points, colors, normals=np.tile([0.0, 0, 1], (500, 1)))
    back, back_colors = read_cloud(tmp_path / "cloud.ply")
    np.testing.assert_allclose(back, points.astype(np.float32), rtol=0, atol=0)
    np.testing.assert_array_equal(back_colors, colors)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cloud.ply"]


def test_bad_clouds_are_refused_with_reasons(tmp_path, cloud):
    path = tmp_path / "cloud.ply"
    o3d.io.write_point_cloud(str(path), cloud)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut short"):
        read_cloud(path)
    path.write_text("solid not a ply\n")
    with pytest.raises(ValueError, match="not a PLY file"):
        read_cloud(path)
    path.write_text("ply\nformat ascii 1.0\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n3 0 1 2\n")
    with pytest.raises(ValueError, match="first element is 'face'"):
        read_cloud(path)
    path.write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n"
                    "end_header\n0 nan 1\n")
    with pytest.raises(ValueError, match="NaN or infinite"):
        read_cloud(path)
    path.write_text("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\n"
                    "end_header\n")
    with pytest.raises(ValueError, match="no points in it"):
        read_cloud(path)
    with pytest.raises(ValueError, match="no such file"):
        read_cloud(tmp_path / "missing.ply")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="expected a point cloud file"):
        read_cloud(tmp_path / "notes.txt")


# --- meshes -------------------------------------------------------------------------------------

def test_what_the_mesh_writer_writes_reads_back(tmp_path):
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    triangles = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])
    colors = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]], np.uint8)
    write_mesh_ply(tmp_path / "mesh.ply", vertices, triangles, colors)
    mesh = read_mesh(tmp_path / "mesh.ply")
    np.testing.assert_array_equal(mesh.vertices, vertices)
    np.testing.assert_array_equal(mesh.triangles, triangles)
    np.testing.assert_array_equal(mesh.colors, colors)


def test_a_mesh_with_bad_indices_names_the_file(tmp_path):
    path = tmp_path / "mesh.ply"
    path.write_text("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
                    "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")
    with pytest.raises(ValueError, match=f"{path}: "):
        read_mesh(path)


# --- the arrow ----------------------------------------------------------------------------------

def test_synth_writes_through_the_scan_folder_not_reconstruction():
    offending = [str(path.relative_to(PROJECT_ROOT)) for path in (PROJECT_ROOT / "twin" / "synth").glob("*.py")
                 if "twin.reconstruct" in path.read_text(encoding="utf-8")]
    assert offending == []

