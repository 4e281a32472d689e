"""A coloured surface from a dense photo cloud: screened Poisson (Open3D), trimmed where no dense
point supports it (Poisson closes every surface; the trimming removes what it invented)."""
from __future__ import annotations

import numpy as np
import open3d as o3d

MESH_POINTS = 400_000  # Poisson's time grows with the points; this many carry the detail of depth 9


def poisson_mesh(points: np.ndarray, colors: np.ndarray, viewpoints: np.ndarray, *, depth: int = 9,
                 support_spacings: float = 3.0, density_quantile: float = 0.02) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices, triangles, vertex colours in [0, 1]). `viewpoints[i]` is the centre of the camera
    that saw point i: normals are turned towards it, which Poisson needs to know inside from outside."""
    if len(points) < 100:
        raise ValueError(f"only {len(points)} dense points: too few to mesh; check the photos overlap and are sharp")
    step = max(1, len(points) // MESH_POINTS)
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points[::step]))
    cloud.colors = o3d.utility.Vector3dVector(np.asarray(colors[::step], np.float64) / 255.0)
    spacing = float(np.mean(cloud.compute_nearest_neighbor_distance()))
    cloud.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=6 * spacing, max_nn=30))
    normals = np.asarray(cloud.normals)
    towards = viewpoints[::step] - points[::step]
    normals[np.sum(normals * towards, axis=1) < 0] *= -1
    cloud.normals = o3d.utility.Vector3dVector(normals)
    mesh, densities = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(cloud, depth=depth)
    densities = np.asarray(densities)
    vertices = o3d.geometry.PointCloud(mesh.vertices)
    unsupported = np.asarray(vertices.compute_point_cloud_distance(cloud)) > support_spacings * spacing
    mesh.remove_vertices_by_mask(unsupported | (densities < np.quantile(densities, density_quantile)))
    mesh.remove_unreferenced_vertices()
    return np.asarray(mesh.vertices), np.asarray(mesh.triangles), np.asarray(mesh.vertex_colors)
