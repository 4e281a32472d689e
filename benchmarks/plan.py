"""Floor plans of the sample workshop (issue 19): wall accuracy, opening recall and time to a plan.

The cloud is sampled from the sample's ground-truth surface (every face seen, Gaussian noise), at
several sizes. Anchor, in the same run on the same cloud: Open3D's RANSAC plane fit
(`segment_plane`, 1000 iterations) for one plane, the first step of any plane-based wall finder.

    python benchmarks/plan.py            # 300k and 1M points
    python benchmarks/plan.py --small    # 100k points only
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import open3d as o3d

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from plan_scan import sample_surface_points  # noqa: E402

from twin.plan import extract_floor_plan  # noqa: E402
from twin.synth import load_workshop  # noqa: E402
from twin.synth.openings import wall_frames, wall_openings  # noqa: E402

TRUE_LINES = [(np.array([0.0, 1.0]), 0.0), (np.array([0.0, 1.0]), 6.0), (np.array([1.0, 0.0]), 0.0),
              (np.array([1.0, 0.0]), 8.0)]


def wall_errors(plan) -> np.ndarray:
    """Distance of every wall end to the true wall it lies along."""
    errors = []
    for wall in plan.walls:
        points = np.asarray(wall.points)
        errors += [min(np.abs(points @ n - o).max() for n, o in TRUE_LINES)]
    return np.array(errors)


def opening_recall(plan) -> float:
    truth = wall_openings(load_workshop())
    frames = wall_frames(load_workshop().room_size_m)
    found = 0
    for opening in truth:
        origin, along, _ = frames[opening.wall]
        for candidate in plan.openings:
            ends = sorted((np.append(p, 0.0) - origin) @ along for p in candidate.points)
            if abs(ends[0] - opening.along_m[0]) < 0.05 and abs(ends[1] - opening.along_m[1]) < 0.05:
                found += 1
                break
    return found / len(truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true")
    sizes = [100_000] if parser.parse_args().small else [300_000, 1_000_000]
    print("| points | plan s | anchor s | ratio | walls | wall error mean / max mm | opening recall |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in sizes:
        points = sample_surface_points(size)
        started = time.perf_counter()
        plan = extract_floor_plan(points, "sample")
        seconds = time.perf_counter() - started
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
        started = time.perf_counter()
        cloud.segment_plane(distance_threshold=0.03, ransac_n=3, num_iterations=1000)
        anchor = time.perf_counter() - started
        errors = wall_errors(plan) * 1000
        print(f"| {size} | {seconds:.2f} | {anchor:.2f} | {seconds / anchor:.1f} | {len(plan.walls)} | "
              f"{errors.mean():.1f} / {errors.max():.1f} | {opening_recall(plan):.0%} |")


if __name__ == "__main__":
    main()
