"""Reading a scan folder's cloud and mesh (PLY, as reconstruction writes them), checked for export."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.export.mesh import TriangleMesh


def _colors_uint8(colors: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(colors, 0.0, 1.0) * 255).astype(np.uint8)


def read_cloud(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, 3) float64, colours (n, 3) uint8 or None); ValueError if empty or not finite."""
    import open3d as o3d

    cloud = o3d.io.read_point_cloud(str(path), remove_nan_points=False, remove_infinite_points=False)
    points = np.asarray(cloud.points, dtype=np.float64)
    colors = _colors_uint8(np.asarray(cloud.colors)) if cloud.has_colors() else None
    check_cloud(points, str(path))
    return points, colors


def check_cloud(points: np.ndarray, source: str) -> None:
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"{source}: the cloud is empty (or not a readable point cloud); "
                         "run the reconstruction again or check the file")
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        raise ValueError(f"{source}: {int(bad.sum())} of {len(points)} points are NaN or infinite; "
                         "remove them (e.g. with Open3D's remove_non_finite_points) and export again")


def read_mesh(path: Path) -> TriangleMesh:
    """The scan mesh with vertex colours where it has them; ValueError if it has NaNs or bad indices."""
    import open3d as o3d

    raw = o3d.io.read_triangle_mesh(str(path))
    mesh = TriangleMesh(np.asarray(raw.vertices, dtype=np.float64).reshape(-1, 3),
                        np.asarray(raw.triangles, dtype=np.int64).reshape(-1, 3),
                        _colors_uint8(np.asarray(raw.vertex_colors)) if raw.has_vertex_colors() else None)
    mesh.check(str(path))
    if len(mesh.triangles) == 0:
        raise ValueError(f"{path}: the mesh has no triangles; delete it to export the cloud alone, or reconstruct it again")
    return mesh
