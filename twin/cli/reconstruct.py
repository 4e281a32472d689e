"""`twin reconstruct`: turn a capture into cameras, a coloured cloud and a mesh in a scan folder."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from twin.cli.errors import CliError
from twin.cli.progress import stage_bars
from twin.cli.versions import add_scan_version, add_version_options, added_json, print_added
from twin.scanfolder import read_scan_markers

COMMAND = "reconstruct"
HELP = "reconstruct a capture (RGB-D phone/depth-camera export or photo folder) into a scan folder"
DESCRIPTION = """\
Read CAPTURE, find out what kind it is, and write the reconstruction into the scan folder:
cloud.ply (coloured points), mesh.ply (coloured mesh), cameras.json (camera-to-world poses,
OpenCV axes) and report.json (stage timings, frames used and dropped with reasons, drift and
loop-closure figures). Stages already finished with the same settings are not redone when
you run the same command again; outputs appear only when their stage has finished.

Captures understood:
  a Record3D export (.r3d file)
  a Stray Scanner export (folder with rgb.mp4, depth/, confidence/, odometry.csv)
  a nerfstudio dataset with depth (folder with transforms.json)
  a TUM RGB-D folder (rgb.txt and depth.txt)
  an Open3D/Redwood folder (image/ and depth/, intrinsic.json picked up automatically)
  a folder of plain photos (the photo pipeline)

