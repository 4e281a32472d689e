"""A diff's files in a folder: changes.json (`diff_summary`), distances.ply (NEW's points in OLD's
frame with `distance` and `significant`) and, for viewing, distances_colored.ply. Without a
reliable alignment only changes.json is written: it says so, and no distances are claimed."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.changes.colors import distance_colors
from twin.changes.diff import ScanDiff
from twin.changes.summary import diff_summary
from twin.scanfolder import write_json, write_point_cloud_ply

CHANGES_FILE, DISTANCES_FILE, COLORED_FILE = "changes.json", "distances.ply", "distances_colored.ply"


def color_scale_m(voxel_size_m: float) -> float:
    """The distance at which the colours of `distance_colors` reach full strength."""
    return 10 * voxel_size_m


def write_diff_files(out_dir: str | Path, result: ScanDiff, voxel_size_m: float, *, colored_copy: bool = True) -> dict:
    """Writes the files (each atomically) into `out_dir` (created) and returns the summary."""
    out_dir = Path(out_dir)
    summary = diff_summary(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / CHANGES_FILE, summary)
    if result.converged:
        scalars = {"distance": np.nan_to_num(result.distance, nan=0.0), "significant": result.significant}
        write_point_cloud_ply(out_dir / DISTANCES_FILE, result.new_in_old, scalars=scalars)
        if colored_copy:
            colours = distance_colors(result.distance, result.significant, color_scale_m(voxel_size_m))
            write_point_cloud_ply(out_dir / COLORED_FILE, result.new_in_old, colours)
    return summary
