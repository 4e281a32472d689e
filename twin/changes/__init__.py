"""Change detection between two scans of a room: what moved, arrived or left since the last scan.

Room: floor 3; imports registration, scanfolder, document and geometry; only the CLI imports it.

    from twin import changes
    result = changes.diff_scans(old_points, new_points, document=twin_document, voxel_size_m=0.05)
    result.converged        # False: no reliable alignment of NEW to OLD, and no changes claimed
    result.T_old_new        # (4, 4): maps NEW's points into OLD's frame
    result.changes          # [Change(kind="moved", machine="printer-1", motion=Motion(...)), ...]
    result.distance, result.significant   # per NEW point, in OLD's frame (M3C2 or C2C, metres)
    changes.m3c2(core, epoch1, epoch2, normal_radius_m=0.1, cylinder_radius_m=0.05, max_depth_m=0.5)
    changes.cloud_to_cloud(queries, reference, max_distance_m=1.0)
    changes.diff_summary(result)   # the JSON object of `twin diff --json` and changes.json
    changes.write_diff_files(out_dir, result, voxel_size_m)   # changes.json, distances.ply, a coloured copy
"""
from twin.changes.alignment import ScanAlignment, align_scans
from twin.changes.colors import distance_colors
from twin.changes.diff import Change, DiffSettings, ScanDiff, diff_scans
from twin.changes.distances import M3c2Distances, cloud_to_cloud, m3c2
from twin.changes.motion import Motion
from twin.changes.outputs import color_scale_m, write_diff_files
from twin.changes.regions import Region, connected_regions
from twin.changes.summary import change_summary, diff_summary

__all__ = [
           "Change",
           "DiffSettings",
           "M3c2Distances",
           "Motion",
           "Region",
           "ScanAlignment",
           "ScanDiff",
           "align_scans",
           "change_summary",
           "cloud_to_cloud",
           "color_scale_m",
           "connected_regions",
           "diff_scans",
           "diff_summary",
           "distance_colors",
           "m3c2",
           "write_diff_files",
]
