"""`add_version`: a new scan of the room registered to the first version (the way `twin diff`
aligns), stored as `versions/<id>/` and exported as its own tiles:

    version.json          id, date, source, T_first_version (new -> first), the paths below
    cloud.ply             the new scan's points in the first version's frame (the twin's world)
    distances.ply         the same points with `distance` and `significant` (M3C2 / C2C)
    changes.json          what changed since the first version (twin diff's --json)
    tiles/                the version's points as 3D Tiles, in their colours
    change-tiles/         the same points coloured by distance (the viewer's "changes since" overlay)
    proposed.patch.json   the document's items carried over (carry_over.py), for a planner to accept

The folder is written under a temporary name and renamed into place when complete; nothing is
written when the new scan cannot be aligned reliably. The scan folder's twin.json, where it has
one, lists the versions afterwards (export lists them too)."""
from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin import changes, document
from twin.changes import DiffSettings, ScanDiff
from twin.changes.outputs import CHANGES_FILE
from twin.document import TwinDocument, Version
from twin.export.glb import meshopt_available
from twin.export.tiles import build_octree, write_tileset
from twin.progress import Progress
from twin.scanfolder import (FIRST_VERSION_ID, VERSION_FILE, VERSIONS_DIR, atomic_write, colors_uint8, next_version_id,
                             read_cloud, read_versions, version_folder, write_json, write_point_cloud_ply,
                             write_version)
from twin.versions.carry_over import Proposal, propose_carry_over
from twin.versions.proposals import PROPOSAL_FILE, proposal_json

FIRST_CLOUD, FIRST_TILES, DOCUMENT_FILE = "cloud.ply", "tiles/tileset.json", "twin.json"


@dataclass(frozen=True)
class AddedVersion:
    version: Version
    folder: Path
    diff: ScanDiff
    summary: dict
    """changes.json's content."""
    proposal: Proposal


def add_version(scan_dir: str | Path, cloud: str | Path, *, source: str | None = None, date: str | None = None,
                settings: DiffSettings = DiffSettings(), progress: Progress | None = None) -> AddedVersion:
    """Adds the scan `cloud` (a cloud file, or a scan folder's cloud.ply) as the next version of `scan_dir`.
    ValueError when either cloud is unreadable or the new one cannot be aligned reliably to the first."""
    scan_dir = Path(scan_dir)
    if date is not None:
        _check_date(date)
    first_cloud = scan_dir / FIRST_CLOUD
    if not first_cloud.is_file():
        raise ValueError(f"{scan_dir}: no {FIRST_CLOUD}, so no first version to register to; give a scan folder "
                         "that reconstruction wrote (e.g. scans/NAME)")
    cloud = Path(cloud) / FIRST_CLOUD if Path(cloud).is_dir() else Path(cloud)
    first_points, _ = read_cloud(first_cloud)
    points, colors = read_cloud(cloud)
    twin = document.load(scan_dir / DOCUMENT_FILE) if (scan_dir / DOCUMENT_FILE).is_file() else None
    diff = changes.diff_scans(first_points, points, document=twin, settings=settings, progress=progress)
    if not diff.converged:
        raise ValueError(f"{cloud}: no reliable alignment to the first version {first_cloud} (fitness "
                         f"{diff.alignment.fitness:.2f}); nothing added. Is it a scan of the same room, overlapping "
                         "it by at least a third?")
    version_id = next_version_id(scan_dir)
    base = f"{VERSIONS_DIR}/{version_id}"
    version = Version(id=version_id, date=date or _now(), source=source or str(cloud),
                      T_first_version=tuple(tuple(row) for row in diff.T_old_new.round(9).tolist()),
                      tiles=f"{base}/tiles/tileset.json", changes=f"{base}/{CHANGES_FILE}",
                      change_tiles=f"{base}/change-tiles/tileset.json")
    proposal = propose_carry_over(twin or TwinDocument(name=scan_dir.name), diff.changes, version_id)
    report = progress or (lambda stage, done, total: None)
    _record_first_version(scan_dir, first_cloud)
    with atomic_write(version_folder(scan_dir, version_id)) as folder:
        folder.mkdir()
        write_point_cloud_ply(folder / FIRST_CLOUD, diff.new_in_old, colors)
        summary = changes.write_diff_files(folder, diff, settings.voxel_size_m, colored_copy=False)
        octree = build_octree(diff.new_in_old)
        scale_m = changes.color_scale_m(settings.voxel_size_m)
        shading = colors_uint8(changes.distance_colors(diff.distance, diff.significant, scale_m), "distance colours")
        for name, tile_colors in (("tiles", colors), ("change-tiles", shading)):
            report(name, 0, 1)
            (folder / name).mkdir()
            write_tileset(octree, diff.new_in_old, tile_colors, folder / name, compress=meshopt_available())
            report(name, 1, 1)
        write_json(folder / PROPOSAL_FILE, proposal_json(proposal))
        write_version(folder, version)
    if twin is not None:
        listed = dataclasses.replace(twin, versions=read_versions(scan_dir))
        write_json(scan_dir / DOCUMENT_FILE, document.to_dict(listed), indent=1)
    return AddedVersion(version, scan_dir / base, diff, summary, proposal)


def _record_first_version(scan_dir: Path, first_cloud: Path) -> None:
    """versions/v1/version.json: the scan folder's own cloud, dated by its file, once."""
    folder = version_folder(scan_dir, FIRST_VERSION_ID)
    if (folder / VERSION_FILE).is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    modified = datetime.datetime.fromtimestamp(first_cloud.stat().st_mtime, datetime.timezone.utc)
    write_version(folder, Version(id=FIRST_VERSION_ID, date=_iso(modified), source=FIRST_CLOUD,
                                  T_first_version=tuple(tuple(row) for row in np.eye(4).tolist()), tiles=FIRST_TILES))


def _check_date(date: str) -> None:
    try:
        moment = datetime.datetime.fromisoformat(date)
    except ValueError:
        raise ValueError(f"the date {date!r} is not ISO 8601; write it like 2026-03-01T09:00:00Z") from None
    if moment.utcoffset() != datetime.timedelta(0):
        raise ValueError(f"the date {date!r} is not in UTC; end it with Z (e.g. 2026-03-01T09:00:00Z)")


def _now() -> str:
    return _iso(datetime.datetime.now(datetime.timezone.utc))


def _iso(moment: datetime.datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
