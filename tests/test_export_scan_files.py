"""Reading scan clouds: our PLY reader agrees with Open3D's on what Open3D writes, and refuses bad files."""
from __future__ import annotations

import numpy as np
import open3d as o3d
import pytest

from twin.export.scan_files import read_cloud


@pytest.fixture()
def cloud():
    rng = np.random.default_rng(7)
    points = rng.normal(size=(2000, 3)) * 3
    colors = rng.random((2000, 3))
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    pcd.colors = o3d.utility.Vector3dVector(colors)
    return pcd


@pytest.mark.parametrize("ascii", [False, True], ids=["binary", "ascii"])
def test_reads_what_open3d_writes(tmp_path, cloud, ascii):
    path = tmp_path / "cloud.ply"
    o3d.io.write_point_cloud(str(path), cloud, write_ascii=ascii)
    reference = o3d.io.read_point_cloud(str(path))
    points, colors = read_cloud(path)
    np.testing.assert_array_equal(points, np.asarray(reference.points))
    np.testing.assert_array_equal(colors, np.rint(np.asarray(reference.colors) * 255).astype(np.uint8))


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


def test_bad_files_are_refused_with_reasons(tmp_path, cloud):
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