examples:
  twin reconstruct ../shared/data/rgbd/livingroom1_micro -o scans/livingroom
  twin reconstruct bench.r3d -o scans/bench --voxel-size 0.02
  twin reconstruct my_tum_sequence -o scans/desk --intrinsics 517.3 516.5 318.6 255.3 --depth-scale 5000
  twin reconstruct capture-2026/ -o scans/shop-2026 --version-of scans/shop   # a later scan of scans/shop
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("capture", type=Path, help="the capture: a folder or an .r3d file")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="SCAN",
                        help="scan folder to write into, e.g. scans/NAME (created if needed)")
    add_reconstruct_options(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a summary")
    versions = parser.add_argument_group("versions")
    versions.add_argument("--version-of", type=Path, metavar="TWIN_SCAN",
                          help="then add the new cloud.ply as the next version of TWIN_SCAN (twin versions add)")
    add_version_options(versions, prefix="version-")


def add_reconstruct_options(parser: argparse.ArgumentParser) -> None:
    """The reconstruction settings, shared with `twin batch` (which applies them to every capture)."""
    parser.add_argument("--intrinsics", type=float, nargs=4, metavar=("FX", "FY", "CX", "CY"),
                        help="pinhole intrinsics in pixels, for folders without intrinsic.json")
    parser.add_argument("--depth-scale", type=float, metavar="UNITS",
                        help="depth image units per metre (default: from intrinsic.json, else 1000; TUM 5000)")
    parser.add_argument("--voxel-size", type=float, metavar="M", help="mesh detail in metres (default: 0.01)")
    parser.add_argument("--depth-max", type=float, metavar="M", help="ignore depth beyond M metres (default: 4.0)")
    parser.add_argument("--no-loop-closure", action="store_true", help="skip loop closure between fragments")
    parser.add_argument("--marker-frames", type=int, metavar="N",
                        help="colour frames searched for printed markers, spread over the walk (default 120)")
    parser.add_argument("--marker-dictionaries", nargs="+", metavar="DICT",
                        help="OpenCV marker dictionaries to look for, in photos and RGB-D frames alike "
                             "(default DICT_4X4_50 DICT_APRILTAG_36h11); found markers go to anchors.json, "
                             "which twin export turns into the AR viewer's alignment anchors")
    photos = parser.add_argument_group("photo folders")
    photos.add_argument("--marker-size", type=float, metavar="M",
                        help="printed side of the ArUco/AprilTag markers in the photos, in metres (gives the scale)")
    photos.add_argument("--known-distance", nargs=3, metavar=("MARKER", "MARKER", "M"),
                        help="metres between the centres of two markers (ids like 7 or DICT_4X4_50:7)")
    photos.add_argument("--matcher", choices=["auto", "exhaustive", "sequential"],
                        help="feature matching (default auto: exhaustive up to 60 photos, else sequential)")
    photos.add_argument("--mapper", choices=["incremental", "global"], help="SfM mapper (default incremental)")
    photos.add_argument("--dense-size", type=int, metavar="PX",
                        help="longer side of the depth maps in pixels (default 1024)")
    photos.add_argument("--no-mesh", action="store_true", help="stop after cloud.ply and cameras.json")


def run(args: argparse.Namespace) -> int:
    from twin.capture import detect
    from twin.reconstruct import reconstruct

    kind = detect(args.capture)
    with stage_bars() as progress:
        result = reconstruct(args.capture, args.output, progress=progress, **reconstruct_options(args, args.capture))

    added = None if args.version_of is None else add_scan_version(args.version_of, args.output / "cloud.ply", args,
                                                                   source=str(args.capture))
    if args.json:
        report = result.as_report()
        print(json.dumps(report if added is None else {**report, "version_of": added_json(added)}, indent=2))
        return 0
    _print_summary(args.output, kind, result)
    if added is not None:
        print_added(args.version_of, added)
    return 0


def reconstruct_options(args: argparse.Namespace, capture: Path) -> dict:
    """The keyword arguments of `twin.reconstruct.reconstruct` for `capture` from the options of
    `add_reconstruct_options`; CliError where an option does not apply to that kind of capture."""
    from twin.camera import checked_intrinsics
    from twin.capture import detect

    kind = detect(capture)
    options, photo_options = {}, None
    if kind != "photos":
        options = {name: value for name, value in (("voxel_size_m", args.voxel_size), ("depth_max_m", args.depth_max),
                                                   ("marker_frames", args.marker_frames)) if value is not None}
        if args.no_loop_closure:
            options["loop_closure"] = False
    elif args.voxel_size or args.depth_max or args.no_loop_closure or args.marker_frames is not None:
        raise CliError("--voxel-size, --depth-max, --no-loop-closure and --marker-frames apply to RGB-D captures; "
                       f"{capture} is a folder of photos")
    else:
        photo_options = _photo_options(args)
    photo_flags = (args.marker_size, args.known_distance, args.matcher, args.mapper, args.dense_size)
    if kind != "photos" and (any(flag is not None for flag in photo_flags) or args.no_mesh):
        raise CliError(f"--marker-size, --known-distance, --matcher, --mapper, --dense-size and --no-mesh apply to "
                       f"folders of photos; {capture} is a {kind} capture")
    if args.marker_dictionaries and kind != "photos":
        options["marker_dictionaries"] = tuple(args.marker_dictionaries)
    intrinsics = checked_intrinsics(*args.intrinsics) if args.intrinsics else None
    return {"intrinsics": intrinsics, "depth_scale": args.depth_scale, "photo_options": photo_options, **options}


def _photo_options(args: argparse.Namespace):
    from twin.reconstruct.photos.pipeline import PhotoOptions

    options = {name: value for name, value in (("marker_size_m", args.marker_size), ("matcher", args.matcher),
                                               ("mapper", args.mapper), ("dense_max_size", args.dense_size))
               if value is not None}
    if args.marker_dictionaries:
        options["marker_dictionaries"] = tuple(args.marker_dictionaries)
    if args.known_distance:
        first, second, metres = args.known_distance
        try:
            options["known_distance"] = (first, second, float(metres))
        except ValueError:
            raise CliError(f"--known-distance takes two markers and a distance in metres, got {metres!r}") from None
    if args.no_mesh:
        options["mesh"] = False
    return PhotoOptions(**options)


def _print_summary(out_dir: Path, kind: str, result) -> None:
    """`result` is a `PhotoResult` for a folder of photos (`kind` "photos"), else an `RgbdResult`."""
    print(f"reconstructed the {kind} capture into {out_dir}/")
    if kind == "photos":
        photos = result.photos
        print(f"  photos registered: {len(photos.registered)} of {photos.total}")
        for name, reason in photos.not_registered.items():
            print(f"    {name}: {reason}")
        print(f"  scale: {result.scale.status} ({result.scale.note}); up: {result.up}")
    else:
        frames = result.frames
        print(f"  frames used: {frames.used}, dropped: {frames.dropped}")
        for reason, count in frames.dropped_by_reason.items():
            print(f"    {count} dropped: {reason}")
        loops = result.loop_closure
        if loops.enabled:
            print(f"  loop closures: {loops.accepted} kept of {loops.candidates} found; "
                  f"largest fragment correction {100 * loops.largest_fragment_correction_m:.1f} cm")
        if result.drift is not None:
            print(f"  device poses vs reconstruction: {100 * result.drift.max_m:.1f} cm at most")
    _print_markers(out_dir / "anchors.json")
    for name, timing in result.stages.items():
        note = " (done before, reused)" if timing.reused else ""
        print(f"  {name}: {timing.seconds:.1f} s{note}")
    for name in ("mesh.ply", "cloud.ply", "cameras.json", "anchors.json", "report.json"):
        if (out_dir / name).is_file():
            print(f"  {out_dir / name}")


def _print_markers(anchors_json: Path) -> None:
    if not anchors_json.is_file():
        return
    markers = [m.marker.key for m in read_scan_markers(anchors_json)]
    if markers:
        print(f"  printed markers found: {len(markers)} ({', '.join(markers)}): twin export makes them the AR "
              "viewer's alignment anchors")
    else:
        print("  printed markers found: none (the AR viewer will align by tapping three anchors)")
