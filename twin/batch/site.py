"""One site from many scans: candidate pairs registered as cluster tasks, one pose graph, one cloud.

    site = merge_site(client, [Path("scans/hall-1"), Path("scans/hall-2"), ...], Path("scans/site"))
    site.poses[k]      # T_first_scan of scan k (None: no trusted alignment reached it)

Not every pair is registered: each scan is paired with the next capture (a building is scanned
walking on, so consecutive captures overlap) and with the scans whose FPFH signature (the mean
feature histogram of its cloud, computed on the cluster) is most like its own. Each pair is one
task that reads both clouds from the scan folders (paths every worker can read), so nothing big
travels through the scheduler. The placement (`twin.reconstruct.scan_merge.place_scans`) runs
here: a spanning tree of the trusted pairs (consecutive captures first: in a near-symmetric room a
wrong alignment of two scans far apart in the walk can fit better than the right one), a robust
pose graph that may drop the other pairs, refinement of each scan against the others. In the merged cloud, where scans overlap (within a `DEDUP_VOXEL_M` cube) only
the first scan's points stay; the markers all scans measured are put in the first scan's frame, one anchor
per marker, at the mean of its sightings.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from distributed import Client

from twin.reconstruct.scan_merge import PairAlignment, align_pair, place_scans
from twin.registration.global_registration import describe
from twin.scanfolder import read_cloud, write_json, write_point_cloud_ply
from twin.scanfolder.anchors import ANCHORS_FILE, marker_anchor, read_scan_markers, write_anchors_json

SIGNATURE_NEIGHBOURS = 2  # pairs per scan by signature, beside the next capture
DEDUP_VOXEL_M = 0.01
SITE_REPORT = "site.json"


@dataclass(frozen=True)
class SiteMerge:
    scans: list[Path]
    poses: list[np.ndarray | None]
    residuals_m: list[float | None]
    pairs: list[PairAlignment]
    points: int
    markers: int


def candidate_pairs(signatures: np.ndarray, neighbours: int = SIGNATURE_NEIGHBOURS) -> list[tuple[int, int]]:
    """The pairs (i < j) worth registering: consecutive captures, and each scan with its
    `neighbours` most similar scans by signature (cosine similarity); every pair when that is
    not fewer."""
    count = len(signatures)
    every = [(i, j) for i in range(count) for j in range(i + 1, count)]
    if count <= neighbours + 2:
        return every
    unit = signatures / np.maximum(np.linalg.norm(signatures, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    pairs = {(k, k + 1) for k in range(count - 1)}
    for k in range(count):
        for other in np.argsort(-similarity[k], kind="stable")[:neighbours]:
            pairs.add((min(k, int(other)), max(k, int(other))))
    return sorted(pairs)


def merge_site(client: Client, scans: Sequence[Path], out: Path, voxel_size: float = 0.05, seed: int = 0,
               on_stage: Callable[[str, int, int], None] | None = None) -> SiteMerge:
    """Register, place and merge the scan folders `scans` (each with its cloud.ply) into `out`:
    out/cloud.ply, out/anchors.json (when scans saw markers) and out/site.json (the report)."""
    report = on_stage or (lambda stage, done, total: None)
    scans = [Path(scan) for scan in scans]
    if len(scans) < 2:
        raise ValueError(f"a site is merged from at least two scans, got {len(scans)}")
    clouds = [str(scan / "cloud.ply") for scan in scans]
    signatures = client.gather(client.map(_signature, clouds, voxel_size=voxel_size, pure=False))
    pairs = candidate_pairs(np.array(signatures))
    futures = [client.submit(_pair, clouds[i], clouds[j], i, j, voxel_size, seed, pure=False) for i, j in pairs]
    alignments = []
    for done, future in enumerate(futures, start=1):
        alignments.append(future.result())
        report("pairs", done, len(futures))

    read = [read_cloud(path) for path in clouds]
    merged = place_scans([points for points, _ in read], alignments, voxel_size,
                         progress=lambda stage, done, total: report(stage, done, total),
                         preferred={(k, k + 1) for k in range(len(scans) - 1)})
    placed = [k for k, pose in enumerate(merged.poses) if pose is not None]
    points = np.concatenate([_moved(read[k][0], merged.poses[k]) for k in placed])
    colors = None if any(read[k][1] is None for k in placed) else np.concatenate([read[k][1] for k in placed])
    keep = _first_coverage(points, np.repeat(np.arange(len(placed)), [len(read[k][0]) for k in placed]),
                           DEDUP_VOXEL_M)
    out.mkdir(parents=True, exist_ok=True)
    write_point_cloud_ply(out / "cloud.ply", points[keep], None if colors is None else colors[keep])
    anchors = _site_markers(scans, merged.poses)
    if anchors:
        write_anchors_json(out / ANCHORS_FILE, anchors)
    site = SiteMerge(scans, merged.poses, merged.residuals_m, merged.pairs, int(keep.size), len(anchors))
    write_json(out / SITE_REPORT, site_report(site))
    return site


def site_report(site: SiteMerge) -> dict:
    """What site.json holds: each scan's placement and residual, and the pairs registered."""
    return {
        "scans": [{"scan": str(scan), "placed": pose is not None,
                   "T_first_scan": None if pose is None else pose.tolist(), "residual_m": residual}
                  for scan, pose, residual in zip(site.scans, site.poses, site.residuals_m)],
        "pairs": [{"i": p.i, "j": p.j, "trusted": p.trusted, "fitness": p.fitness, "accepted": p.accepted}
                  for p in site.pairs],
        "points": site.points, "markers": site.markers,
    }


