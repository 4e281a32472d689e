"""`twin merge`: several scans of one workshop put into the frame of the first, merged into one cloud."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from twin import registration
from twin.cli.errors import CliError
from twin.cli.progress import stage_progress
from twin.reconstruct.scan_merge import merge_scans
from twin.scanfolder import read_cloud, write_json, write_point_cloud_ply

COMMAND = "merge"
HELP = "put several scans of one place into the frame of the first and merge them into one cloud"
DESCRIPTION = """\
Register every pair of scans globally (any initial placement: features, RANSAC, ICP), keep the
pairs whose alignment can be trusted, optimise the scans' poses in a pose graph that drops
alignments inconsistent with the others, refine each scan against the rest, and write the
merged cloud in the frame of the first scan.

Scans are PLY, PCD, XYZ or PTS point clouds in metres (colours are kept when every scan has
them). Beside OUT.ply goes OUT.json: each scan's 4x4 transform T_first_scan (scan coordinates
into the first scan's frame) and the pairwise results. A scan that no trusted alignment reaches
is left out of the merge and listed as not placed (exit code 1).

examples:
  twin merge corner.ply bench.ply door.ply -o workshop.ply
  twin merge a.pcd b.pcd -o merged.ply --voxel-size 0.1 --json > merge.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scans", type=Path, nargs="+", metavar="SCAN", help="two or more point cloud files")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.ply",
                        help="merged cloud to write (PLY); the transforms go to OUT.json")
    parser.add_argument("--voxel-size", type=float, default=0.05, metavar="M",
                        help="registration resolution in metres (default: 0.05; about 1/50 of a scan's size)")
    parser.add_argument("--seed", type=int, default=0, help="RANSAC seed; the same seed gives the same result")
    parser.add_argument("--threads", type=int, default=0, metavar="N", help="threads to use (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print the transforms JSON instead of text")


def run(args: argparse.Namespace) -> int:
    if len(args.scans) < 2:
        raise CliError("give at least two scans to merge")
    if args.output.suffix.lower() != ".ply":
        raise CliError(f"the merged cloud is written as PLY: name the output something.ply, not {args.output.name}")
    if not args.output.parent.is_dir():
        raise CliError(f"cannot write {args.output}: the folder {args.output.parent} does not exist")
    scans = [read_cloud(path) for path in args.scans]
    clouds = [points for points, _ in scans]
    # Colours are kept only when every scan has them.
    colors = None if any(c is None for _, c in scans) else [c for _, c in scans]
    registration.set_num_threads(args.threads)
    start = time.perf_counter()
    with stage_progress("merging") as report:
        merged = merge_scans(clouds, voxel_size=args.voxel_size, seed=args.seed,
                             progress=lambda stage, done, total: report(done, total))
    seconds = time.perf_counter() - start

    placed = [k for k, pose in enumerate(merged.poses) if pose is not None]
    points = np.concatenate([clouds[k] @ merged.poses[k][:3, :3].T + merged.poses[k][:3, 3] for k in placed])
    point_colors = None if colors is None else np.concatenate([colors[k] for k in placed])
    transforms = {
        "reference": str(args.scans[0]),
        "scans": [{"path": str(path), "placed": merged.poses[k] is not None,
                   "T_first_scan": None if merged.poses[k] is None else merged.poses[k].tolist(),
                   "residual_m": merged.residuals_m[k]}
                  for k, path in enumerate(args.scans)],
        "pairs": [{"i": p.i, "j": p.j, "trusted": p.trusted, "fitness": p.fitness, "in_graph": p.in_graph,
                   "accepted": p.accepted} for p in merged.pairs],
        "seconds": seconds,
    }
    json_path = args.output.with_suffix(".json")
    write_point_cloud_ply(args.output, points, point_colors)
    write_json(json_path, transforms)

    if args.json:
        print(json.dumps(transforms))
    else:
        for k, path in enumerate(args.scans):
            state = "reference" if k == 0 else ("placed" if merged.poses[k] is not None else "NOT PLACED")
            print(f"{path}: {state}")
        rejected = sum(1 for p in merged.pairs if p.in_graph and not p.accepted)
        print(f"{sum(p.trusted for p in merged.pairs)} of {len(merged.pairs)} pairs aligned with confidence, "
              f"{rejected} dropped by the pose graph as inconsistent")
        print(f"wrote {len(points)} points to {args.output} and the transforms to {json_path} ({seconds:.1f} s)")
    if len(placed) < len(clouds):
        print(f"twin merge: {len(clouds) - len(placed)} scan(s) could not be placed: no trusted overlap with the "
              "others (scan more overlap between them, or try another --voxel-size)", file=sys.stderr)
        return 1
    return 0
