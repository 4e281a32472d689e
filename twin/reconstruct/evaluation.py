"""Accuracy figures for reconstructions: trajectory error after rigid alignment, and Chamfer distance."""
from __future__ import annotations

import numpy as np
import open3d as o3d


def rigid_alignment(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 4x4 rotation + translation that best maps points `source` (N, 3) onto `target` (Umeyama/Kabsch)."""
    source, target = np.asarray(source, float), np.asarray(target, float)
    if source.shape != target.shape or source.ndim != 2 or source.shape[0] < 3:
        raise ValueError(f"rigid alignment needs two (N, 3) point sets of the same shape with N >= 3, "
                         f"got {source.shape} and {target.shape}")
    mu_s, mu_t = source.mean(0), target.mean(0)
    U, _, Vt = np.linalg.svd((target - mu_t).T @ (source - mu_s))
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    T = np.eye(4)
    T[:3, :3] = U @ D @ Vt
    T[:3, 3] = mu_t - T[:3, :3] @ mu_s
    return T


def ate_rmse(estimated: list[np.ndarray], reference: list[np.ndarray]) -> float:
    """Absolute trajectory error: RMSE of camera centres (metres) after the best rigid alignment."""
    if len(estimated) != len(reference):
        raise ValueError(f"trajectories differ in length ({len(estimated)} vs {len(reference)}); pair them first")
    est = np.array([T[:3, 3] for T in estimated])
    ref = np.array([T[:3, 3] for T in reference])
    T = rigid_alignment(est, ref)
    aligned = est @ T[:3, :3].T + T[:3, 3]
    return float(np.sqrt(np.mean(np.sum((aligned - ref) ** 2, axis=1))))


def chamfer_distance(points_a: np.ndarray, points_b: np.ndarray) -> tuple[float, float]:
    """Mean nearest-neighbour distance from a to b and from b to a (metres)."""
    a, b = _legacy_cloud(points_a), _legacy_cloud(points_b)
    return (float(np.mean(a.compute_point_cloud_distance(b))),
            float(np.mean(b.compute_point_cloud_distance(a))))


def _legacy_cloud(points: np.ndarray) -> o3d.geometry.PointCloud:
    points = np.asarray(points, np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"Chamfer distance needs non-empty (N, 3) point sets, got {points.shape}")
    return o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
