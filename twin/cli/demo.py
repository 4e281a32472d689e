"""`twin demo`: the whole path on the built-in sample workshop, from capture to a twin in the browser."""
from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path

from twin.cli.progress import stage_bars

COMMAND = "demo"
HELP = "build the sample workshop's twin end to end and serve it to the browser viewer"
DESCRIPTION = """Build the sample workshop's twin from scratch and open it in the browser.

Steps, each reused on a rerun when its outputs are already there:
  1. render   the procedural sample workshop (scans/sample_workshop.yaml) into an RGB-D walk
              through the room, a photo set and ground truth            -> OUT/capture/
  2. reconstruct the RGB-D capture: tracking on the C++ core, fusion    -> OUT/cloud.ply, mesh.ply,
              cameras.json, report.json
  3. export   the twin with its document (scans/sample_workshop.twin.yaml: machines, procedures,
              a tour, a layout)                                         -> OUT/twin.glb, tiles/, twin.json
  4. serve    it on http://127.0.0.1:PORT/ for the viewer (3D, instructions, tour, planner, AR),
              with its machines simulated live over MQTT and OPC UA (`twin simulate`)

examples:
  twin demo                      # everything, then serve until Ctrl-C
  twin demo --no-serve           # everything but serving
  twin demo --fresh --frames 120 # redo every step with a shorter walk
"""

SAMPLE_SCAN = Path("scans") / "sample_workshop"


def add_arguments(parser) -> None:
    parser.add_argument("-o", "--output", type=Path, default=SAMPLE_SCAN,
                        help=f"scan folder to build the sample twin in (default {SAMPLE_SCAN})")
    parser.add_argument("--frames", type=int, default=300, help="RGB-D frames along the walk (default 300)")
    parser.add_argument("--photos", type=int, default=40, help="photos for the photo pipeline (default 40)")
    parser.add_argument("--fresh", action="store_true", help="redo every step instead of reusing finished ones")
    parser.add_argument("--no-serve", action="store_true", help="stop after export instead of serving")
    parser.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765)")
    parser.add_argument("--no-simulate", action="store_true",
                        help="serve without the simulated live machine state")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default 127.0.0.1; 0.0.0.0 to open it from a phone on the LAN)")


def run(args) -> int:
    from twin.export import export_scan
    from twin.reconstruct import reconstruct
    from twin.synth import DEFAULT_SPEC, render_sample  # open3d and friends: only when the demo runs

    out: Path = args.output
    capture = out / "capture"
    if args.fresh:
        _forget_outputs(out)
    started = time.perf_counter()

    if (capture / "rgbd").is_dir() and (capture / "ground_truth").is_dir():
        print(f"1/4 sample capture: reusing {capture}/")
    else:
        print(f"1/4 rendering the sample workshop into {capture}/")
        with stage_bars() as progress:
            render_sample(capture, frames=args.frames, photos=args.photos, progress=progress)

    print(f"2/4 reconstructing {capture / 'rgbd'} into {out}/")
    with stage_bars() as progress:
        frames = reconstruct(capture / "rgbd", out, progress=progress).frames
    print(f"    frames used {frames.used}, dropped {frames.dropped}")

    print(f"3/4 exporting the twin into {out}/")
    with stage_bars() as progress:
        # The sample's twin document lies beside its workshop spec (machines, procedures, a tour, a layout).
        result = export_scan(out, DEFAULT_SPEC.with_name("sample_workshop.twin.yaml"), progress=progress)
    print(f"    {result.glb_path} ({result.glb_bytes / 1e6:.1f} MB), "
          f"{result.tiles.tiles} tiles of {result.tiles.points:,} points, {result.document_path}")
    print(f"    built in {time.perf_counter() - started:.0f} s; ground truth in {capture / 'ground_truth'}/")

    if args.no_serve:
        print(f"done. Serve it with: twin serve {out} --publish {out.name}")
        return 0
    from twin.cli.serve import print_ready
    from twin.serve.run import serve_twins

    print("4/4 serving")
    serve_twins([out], host=args.host, port=args.port, db_path=out.parent / "twin.db",
                published=(out.name,), on_ready=print_ready)
    return 0


def _forget_outputs(out: Path) -> None:
    """--fresh: remove what earlier runs of the demo wrote into its own scan folder (only there)."""
    if not out.is_dir():
        return
    marker = out / "capture" / "ground_truth"
    if not marker.is_dir() and any(out.iterdir()):
        raise ValueError(f"{out} is not a folder the demo made (no capture/ground_truth/); "
                         "choose another --output or remove it yourself")
    shutil.rmtree(out)
