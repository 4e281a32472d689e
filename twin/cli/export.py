"""`twin export`: turn a scan folder into the twin a viewer opens (GLB, 3D Tiles, document)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from twin.cli.progress import stage_bars

COMMAND = "export"
HELP = "write twin.glb, tiles/ (3D Tiles) and twin.json into a scan folder"
DESCRIPTION = """\
Export the scan folder SCAN (made by reconstruction: cloud.ply and/or mesh.ply) as
  twin.glb    the room mesh, the cloud (thinned), each machine as its own movable node
              and the anchors, with the twin document in the scene's extras;
  tiles/      the whole cloud as 3D Tiles 1.1 (octree, additive refinement), for
              our viewer, CesiumJS or three.js' 3d-tiles-renderer;
  twin.json   the twin document, validated, with the markers that reconstruction
              measured (SCAN/anchors.json, where present) as its anchors.
The photos and videos the document's steps refer to (media/..., as `twin serve` stores
uploads) are kept; those found beside the document instead are copied into SCAN. Media
in SCAN/media/ that the document no longer refers to are listed, never removed (an older
revision may refer to them; delete them yourself to free the server's media quota).
The document is --document, else SCAN.twin.yaml beside the folder, else SCAN/twin.yaml,
else an empty one. Nothing is written unless everything checks out, and the previous
outputs stay as they were if the export fails.

examples:
  twin export scans/sample_workshop
  twin export scans/garage --document garage.twin.yaml --max-points-per-tile 100000
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scan", type=Path, help="the scan folder, e.g. scans/NAME")
    parser.add_argument("--document", type=Path, metavar="FILE", help="the twin document (YAML or JSON)")
    parser.add_argument("--max-points-per-tile", type=int, default=50_000, metavar="N",
                        help="point budget of one tile (default: 50000)")
    parser.add_argument("--precision", type=float, default=0.001, metavar="M",
                        help="position step of the tiles, the cloud and the meshes, metres (default: 0.001)")
    parser.add_argument("--glb-cloud-points", type=int, default=1_000_000, metavar="N",
                        help="at most this many cloud points in twin.glb (default: 1000000; 0 for none)")
    parser.add_argument("--no-compress", action="store_true",
                        help="write plain vertex data instead of meshopt-compressed (EXT_meshopt_compression)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures")


def run(args: argparse.Namespace) -> int:
    from twin.export import export_scan  # imports numpy, pygltflib: only when exporting

    started = time.perf_counter()
    with stage_bars() as progress:
        result = export_scan(args.scan, args.document, progress=progress,
                             max_points_per_tile=args.max_points_per_tile, precision_m=args.precision,
                             glb_cloud_points=args.glb_cloud_points, compress=False if args.no_compress else None)
    seconds = time.perf_counter() - started
    figures = {
        "glb": str(result.glb_path), "glb_bytes": result.glb_bytes, "glb_cloud_points": result.glb_cloud_points,
        "tiles": str(result.tiles_dir / "tileset.json"), "tile_count": result.tiles.tiles,
        "tiled_points": result.tiles.points, "tile_bytes_per_point": round(result.tiles.bytes_per_point, 3),
        "compressed": result.tiles.compressed, "document": str(result.document_path),
        "machine_triangles": result.machine_triangles, "marker_anchors": result.marker_anchors,
        "media": dataclasses.asdict(result.media),
        "seconds": round(seconds, 2),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"wrote {result.glb_path} ({result.glb_bytes / 1e6:.1f} MB, {result.glb_cloud_points:,} cloud points)")
    print(f"wrote {figures['tiles']} ({result.tiles.tiles} tiles, {result.tiles.points:,} points, "
          f"{result.tiles.bytes_per_point:.2f} bytes/point{', meshopt' if result.tiles.compressed else ''})")
    print(f"wrote {result.document_path}"
          + (f" ({result.marker_anchors} marker anchor(s) from anchors.json)" if result.marker_anchors else ""))
    for machine_id, triangles in result.machine_triangles.items():
        print(f"  machine {machine_id}: {triangles:,} triangles")
    media = result.media
    if media.kept or media.copied:
        print(f"media: {len(media.kept) + len(media.copied)} referenced"
              + (f", {len(media.copied)} copied into {args.scan}" if media.copied else ""))
    for uri in media.missing:
        print(f"  missing: {uri} (the document refers to it; it is neither in {args.scan} nor beside the document)")
    if media.unreferenced:
        print(f"unreferenced media in {args.scan / 'media'} (nothing in the document refers to them; kept):")
        for uri in media.unreferenced:
            print(f"  {uri}")
    print(f"done in {seconds:.1f} s")
    return 0

