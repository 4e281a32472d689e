"""`twin plan`: a floor plan of a scan folder in one layout (or two side by side), as SVG, PDF or DXF."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from twin.cli.errors import CliError
from twin.cli.progress import stage_bars

COMMAND = "plan"
HELP = "draw a floor plan (walls, doors, windows, machines, clearances) as SVG, PDF or DXF"
DESCRIPTION = """\
Draw the floor plan of the scan folder SCAN: the walls and the doors and windows found in
SCAN/cloud.ply (levelled, z up), each machine's footprint where the layout puts it with its
name, its clearance zone (red where it crosses a wall or another zone), the walkway beside
it, its distance to the nearest wall, the room's dimensions, a scale bar, an up arrow and a
title block. Walls that the scan barely saw are dashed, and the title block says so.

The walls are found once and kept in SCAN/twin.json as `floor_plan` (correct them there or
in the viewer); --refresh finds them again. The output's suffix picks the format:
  .svg  for a browser or Inkscape      .pdf  for printing at --scale on --paper
  .dxf  for CAD, in metres, on the layers walls, openings, machines, clearance,
        dimensions and text

examples:
  twin plan scans/sample_workshop -o plan.pdf --scale 100 --paper A4
  twin plan scans/sample_workshop --layout open-floor -o plan.dxf
  twin plan scans/sample_workshop --compare as-scanned open-floor -o compare.pdf --paper A3
"""
_AS_SCANNED = "as-scanned"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scan", type=Path, help="the scan folder, e.g. scans/NAME (with twin.json and cloud.ply)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="plan.svg, plan.pdf or plan.dxf")
    parser.add_argument("--layout", metavar="L", help="the document's layout to draw (default: the room as scanned)")
    parser.add_argument("--compare", nargs=2, metavar=("L1", "L2"),
                        help=f"draw two layouts side by side, machines that moved highlighted ({_AS_SCANNED!r}: "
                             "the room as scanned)")
    parser.add_argument("--scale", type=int, default=100, metavar="N", help="print at 1:N (20, 50, 100, 200; default 100)")
    parser.add_argument("--paper", default="A4", choices=("A4", "A3"), help="paper, landscape (default A4)")
    parser.add_argument("--refresh", action="store_true", help="find the walls in the cloud again")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures")


def run(args: argparse.Namespace) -> int:
    from twin.plan import build_drawing, scan_with_floor_plan, write_plan
    from twin.plan.compare import moved_machines

    if args.layout and args.compare:
        raise CliError("give --layout or --compare, not both")
    started = time.perf_counter()
    with stage_bars() as progress:
        document, found = scan_with_floor_plan(args.scan, refresh=args.refresh, progress=progress)
    if args.compare:
        first, second = (None if name == _AS_SCANNED else name for name in args.compare)
        moved = moved_machines(document, first, second)
        left = build_drawing(document, first)
        width = left.bounds()[1][0] - left.bounds()[0][0]
        right = build_drawing(document, second, offset_m=(width + 1.0, 0.0), moved=moved)
        left.shapes += right.shapes
        left.labels += right.labels
        left.notes += right.notes
        drawing = left
    else:
        drawing = build_drawing(document, args.layout)
    write_plan(drawing, args.output, scale=args.scale, paper=args.paper)
    plan = document.floor_plan
    figures = {
        "plan": str(args.output), "walls": len(plan.walls),
        "doors": sum(o.kind == "door" for o in plan.openings), "windows": sum(o.kind == "window" for o in plan.openings),
        "uncertain_walls": drawing.notes, "walls_found_now": found, "seconds": round(time.perf_counter() - started, 2),
    }
    if args.compare:
        figures["moved"] = sorted(moved)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{args.output}: {figures['walls']} walls, {figures['doors']} doors, {figures['windows']} windows"
              + (f", moved: {', '.join(sorted(moved))}" if args.compare else "") + f" ({figures['seconds']} s)")
        for note in drawing.notes:
            print(f"  dashed: {note}")
    return 0
