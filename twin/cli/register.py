"""`twin register`: align one point cloud file onto another."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from twin import registration
from twin.cli.errors import CliError
from twin.scanfolder import read_cloud, read_number_rows

COMMAND = "register"
HELP = "align a source point cloud onto a target cloud (ICP, point-to-plane or GICP)"
DESCRIPTION = """\
Find the rigid transform T_target_source that moves SOURCE onto TARGET and print it
with the registration's figures. Both files are PLY, PCD, XYZ or PTS point clouds in metres.

The initial guess must already be roughly right (within about a metre and ten degrees for
a 1 m correspondence distance); use --init to give one.

examples:
  twin register scan2.ply scan1.ply
  twin register scan2.ply scan1.ply --method point_to_plane --voxel-size 0.05 --max-distance 0.2
  twin register source.pcd target.pcd --init guess.txt --json > result.json

--init takes a text file of four lines of four numbers (a 4x4 rigid transform, source to
target). --json prints one object with T_target_source, fitness, inlier_rmse, iterations,
converged and seconds (time spent preparing and aligning, not reading files).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, help="the cloud to move (PLY, PCD, XYZ or PTS)")
    parser.add_argument("target", type=Path, help="the cloud to move it onto")
    parser.add_argument("--method", choices=registration.METHODS, default="gicp",
                        help="cost to minimise (default: gicp)")
    parser.add_argument("--voxel-size", type=float, default=0.25, metavar="M",
                        help="downsample both clouds on a grid of M metres first (default: 0.25)")
    parser.add_argument("--max-distance", type=float, default=1.0, metavar="M",
                        help="ignore point pairs farther apart than M metres (default: 1.0)")
    parser.add_argument("--init", type=Path, metavar="FILE",
                        help="text file with the initial 4x4 transform (default: identity)")
    parser.add_argument("--robust-kernel", choices=registration.ROBUST_KERNELS[1:],
                        help="down-weight large residuals (default: none)")
    parser.add_argument("--kernel-scale", type=float, metavar="M",
                        help="robust kernel scale in metres (default: a third of --max-distance)")
    parser.add_argument("--max-iterations", type=int, default=64, metavar="N", help="iteration cap (default: 64)")
    parser.add_argument("--threads", type=int, default=0, metavar="N", help="threads to use (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def read_transform(path: Path) -> np.ndarray:
    try:
        matrix = read_number_rows(path, "a row of the 4x4 transform")
    except ValueError as error:  # its sentence starts with the file's name
        raise CliError(f"cannot read the initial transform from {error}") from None
    if matrix.shape != (4, 4):
        raise CliError(f"{path} must hold 4 lines of 4 numbers (a 4x4 transform), "
                       f"found {matrix.shape[0]} line(s) of {matrix.shape[1]}")
    return registration.as_rigid_transform(matrix, name=f"the transform in {path}")


def run(args: argparse.Namespace) -> int:
    init = read_transform(args.init) if args.init else np.eye(4)
    source, _ = read_cloud(args.source)
    target, _ = read_cloud(args.target)
    registration.set_num_threads(args.threads)
    start = time.perf_counter()
    prepared = registration.prepare(target, voxel_size=args.voxel_size)
    result = registration.align(source, prepared, method=args.method, max_correspondence_distance=args.max_distance,
                                voxel_size=args.voxel_size, init=init, robust_kernel=args.robust_kernel,
                                kernel_scale=args.kernel_scale, max_iterations=args.max_iterations)
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({
            "T_target_source": result.T_target_source.tolist(), "fitness": result.fitness,
            "inlier_rmse": result.inlier_rmse, "iterations": result.iterations,
            "converged": result.converged, "seconds": seconds,
        }))
        return 0
    print("T_target_source =")
    print(np.array2string(result.T_target_source, precision=6, suppress_small=True, floatmode="fixed"))
    print(f"fitness      {result.fitness:.4f}   (share of source points with a match within {args.max_distance} m)")
    print(f"inlier_rmse  {result.inlier_rmse:.4f} m")
    print(f"iterations   {result.iterations}   converged: {'yes' if result.converged else 'no'}")
    print(f"seconds      {seconds:.3f}")
    return 0
