"""Change-distance benchmark: twin's M3C2 and C2C against py4dgeo's M3C2 and Open3D's
compute_point_cloud_distance, same run, same points and parameters.

    .venv/bin/python benchmarks/diff.py [--spacing 0.03]

Two scans of the sample workshop (twin.synth), NEW with cnc-1 moved 1.2 m and 5 mm noise, already in
OLD's frame. Prints points/s of each and the F1 of each significant-change mask against py4dgeo's
(M3C2) and against the truth (points of NEW within 5 cm of a changed machine's surfaces).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "changes"))
import workshop_scans as ws  # noqa: E402

from twin import changes  # noqa: E402

NORMAL_RADIUS_M, CYLINDER_RADIUS_M, MAX_DEPTH_M, MIN_CHANGE_M = 0.1, 0.05, 0.5, 0.15


def f1(mask: np.ndarray, truth: np.ndarray) -> float:
    tp = float((mask & truth).sum())
    return 2 * tp / max(float(mask.sum() + truth.sum()), 1.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spacing", type=float, default=0.03)
    args = parser.parse_args()
    old = ws.scan(ws.workshop(), spacing_m=args.spacing, seed=1)
    new = ws.scan(ws.moved("cnc-1", [-0.8, -0.9, 0.0], 20.0), spacing_m=args.spacing, seed=2, noise_m=0.005)
    unchanged_distance = changes.cloud_to_cloud(new, ws.scan(ws.workshop(), spacing_m=0.01, seed=3), 1.0)
    truth = unchanged_distance > MIN_CHANGE_M
    rows = []

    start = time.perf_counter()
    ours = changes.m3c2(new, old, new, NORMAL_RADIUS_M, CYLINDER_RADIUS_M, MAX_DEPTH_M)
    ours_s = time.perf_counter() - start
    ours_mask = ours.significant & (np.abs(ours.distance) > MIN_CHANGE_M)
    start = time.perf_counter()
    c2c = changes.cloud_to_cloud(new, old)
    c2c_s = time.perf_counter() - start
    rows.append(("twin M3C2", ours_s, ours_mask))
    rows.append(("twin C2C", c2c_s, c2c > MIN_CHANGE_M))
    try:
        import py4dgeo
        start = time.perf_counter()
        algorithm = py4dgeo.M3C2(epochs=(py4dgeo.Epoch(old), py4dgeo.Epoch(new)), corepoints=new,
                                 normal_radii=(NORMAL_RADIUS_M,), cyl_radius=CYLINDER_RADIUS_M, max_distance=MAX_DEPTH_M)
        distances, uncertainties = algorithm.run()
        py4dgeo_s = time.perf_counter() - start
        py4dgeo_mask = (np.abs(distances) > uncertainties["lodetection"]) & (np.abs(distances) > MIN_CHANGE_M)
        rows.append(("py4dgeo M3C2", py4dgeo_s, py4dgeo_mask))
    except ImportError:
        py4dgeo_mask = None
    import open3d as o3d
    start = time.perf_counter()
    o3d_d = np.asarray(o3d.geometry.PointCloud(o3d.utility.Vector3dVector(new)).compute_point_cloud_distance(
        o3d.geometry.PointCloud(o3d.utility.Vector3dVector(old))))
    rows.append(("Open3D C2C", time.perf_counter() - start, o3d_d > MIN_CHANGE_M))

    print(f"{len(new)} core points, {len(old)} old points")
    print(f"{'method':14} {'seconds':>8} {'points/s':>11} {'F1 vs truth':>12} {'F1 vs py4dgeo':>14} {'ratio':>7}")
    anchor = dict((name, s) for name, s, _ in rows)
    for name, seconds, mask in rows:
        versus = f1(mask, py4dgeo_mask) if py4dgeo_mask is not None else float("nan")
        anchor_s = anchor.get("py4dgeo M3C2" if "M3C2" in name else "Open3D C2C", seconds)
        print(f"{name:14} {seconds:8.3f} {len(new) / seconds:11.0f} {f1(mask, truth):12.3f} {versus:14.3f} "
              f"{anchor_s / seconds:7.2f}")


if __name__ == "__main__":
    main()
