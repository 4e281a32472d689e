"""Point clouds: read from PLY, PCD, XYZ, XYZN, XYZRGB or PTS and checked; written as binary PLY."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.scanfolder.atomic import atomic_write
from twin.scanfolder.pcd import read_pcd_cloud
from twin.scanfolder.ply import read_ply_cloud
from twin.scanfolder.text_clouds import read_text_cloud

CLOUD_SUFFIXES = (".ply", ".pcd", ".xyz", ".pts", ".xyzn", ".xyzrgb")


def read_cloud(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, 3) float64, colours (n, 3) uint8 or None); ValueError naming the file where it is
    missing, not a cloud, cut short, damaged, empty, or holds NaN or infinite points or colours."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CLOUD_SUFFIXES:
        raise ValueError(f"{path}: expected a point cloud file ending in {', '.join(CLOUD_SUFFIXES[:4])}")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    reader = {".ply": read_ply_cloud, ".pcd": read_pcd_cloud}.get(suffix, read_text_cloud)
    points, colors = reader(path)
    check_cloud(points, str(path))
    return points, None if colors is None else colors_uint8(colors, str(path))


def check_cloud(points: np.ndarray, source: str) -> None:
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"{source}: no points in it, the cloud is empty; "
                         "check the file or run the reconstruction again")
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        raise ValueError(f"{source}: {int(bad.sum())} of {len(points)} points are NaN or infinite; "
                         "remove them (e.g. with Open3D's remove_non_finite_points) and export again")


def colors_uint8(colors: np.ndarray, source: str) -> np.ndarray:
    """Colours as 8-bit: uint8 as they are, floats (0..1) scaled; ValueError if a float one is NaN."""
    colors = np.asarray(colors)
    if colors.dtype == np.uint8:
        return colors
    bad = ~np.isfinite(colors).all(axis=1)
    if bad.any():
        raise ValueError(f"{source}: {int(bad.sum())} of {len(colors)} colours are NaN or infinite; "
                         "the file is damaged, write it again")
    return np.rint(np.clip(colors, 0.0, 1.0) * 255).astype(np.uint8)


def write_point_cloud_ply(path: Path, points: np.ndarray, colors: np.ndarray | None = None,
                          normals: np.ndarray | None = None, scalars: dict[str, np.ndarray] | None = None) -> None:
    """Binary PLY, atomically; `colors` as uint8 or floats in [0, 1], written as uint8 so that every
    reader (Open3D's legacy reader too) understands them: float colours are read back divided by 255.
    `scalars`: extra per-point properties by name (e.g. {"distance": (n,) floats}), written as float32."""
    import open3d as o3d  # slow to import: only when a cloud is written

    cloud = o3d.t.geometry.PointCloud(o3d.core.Tensor(np.asarray(points, np.float32)))
    if colors is not None:
        cloud.point.colors = o3d.core.Tensor(colors_uint8(colors, str(path)))
    if normals is not None:
        cloud.point.normals = o3d.core.Tensor(np.asarray(normals, np.float32))
    for name, values in (scalars or {}).items():
        cloud.point[name] = o3d.core.Tensor(np.asarray(values, np.float32).reshape(-1, 1))
    with atomic_write(path) as partial:
        if not o3d.t.io.write_point_cloud(str(partial), cloud, write_ascii=False):
            raise OSError(f"could not write the point cloud {path}")
