"""`twin diff OLD NEW -o OUT`: what changed in the room between two scans."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from twin import changes, document
from twin.cli.errors import CliError
from twin.cli.progress import stage_bars
from twin.scanfolder import read_cloud

COMMAND = "diff"
HELP = "show what changed between two scans of a room (moved, added, removed)"
DESCRIPTION = """\
Align NEW to OLD (global registration, then ICP with a robust kernel so that what changed does
not pull), measure M3C2 distances with a level of detection (C2C where one scan has no surface),
group significant points into change regions and pair removed and added regions that are one
object moved. With a twin document (OLD a scan folder holding twin.json, or --document), each
region is named by the machine it belongs to: "cnc-1 moved 1.22 m, turned 21°".

OLD and NEW are clouds (PLY, PCD, XYZ, PTS; metres) or scan folders (their cloud.ply).
Writes OUT/distances.ply (NEW's points in OLD's frame with `distance` and `significant`
properties), OUT/distances_colored.ply (grey unchanged, red out of OLD's surface, blue behind it)
and OUT/changes.json (what --json prints).

examples:
  twin diff scans/shop-2025 scans/shop-2026 -o diff/
  twin diff old.ply new.ply -o diff/ --voxel-size 0.03 --document scans/shop/twin.json
  twin diff scans/shop-2025 new.ply -o diff/ --json > changes.json

--json prints one object: {"T_old_new", "fitness", "converged", "changes": [{"kind", "centroid",
"bounds", "points", "machine"?, "motion"?}], "seconds"}. When NEW cannot be aligned reliably to
OLD, it says so (converged false), claims no changes and exits with status 1.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, help="the earlier scan: a cloud file or a scan folder")
    parser.add_argument("new", type=Path, help="the later scan: a cloud file or a scan folder")
    parser.add_argument("-o", "--out", type=Path, required=True, help="folder for distances.ply and changes.json")
    parser.add_argument("--document", type=Path, help="OLD's twin document (default: OLD/twin.json if present)")
    parser.add_argument("--voxel-size", type=float, default=0.05, metavar="M",
                        help="compare on a grid of M metres; changes smaller than 3 M are noise (default: 0.05)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def _cloud(path: Path) -> np.ndarray:
    if path.is_dir():
        path = path / "cloud.ply"
        if not path.is_file():
            raise CliError(f"{path.parent} is a folder without cloud.ply: give a scan folder or a cloud file")
    return read_cloud(path)[0]


def _document(args) -> document.TwinDocument | None:
    path = args.document or (args.old / "twin.json" if args.old.is_dir() else None)
    if path is None or (args.document is None and not path.is_file()):
        return None
    return document.load(path)


def run(args) -> int:
    old, new = _cloud(args.old), _cloud(args.new)
    twin_document = _document(args)
    with stage_bars() as progress:
        result = changes.diff_scans(old, new, document=twin_document,
                                    settings=changes.DiffSettings(voxel_size_m=args.voxel_size), progress=progress)
    summary = changes.write_diff_files(args.out, result, args.voxel_size)
    if args.json:
        print(json.dumps(summary))
    elif not result.converged:
        print(f"no reliable alignment of {args.new} to {args.old} (fitness {result.alignment.fitness:.2f}): "
              "no changes claimed. Are they scans of the same room, overlapping by at least a third?")
    else:
        print(f"aligned: fitness {result.alignment.fitness:.2f}, rmse {result.alignment.inlier_rmse * 1000:.1f} mm")
        print(f"{'kind':8} {'points':>7}  {'centroid (m)':22} what")
        for change in result.changes:
            x, y, z = change.centroid
            print(f"{change.kind:8} {change.points:7d}  ({x:6.2f}, {y:6.2f}, {z:5.2f})   {change.describe()}")
        if not result.changes:
            print("no changes above the level of detection")
        print(f"wrote {args.out / 'distances.ply'} and distances_colored.ply in {result.seconds:.1f} s")
    return 0 if result.converged else 1