def _signature(cloud_path: str, voxel_size: float) -> np.ndarray:
    """A scan's mean FPFH histogram: scans of the same part of a building look alike in it."""
    points, _ = read_cloud(cloud_path)
    return describe(points, voxel_size).features.mean(axis=0)


def _pair(path_i: str, path_j: str, i: int, j: int, voxel_size: float, seed: int) -> PairAlignment:
    described = [describe(read_cloud(path)[0], voxel_size) for path in (path_i, path_j)]
    return align_pair(*described, i, j, voxel_size, seed)


def _moved(points: np.ndarray, T: np.ndarray) -> np.ndarray:
    return points @ T[:3, :3].T + T[:3, 3]


def _first_coverage(points: np.ndarray, scan_of_point: np.ndarray, voxel_m: float) -> np.ndarray:
    """Indices of the points to keep: every point of a scan, but for those in a voxel that an
    earlier scan already covers (overlaps de-duplicated, no scan thinned)."""
    cells = np.floor(points / voxel_m).astype(np.int64)
    _, cell = np.unique(cells, axis=0, return_inverse=True)
    first_scan = np.full(cell.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first_scan, cell.ravel(), scan_of_point)
    return np.flatnonzero(scan_of_point == first_scan[cell.ravel()])


def _site_markers(scans: list[Path], poses: list[np.ndarray | None]) -> list[dict]:
    """One anchor per marker any placed scan measured, in the first scan's frame: the mean position
    of its sightings, the orientation of its first."""
    sightings: dict[str, list[tuple[np.ndarray, float]]] = {}
    for scan, pose in zip(scans, poses):
        if pose is None or not (scan / ANCHORS_FILE).is_file():
            continue
        for seen in read_scan_markers(scan / ANCHORS_FILE):
            sightings.setdefault(seen.marker.key, []).append((pose @ seen.pose.matrix(), seen.marker.size_m))
    anchors = []
    for key, seen in sightings.items():
        T = seen[0][0].copy()
        T[:3, 3] = np.mean([T_site[:3, 3] for T_site, _ in seen], axis=0)
        anchors.append(marker_anchor(key, T, seen[0][1]))
    return anchors
