"""Why GICP's rotation error on kitti_pair differs between twin and Open3D: the voxel grid, not the solver.

    .venv/bin/python benchmarks/voxel_grid_aliasing.py [--shifts 0 0.05 0.1 0.125 0.2]

benchmarks/registration.py measured twin's GICP 0.33 deg from kitti_pair's reference and Open3D's
0.23 deg, at the same 25 cm voxels. The two libraries place the voxel grid differently (twin's cells
start at the origin, Open3D's at the cloud's minimum corner), so they register different points.
This script swaps the downsampled clouds between the libraries (each registers the other's
voxels, without downsampling again), then moves the whole pair by a few centimetres before
downsampling (the same pair, the same truth: only the grid's placement changes), lets both libraries
register the same voxels of each, and prints their rotation and translation errors. (Open3D's own
grid follows the cloud's corner, so moving the pair does not move it.) The reference transform is
itself uncertain by about 0.23 deg (shared/data/README.md): differences below that say little.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registration import MAX_ITERATIONS, NUM_NEIGHBORS, load_cases, pose_error  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def twin_gicp(source: np.ndarray, target: np.ndarray, voxel_size: float | None, max_distance: float) -> np.ndarray:
    from twin import registration

    prepared = registration.prepare(target, voxel_size=voxel_size, num_neighbors=NUM_NEIGHBORS)
    return registration.align(source, prepared, voxel_size=voxel_size, method="gicp", max_iterations=MAX_ITERATIONS,
                              max_correspondence_distance=max_distance, rotation_epsilon_deg=0.001,
                              translation_epsilon=1e-6).T_target_source


def twin_points(points: np.ndarray, voxel_size: float) -> np.ndarray:
    from twin.registration.clouds import voxel_downsample

    return np.ascontiguousarray(voxel_downsample(points, voxel_size))


def open3d_cloud(points: np.ndarray, voxel_size: float | None):
    import open3d as o3d

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if voxel_size is not None:
        cloud = cloud.voxel_down_sample(voxel_size)
    cloud.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(NUM_NEIGHBORS))
    return cloud


def open3d_gicp(source, target, max_distance: float) -> np.ndarray:
    import open3d as o3d

    reg = o3d.pipelines.registration
    result = reg.registration_generalized_icp(source, target, max_distance, np.eye(4),
                                              reg.TransformationEstimationForGeneralizedICP(),
                                              reg.ICPConvergenceCriteria(max_iteration=MAX_ITERATIONS))
    return np.asarray(result.transformation)


def _row(label: str, T: np.ndarray, T_truth: np.ndarray) -> str:
    rotation_deg, translation_m = pose_error(T, T_truth)
    return f"| {label} | {rotation_deg:.3f} | {translation_m:.4f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shifts", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.125, 0.2],
                        help="offsets in metres (along x, y and z) applied to the pair before downsampling")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"{DATA} is absent: this script needs shared/data/registration/kitti_pair", file=sys.stderr)
        return 2
    case = next(c for c in load_cases(DATA) if c.name == "kitti_pair")
    voxel, distance = case.voxel_size, case.max_distance
    print(f"kitti_pair, GICP, {voxel} m voxels, k = {NUM_NEIGHBORS}, correspondences within {distance} m")
    print("| run | rotation error deg | translation error m |\n|---|---|---|")
    twin_down = [twin_points(case.source, voxel), twin_points(case.target, voxel)]
    o3d_source, o3d_target = open3d_cloud(case.source, voxel), open3d_cloud(case.target, voxel)
    o3d_down = [np.ascontiguousarray(np.asarray(c.points)) for c in (o3d_source, o3d_target)]
    print(_row("twin on its own voxels", twin_gicp(case.source, case.target, voxel, distance), case.T_truth))
    print(_row("Open3D on its own voxels", open3d_gicp(o3d_source, o3d_target, distance), case.T_truth))
    print(_row("twin on Open3D's voxels", twin_gicp(*o3d_down, None, distance), case.T_truth))
    print(_row("Open3D on twin's voxels", open3d_gicp(*(open3d_cloud(p, None) for p in twin_down), distance),
               case.T_truth))
    for shift in args.shifts:
        T_shift = np.eye(4)
        T_shift[:3, 3] = shift
        source, target = case.source + shift, case.target + shift
        back = lambda T: np.linalg.inv(T_shift) @ T @ T_shift  # noqa: E731 (the pair's own frame again)
        down = [twin_points(source, voxel), twin_points(target, voxel)]
        print(_row(f"twin, pair moved {shift:.3f} m", back(twin_gicp(source, target, voxel, distance)), case.T_truth))
        print(_row("Open3D on twin's voxels of it", back(open3d_gicp(*(open3d_cloud(p, None) for p in down), distance)),
                   case.T_truth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
