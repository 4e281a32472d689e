"""`twin versions add|list|accept`: the scans of one room over time, kept in its scan folder."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from twin import document
from twin.changes import DiffSettings
from twin.cli.progress import stage_bars
from twin.scanfolder import read_json, read_versions, write_json

COMMAND = "versions"
HELP = "add a new scan of a room as a version of its twin, list versions, accept carried-over anchors"
DESCRIPTION = """\
A scan folder holds the versions of its room: the first is the folder's own cloud.ply; each new
one is registered to it the way `twin diff` aligns (global registration, then robust ICP) and
stored in SCAN/versions/<id>/: cloud.ply (in the twin's frame), distances.ply, changes.json,
tiles/ (its own 3D Tiles), change-tiles/ (coloured by distance to the first) and version.json.
SCAN/twin.json lists the versions (id, date, source, T_first_version) for the viewer's switch.

Where a machine moved, its new pose, and the room anchors that stood on it, are proposed as a
JSON Patch in versions/<id>/proposed.patch.json (anchors attached to the machine follow it; items
in removed regions are flagged); nothing changes in the document until a planner accepts it.

examples:
  twin versions add scans/shop scans/shop-2026/cloud.ply
  twin versions add scans/shop shop-2026.ply --date 2026-03-01T09:00:00Z --json
  twin versions list scans/shop
  twin versions accept scans/shop v2
  twin reconstruct capture-2026/ -o scans/shop-2026 --version-of scans/shop   # reconstruct and add
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a new scan to the first version and store it as the next one")
    add.add_argument("scan", type=Path, help="the twin's scan folder, e.g. scans/NAME")
    add.add_argument("cloud", type=Path, help="the new scan: a cloud file (PLY, PCD, XYZ, PTS) or a scan folder")
    add_version_options(add)
    add.add_argument("--json", action="store_true", help="print the version and its changes as one JSON object")
    listing = actions.add_parser("list", help="the versions of a scan folder")
    listing.add_argument("scan", type=Path)
    listing.add_argument("--json", action="store_true", help="print the versions as a JSON list")
    accept = actions.add_parser("accept", help="apply a version's carry-over proposal to SCAN/twin.json")
    accept.add_argument("scan", type=Path)
    accept.add_argument("id", help="the version, e.g. v2")


def add_version_options(parser, prefix: str = "") -> None:
    """Shared with `twin reconstruct --version-of` (there with the prefix 'version-': its own --voxel-size
    is the mesh's)."""
    parser.add_argument(f"--{prefix}date", dest="version_date",
                        help="when the scan was made, ISO 8601 in UTC (default: now)")
    parser.add_argument(f"--{prefix}voxel-size", dest="version_voxel_size", type=float, default=0.05, metavar="M",
                        help="compare the versions on a grid of M metres; changes smaller than 3 M are noise "
                             "(default: 0.05)")


def run(args: argparse.Namespace) -> int:
    return {"add": _add, "list": _list, "accept": _accept}[args.action](args)


def add_scan_version(scan: Path, cloud: Path, args: argparse.Namespace, source: str | None = None):
    """`cloud` added as the next version of `scan`, with progress bars (an `AddedVersion`)."""
    from twin.versions import add_version  # imports the export and registration stacks: only when adding

    with stage_bars() as progress:
        return add_version(scan, cloud, source=source, date=args.version_date,
                           settings=DiffSettings(voxel_size_m=args.version_voxel_size), progress=progress)


def added_json(added) -> dict:
    return {"version": document.to_dict(added.version), "folder": str(added.folder),
            "changes": added.summary["changes"], "fitness": added.summary["fitness"],
            "proposal": {"operations": len(added.proposal.patch), "notes": added.proposal.notes}}


def print_added(scan: Path, added) -> None:
    """What changed since the first version and what is proposed for the document."""
    print(f"added version {added.version.id} of {scan} (fitness {added.diff.alignment.fitness:.2f}, "
          f"rmse {added.diff.alignment.inlier_rmse * 1000:.1f} mm): {added.folder}/")
    for change in added.summary["changes"]:
        print(f"  {change['kind']:8} {change['description']}")
    if not added.summary["changes"]:
        print("  no changes above the level of detection since the first version")
    _print_proposal(scan, added.version.id, added.proposal.patch, added.proposal.notes)


def _print_proposal(scan: Path, version_id: str, patch: list, notes: list) -> None:
    if not notes:
        return
    edits = sum(op["op"] != "test" for op in patch)  # each edit is guarded by a test of the old value
    print(f"proposed for the document ({edits} edit(s) in {scan}/versions/{version_id}/proposed.patch.json):")
    for note in notes:
        steps = f" (steps {', '.join(note['steps'])})" if note.get("steps") else ""
        flag = "!" if note["kind"] == "in_removed_region" else "-"
        print(f"  {flag} {note['text']}{steps}")
    if patch:
        print(f"accept with: twin versions accept {scan} {version_id}")


def _add(args: argparse.Namespace) -> int:
    added = add_scan_version(args.scan, args.cloud, args)
    if args.json:
        print(json.dumps(added_json(added)))
    else:
        print_added(args.scan, added)
    return 0


def _list(args: argparse.Namespace) -> int:
    if not args.scan.is_dir():
        raise ValueError(f"{args.scan}: no such scan folder")
    found = read_versions(args.scan)
    if args.json:
        print(json.dumps([document.to_dict(v) for v in found]))
        return 0
    if not found:
        print(f"{args.scan} has one version, its own cloud.ply; add scans with `twin versions add {args.scan} CLOUD`")
        return 0
    print(f"{'id':5} {'date':21} {'changes':>7}  source")
    for version in found:
        print(f"{version.id:5} {version.date:21} {_change_count(args.scan, version):>7}  {version.source}")
    return 0


def _change_count(scan: Path, version) -> str:
    """How many change regions the version has since the first ('-' for the first)."""
    if version.changes is None:
        return "-"
    return str(len(read_json(scan / version.changes, "what changed since the first version").get("changes", [])))


def _accept(args: argparse.Namespace) -> int:
    from twin.serve.json_patch import apply_patch
    from twin.versions import mark_accepted, read_proposal

    proposal = read_proposal(args.scan, args.id)
    path = args.scan / "twin.json"
    if not path.is_file():
        raise ValueError(f"{args.scan} has no twin.json to apply the proposal to: run `twin export {args.scan}` first")
    current = read_json(path, "the twin document", f"re-run `twin export {args.scan}`")
    try:
        patched = apply_patch(current, proposal.patch)
    except ValueError as error:
        raise ValueError(f"{path}: the proposal of {args.id} no longer applies ({error}): the document changed "
                         "since it was made; edit it by hand, or add the version again") from None
    document.from_dict(patched, source=str(path))  # a valid document, or nothing is written
    write_json(path, patched, indent=1)
    accepted = mark_accepted(args.scan, args.id)
    print(f"applied {len(proposal.patch)} operations of {args.id}'s proposal to {path} (kept as {accepted})")
    flagged = [n for n in proposal.notes if n["kind"] == "in_removed_region"]
    for note in flagged:
        print(f"  ! still to check: {note['text']}")
    return 0
