"""`twin markers`: print the ArUco / AprilTag markers that scans find and AR aligns on."""
from __future__ import annotations

import argparse
from pathlib import Path

from twin.cli.errors import CliError

COMMAND = "markers"
HELP = "make a printable A4 sheet of markers to put up before scanning (AR then aligns on them)"
DESCRIPTION = """\
Write an A4 sheet of printed markers. Put them up flat on walls or machines before you scan:
the photo and RGB-D pipelines find them (metric scale for photos, anchors.json for both),
twin export makes them anchors of the twin, and the AR viewer aligns the twin on them when a
phone sees them, with no tapping.

Print the SVG at 100 % (no "fit to page") and measure the black square: give that size to
`twin reconstruct --marker-size` for photo folders. Markers far apart, on two walls or more,
align AR best.

examples:
  twin markers 0 1 2 3 4 -o markers.svg                    # 16 cm DICT_4X4_50, as the sample workshop
  twin markers 0 1 2 3 --size 0.08 -o small.svg
  twin markers 5 6 --dictionary DICT_APRILTAG_36h11 -o tags.png --dpi 600
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", type=int, nargs="+", metavar="ID", help="marker ids to print (each once)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the sheet: FILE.svg (exact size, for printing) or FILE.png")
    parser.add_argument("--size", type=float, default=0.16, metavar="M",
                        help="side of the black square in metres (default 0.16)")
    parser.add_argument("--dictionary", default="DICT_4X4_50",
                        help="OpenCV dictionary (default DICT_4X4_50; the pipelines also look for DICT_APRILTAG_36h11)")
    parser.add_argument("--dpi", type=int, default=300, help="resolution of a PNG sheet (default 300)")


def run(args: argparse.Namespace) -> int:
    from twin.markers.sheet import marker_sheet, write_sheet

    if args.output.parent and not args.output.parent.is_dir():
        raise CliError(f"{args.output.parent}: no such folder")
    sheet = marker_sheet(args.dictionary, args.ids, args.size)
    write_sheet(sheet, args.output, dpi=args.dpi)
    print(f"wrote {len(sheet.ids)} {sheet.dictionary} marker(s) of {sheet.size_mm:g} mm to {args.output}")
    print("print it at 100 % scale and check the black square measures "
          f"{sheet.size_mm:g} mm before putting the markers up")
    return 0
