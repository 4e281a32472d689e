"""Accuracy figures for photo reconstructions: camera centres against ground truth after a
similarity alignment (photos have no scale of their own), and a dense cloud against a
ground-truth mesh (accuracy and completeness, the figures of Strecha et al. / DTU)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import open3d as o3d


def read_strecha_cameras(folder: Path) -> dict[str, np.ndarray]:
    """Photo name -> camera centre (metres) from Strecha's `NAME.camera` files (K rows, distortion
    row, R rows, centre row, size row)."""
    centres = {}
    for path in sorted(Path(folder).glob("*.camera")):
        values = np.array(path.read_text().split(), dtype=np.float64)
        if len(values) < 26:
            raise ValueError(f"{path} has {len(values)} numbers; a Strecha .camera file has 26")
        centres[path.name[:-len(".camera")]] = values[21:24]
    return centres


def similarity_alignment(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R, t) minimising |s R source + t - target|^2 (Umeyama 1991)."""
    source, target = np.asarray(source, float), np.asarray(target, float)
    if source.shape != target.shape or source.ndim != 2 or source.shape[0] < 3:
        raise ValueError(f"similarity alignment needs two (N, 3) point sets of the same shape with N >= 3, "
                         f"got {source.shape} and {target.shape}")
    mu_s, mu_t = source.mean(0), target.mean(0)
    xs, xt = source - mu_s, target - mu_t
    U, S, Vt = np.linalg.svd(xt.T @ xs / len(source))
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    R = U @ D @ Vt
    s = float(np.trace(np.diag(S) @ D) / xs.var(0).sum())
    return s, R, mu_t - s * R @ mu_s


def camera_centre_errors(estimated: dict[str, np.ndarray], truth: dict[str, np.ndarray]) -> dict[str, float]:
    """Photo name -> distance (units of `truth`) between aligned estimated and true centres,
    for the photos in both."""
    names = sorted(set(estimated) & set(truth))
    source = np.array([estimated[n] for n in names])
    target = np.array([truth[n] for n in names])
    s, R, t = similarity_alignment(source, target)
    aligned = s * source @ R.T + t
    return dict(zip(names, np.linalg.norm(aligned - target, axis=1).tolist()))


def _raycasting_scene(mesh: o3d.geometry.TriangleMesh) -> o3d.t.geometry.RaycastingScene:
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(mesh))
    return scene


def visible_surface(mesh: o3d.geometry.TriangleMesh, cameras, *, min_views: int = 2,
                    samples: int = 500_000, seed: int = 0) -> np.ndarray:
    """Points sampled uniformly on `mesh` that at least `min_views` of `cameras` (name, K, width,
    height, T_world_camera) see unoccluded: the part of the truth a reconstruction can recover."""
    o3d.utility.random.seed(seed)
    points = np.asarray(mesh.sample_points_uniformly(samples).points)
    scene = _raycasting_scene(mesh)
    views = np.zeros(len(points), np.int32)
    for camera in cameras:
        T_camera_world = np.linalg.inv(camera.T_world_camera)
        cam = points @ T_camera_world[:3, :3].T + T_camera_world[:3, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = cam[:, :2] / cam[:, 2:] @ np.asarray(camera.K)[:2, :2].T + np.asarray(camera.K)[:2, 2]
        inside = (cam[:, 2] > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < camera.width) & (uv[:, 1] >= 0) & \
                 (uv[:, 1] < camera.height)
        origin = camera.T_world_camera[:3, 3]
        offsets = points[inside] - origin
        distance = np.linalg.norm(offsets, axis=1)
        rays = np.hstack([np.broadcast_to(origin, offsets.shape), offsets / distance[:, None]]).astype(np.float32)
        hit = scene.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy()
        index = np.nonzero(inside)[0]
        views[index[hit >= distance - np.maximum(0.005, 0.002 * distance)]] += 1
    return points[views >= min_views]


def accuracy_completeness(points: np.ndarray, truth_mesh: o3d.geometry.TriangleMesh, *, threshold_m: float = 0.02,
                          surface: np.ndarray | None = None, surface_samples: int = 500_000) -> tuple[float, float]:
    """(mean distance from the points to the true surface, fraction of the true surface within
    `threshold_m` of a point); `surface` are points on the truth to count (default: sampled
    uniformly by area over all of it)."""
    distances = _raycasting_scene(truth_mesh).compute_distance(
        o3d.core.Tensor(np.asarray(points, np.float32))).numpy()
    if surface is None:
        surface = np.asarray(truth_mesh.sample_points_uniformly(surface_samples).points)
    samples = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(surface, np.float64)))
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(points, np.float64)))
    coverage = np.asarray(samples.compute_point_cloud_distance(cloud))
    return float(distances.mean()), float(np.mean(coverage <= threshold_m))
