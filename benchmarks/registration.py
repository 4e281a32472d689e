"""Registration benchmark: twin's core against Open3D 0.20 and small_gicp 1.0.1, same run, same settings.

    .venv/bin/python benchmarks/registration.py [--runs 7] [--threads 2] [--omp-wait-policy passive]

On kitti_pair (against its reference transform) and on 3dmatch_kitchen moved by a known rigid
offset (exact truth), each library runs point-to-plane ICP and GICP with the same voxel size,
correspondence distance, iteration cap, neighbour count and thread count. Runs alternate between
the libraries so that load from other processes falls on all of them alike. The table gives the
median end-to-end time (downsampling, normals or covariances, trees, registration), the median
time of the registration step alone (clouds already prepared), the ratios of each library's
times to ours (> 1: ours is faster), and the rotation / translation errors.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NUM_NEIGHBORS = 10
MAX_ITERATIONS = 64
ROTATION_EPSILON_DEG = 0.1
TRANSLATION_EPSILON_M = 1e-3
METHODS = ("point_to_plane", "gicp")
LIBRARIES = ("twin", "open3d", "small_gicp")


@dataclass
class Case:
    name: str
    source: np.ndarray
    target: np.ndarray
    T_truth: np.ndarray
    voxel_size: float
    max_distance: float


@dataclass
class Run:
    end_to_end_ms: float
    registration_ms: float
    T: np.ndarray


def read_points(path: Path) -> np.ndarray:
    import open3d as o3d

    return np.asarray(o3d.io.read_point_cloud(str(path)).points)


def load_cases(data: Path) -> list[Case]:
    kitti = data / "registration/kitti_pair"
    kitchen = read_points(data / "registration/3dmatch_kitchen/cloud_bin_0.ply")
    # A known offset: 6 degrees about a tilted axis and 12 cm, applied to a copy of the fragment.
    T_offset = np.eye(4)
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    from scipy.spatial.transform import Rotation

    T_offset[:3, :3] = Rotation.from_rotvec(np.radians(6.0) * axis).as_matrix()
    T_offset[:3, 3] = [0.08, -0.06, 0.06]
    moved = (kitchen - T_offset[:3, 3]) @ T_offset[:3, :3]  # T_offset^-1 applied: source frame
    return [
        Case("kitti_pair", read_points(kitti / "source.ply"), read_points(kitti / "target.ply"),
             np.loadtxt(kitti / "T_target_source.txt"), voxel_size=0.25, max_distance=1.0),
        Case("3dmatch_kitchen", moved, kitchen, T_offset, voxel_size=0.03, max_distance=0.15),
    ]


def pose_error(T: np.ndarray, T_truth: np.ndarray) -> tuple[float, float]:
    from scipy.spatial.transform import Rotation

    D = np.linalg.inv(T_truth) @ T
    return float(np.degrees(Rotation.from_matrix(D[:3, :3]).magnitude())), float(np.linalg.norm(D[:3, 3]))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - start) * 1e3


def run_twin(case: Case, method: str, threads: int) -> Run:
    from twin import registration

    registration.set_num_threads(threads)
    settings = dict(method=method, max_correspondence_distance=case.max_distance, max_iterations=MAX_ITERATIONS,
                    rotation_epsilon_deg=ROTATION_EPSILON_DEG, translation_epsilon=TRANSLATION_EPSILON_M)

    def end_to_end():
        target = registration.prepare(case.target, voxel_size=case.voxel_size, num_neighbors=NUM_NEIGHBORS)
        return registration.align(case.source, target, voxel_size=case.voxel_size, **settings)

    result, e2e_ms = timed(end_to_end)
    target = registration.prepare(case.target, voxel_size=case.voxel_size, num_neighbors=NUM_NEIGHBORS)
    source = registration.prepare(case.source, voxel_size=case.voxel_size, num_neighbors=NUM_NEIGHBORS)
    _, reg_ms = timed(lambda: registration.align(source, target, **settings))
    return Run(e2e_ms, reg_ms, result.T_target_source)


def run_open3d(case: Case, method: str, threads: int) -> Run:
    import open3d as o3d

    reg = o3d.pipelines.registration
    criteria = reg.ICPConvergenceCriteria(max_iteration=MAX_ITERATIONS)
    knn = o3d.geometry.KDTreeSearchParamKNN(NUM_NEIGHBORS)

    # Normals for both methods: Open3D's GICP turns them into plane-regularised covariances itself
    # (covariances estimated beforehand would be used raw, singular on planes).
    def prepare(points):
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points)).voxel_down_sample(case.voxel_size)
        cloud.estimate_normals(knn)
        return cloud

    def register(source, target):
        if method == "gicp":
            return reg.registration_generalized_icp(source, target, case.max_distance, np.eye(4),
                                                    reg.TransformationEstimationForGeneralizedICP(), criteria)
        return reg.registration_icp(source, target, case.max_distance, np.eye(4),
                                    reg.TransformationEstimationPointToPlane(), criteria)

    # Open3D's point-to-plane needs no source normals; prepare the source with points only then.
    def end_to_end():
        target = prepare(case.target)
        source = (prepare(case.source) if method == "gicp" else
                  o3d.geometry.PointCloud(o3d.utility.Vector3dVector(case.source)).voxel_down_sample(case.voxel_size))
        return register(source, target)

    result, e2e_ms = timed(end_to_end)
    source, target = prepare(case.source), prepare(case.target)
    _, reg_ms = timed(lambda: register(source, target))
    return Run(e2e_ms, reg_ms, np.asarray(result.transformation))


def run_small_gicp(case: Case, method: str, threads: int) -> Run:
    import small_gicp

    kind = "GICP" if method == "gicp" else "PLANE_ICP"
    common = dict(registration_type=kind, max_correspondence_distance=case.max_distance, num_threads=threads,
                  max_iterations=MAX_ITERATIONS, rotation_epsilon=np.radians(ROTATION_EPSILON_DEG),
                  translation_epsilon=TRANSLATION_EPSILON_M)
    result, e2e_ms = timed(lambda: small_gicp.align(case.target, case.source, downsampling_resolution=case.voxel_size,
                                                    **common))
    target, tree = small_gicp.preprocess_points(case.target, case.voxel_size, NUM_NEIGHBORS, num_threads=threads)
    source, _ = small_gicp.preprocess_points(case.source, case.voxel_size, NUM_NEIGHBORS, num_threads=threads)
    _, reg_ms = timed(lambda: small_gicp.align(target, source, tree, **common))
    return Run(e2e_ms, reg_ms, result.T_target_source)


RUNNERS = {"twin": run_twin, "open3d": run_open3d, "small_gicp": run_small_gicp}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="runs per library and case (median; at least 5)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every library")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data")
    parser.add_argument("--omp-wait-policy", choices=("default", "passive", "active"), default="default",
                        help="OpenMP wait policy for every library; passive keeps idle threads from spinning, "
                             "which matters on a machine that other processes keep busy")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("use at least 5 runs: the table reports medians")
    # Open3D takes its thread count from OpenMP's environment, read once at import.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.omp_wait_policy != "default":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    if not (args.data / "registration").is_dir():
        print(f"no registration data under {args.data}; pass --data", file=sys.stderr)
        return 2

    cases = load_cases(args.data)
    # Other processes' load stretches wall times, most of all for multi-threaded runs: say how busy.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"threads {args.threads}, runs {args.runs} (alternating, median), k = {NUM_NEIGHBORS}, "
          f"iteration cap {MAX_ITERATIONS}, OpenMP wait policy {args.omp_wait_policy}, "
          f"load average {load} on {os.cpu_count()} cores", flush=True)
    rows = []
    for case in cases:
        for method in METHODS:
            runs = {lib: [] for lib in LIBRARIES}
            for i in range(args.runs + 1):  # the first round warms caches and thread pools
                order = LIBRARIES[i % 3:] + LIBRARIES[:i % 3]
                for lib in order:
                    run = RUNNERS[lib](case, method, args.threads)
                    if i:
                        runs[lib].append(run)
            ours_e2e = statistics.median(r.end_to_end_ms for r in runs["twin"])
            ours_reg = statistics.median(r.registration_ms for r in runs["twin"])
            for lib in LIBRARIES:
                e2e = statistics.median(r.end_to_end_ms for r in runs[lib])
                reg = statistics.median(r.registration_ms for r in runs[lib])
                rot, trans = pose_error(runs[lib][-1].T, case.T_truth)
                rows.append((case.name, method, lib, e2e, reg, e2e / ours_e2e, reg / ours_reg, rot, trans))
            print(f"  done: {case.name} {method}", file=sys.stderr, flush=True)

    header = ("dataset", "method", "library", "e2e ms", "reg ms", "e2e / ours", "reg / ours", "rot err deg",
              "trans err m")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, method, lib, e2e, reg, r_e2e, r_reg, rot, trans in rows:
        print(f"| {name} | {method} | {lib} | {e2e:.1f} | {reg:.1f} | {r_e2e:.2f} | {r_reg:.2f} | {rot:.3f} | {trans:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
