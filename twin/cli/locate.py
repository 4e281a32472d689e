"""`twin locate`: where a machine's model stands in a scan of the workshop."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from twin import registration
from twin.cli.errors import CliError
from twin.geometry import matrix_to_quaternion
from twin.registration import align_global_detailed
from twin.scanfolder import read_cloud

COMMAND = "locate"
HELP = "find where a machine's model (PLY, OBJ, STL or glTF mesh) stands in a scan"
DESCRIPTION = """\
Sample the machine's model to points and register it globally onto the scan (features,
RANSAC, ICP: no initial guess needed). Prints the model's pose in the scan, T_scan_model,
as a 4x4 matrix and as the twin document's pose (translation, quaternion x y z w), with how
well it fits. Instructions authored on the model follow it into the twin with this pose.

The model is read as the twin does for machines (glTF turned from y-up to z-up; STL, OBJ and
PLY taken as z-up); --model-scale converts its units to metres (0.001 for millimetres). The
scan is a PLY, PCD, XYZ or PTS point cloud in metres.

"found: no" means no trustworthy pose: the machine may not be in the scan, be too little of
it, or be too plain (a flat panel fits anywhere on a wall). The exit code is then 1.

examples:
  twin locate lathe.stl workshop.ply --model-scale 0.001
  twin locate drill_press.glb workshop.ply --json
"""

MODEL_POINTS_PER_VOXEL_FACE = 4  # samples per voxel-sized square of model surface
MAX_MODEL_POINTS = 200_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="the machine's model: PLY, OBJ, STL, glTF or GLB mesh")
    parser.add_argument("scan", type=Path, help="the scan of the workshop (PLY, PCD, XYZ or PTS, metres)")
    parser.add_argument("--model-scale", type=float, default=1.0, metavar="S",
                        help="metres per model unit (default: 1; 0.001 for a model in millimetres)")
    parser.add_argument("--voxel-size", type=float, default=0.05, metavar="M",
                        help="registration resolution in metres (default: 0.05; smaller for small machines)")
    parser.add_argument("--seed", type=int, default=0, help="RANSAC seed; the same seed gives the same pose")
    parser.add_argument("--threads", type=int, default=0, metavar="N", help="threads to use (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def sample_model(path: Path, scale: float, voxel_size: float, seed: int) -> np.ndarray:
    """Points spread uniformly over the model's surface, in metres, in the machine frame."""
    import open3d as o3d

    from twin.export.model_import import import_model

    mesh = import_model(path, scale)
    o3d_mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.vertices),
                                         o3d.utility.Vector3iVector(mesh.triangles.astype(np.int32)))
    area = o3d_mesh.get_surface_area()
    if not area > 0:
        raise CliError(f"{path}: the model's triangles have no area; is it a valid mesh?")
    count = int(min(MAX_MODEL_POINTS, max(1000, MODEL_POINTS_PER_VOXEL_FACE * area / voxel_size ** 2)))
    o3d.utility.random.seed(seed)  # the same model gives the same samples
    return np.asarray(o3d_mesh.sample_points_uniformly(count).points)


def run(args: argparse.Namespace) -> int:
    if not (args.voxel_size > 0):
        raise CliError(f"--voxel-size must be a positive number of metres, got {args.voxel_size}")
    model = sample_model(args.model, args.model_scale, args.voxel_size, args.seed)
    scan, _ = read_cloud(args.scan)
    registration.set_num_threads(args.threads)
    start = time.perf_counter()
    detail = align_global_detailed(model, scan, voxel_size=args.voxel_size, seed=args.seed)
    seconds = time.perf_counter() - start
    result = detail.result
    T = np.array(result.T_target_source)
    qx, qy, qz, qw = matrix_to_quaternion(T[:3, :3])
    found = bool(result.converged)
    if args.json:
        print(json.dumps({
            "found": found, "T_scan_model": T.tolist(),
            "pose": {"translation": T[:3, 3].tolist(), "rotation": [qx, qy, qz, qw]},
            "fitness": result.fitness, "inlier_rmse": result.inlier_rmse, "overlap": detail.overlap,
            "matching_features": detail.consensus, "seconds": seconds,
        }))
    else:
        print(f"found        {'yes' if found else 'no (no trustworthy pose: see twin locate --help)'}")
        print("T_scan_model =")
        print(np.array2string(T, precision=6, suppress_small=True, floatmode="fixed"))
        print(f"translation  {T[0, 3]:.4f} {T[1, 3]:.4f} {T[2, 3]:.4f} m")
        print(f"rotation     {qx:.6f} {qy:.6f} {qz:.6f} {qw:.6f}   (quaternion x y z w)")
        print(f"fitness      {result.fitness:.3f}   (share of model samples with scan points within "
              f"{1.5 * args.voxel_size:.3g} m; parts the scanner did not see count against it)")
        print(f"overlap      {detail.overlap:.3f}   matching features: {detail.consensus}")
        print(f"inlier_rmse  {result.inlier_rmse:.4f} m   seconds: {seconds:.2f}")
    return 0 if found else 1
