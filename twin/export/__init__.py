"""Export of a scan folder: `twin.glb`, `tiles/` (3D Tiles 1.1) and `twin.json` (the twin document).

Room: imports document, geometry, the core (`twin._native`: Morton codes), numpy and pygltflib;
never serve or the CLI.

The markers that reconstruction measured (`anchors.json`, where the scan folder has one) join the
document as anchors before anything is written (`scan_anchors.py`); the scan folder's versions
(`versions/<id>/version.json`, from `twin versions add`) are listed in it as its versions. The
media its steps refer to are kept, or copied from beside the document into the scan folder
(`media_refs.py`); the GLB lists them, and the result reports those missing and the scan folder's
media nothing refers to.

Everything is read and checked before anything is written; outputs are built under temporary
names in the scan folder (`twin.scanfolder.atomic_write`) and renamed into place at the end, so a
failed export leaves the previous outputs as they were.
"""
from __future__ import annotations

import dataclasses
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin import document as twin_document
from twin.document import TwinDocument
from twin.export.glb import meshopt_available
from twin.export.machine_split import split_machines
from twin.export.media_refs import MediaReport, copy_media, plan_media
from twin.export.model_import import import_model
from twin.export.scan_anchors import merge_scan_markers
from twin.export.tiles import Octree, TilesetSummary, build_octree, write_tileset
from twin.export.twin_glb import build_twin_glb
from twin.progress import Progress
from twin.scanfolder import (ANCHORS_FILE, TriangleMesh, atomic_write, read_cloud, read_mesh, read_scan_markers,
                             read_versions)

log = logging.getLogger(__name__)

GLB_FILE, TILES_DIR, DOCUMENT_FILE = "twin.glb", "tiles", "twin.json"


@dataclass(frozen=True)
class ExportResult:
    glb_path: Path
    tiles_dir: Path
    document_path: Path
    glb_bytes: int
    glb_cloud_points: int
    tiles: TilesetSummary
    machine_triangles: dict[str, int]
    """Triangles of each machine's mesh (cut from the scan or imported)."""
    marker_anchors: int = 0
    """Markers of the scan's anchors.json merged into the document as anchors."""
    media: MediaReport = MediaReport()
    """The document's media: kept, copied into the scan folder, missing; and the unreferenced ones."""


def export_scan(scan_dir: str | Path, document: TwinDocument | str | Path | None = None, *,
                progress: Progress | None = None, max_points_per_tile: int = 50_000, precision_m: float = 0.001,
                glb_cloud_points: int = 1_000_000, compress: bool | None = None) -> ExportResult:
    """Exports `scan_dir` (with `cloud.ply` and/or `mesh.ply`).

    `document`: a TwinDocument, a path to one, or None to use `<scan_dir>.twin.yaml` or
    `<scan_dir>/twin.yaml` where present (else a document with no machines). The cloud goes
    whole into the tiles and, thinned to `glb_cloud_points` by the octree's coarse levels, into the
    GLB. `compress`: meshopt-compress vertex data (default: where the encoder is installed).
    """
    report = progress or (lambda stage, done, total: None)
    scan_dir = Path(scan_dir)
    if not scan_dir.is_dir():
        raise ValueError(f"{scan_dir}: no such scan folder; give the folder that reconstruction wrote (e.g. scans/NAME)")
    if not precision_m > 0 or max_points_per_tile < 1 or glb_cloud_points < 0:
        raise ValueError("precision_m must be positive, max_points_per_tile at least 1 and glb_cloud_points not negative")
    compress = meshopt_available() if compress is None else compress
    if compress and not meshopt_available():
        raise ValueError("compression needs the meshopt package; install it (pip install meshopt) or export uncompressed")

    report("read", 0, 3)
    doc, doc_dir = _resolve_document(scan_dir, document)
    scan_markers = read_scan_markers(scan_dir / ANCHORS_FILE) if (scan_dir / ANCHORS_FILE).is_file() else []
    if scan_markers:
        doc = merge_scan_markers(doc, scan_markers, source=str(scan_dir / ANCHORS_FILE))
    versions = read_versions(scan_dir)  # the scans of the room over time (twin versions add)
    if versions:
        doc = dataclasses.replace(doc, versions=versions)
    media = plan_media(doc, scan_dir, doc_dir)
    for uri in media.missing:
        log.warning("media %s: referenced by the document but found neither in %s nor beside the document",
                    uri, scan_dir)
    report("read", 1, 3)
    mesh = _read_scan_mesh(scan_dir / "mesh.ply") if (scan_dir / "mesh.ply").is_file() else None
    if (scan_dir / "cloud.ply").is_file():
        points, colors = read_cloud(scan_dir / "cloud.ply")
    elif mesh is not None:
        points, colors = mesh.vertices, mesh.colors
    else:
        raise ValueError(f"{scan_dir}: has neither cloud.ply nor mesh.ply; run the reconstruction first")
    models = {m.id: import_model(doc_dir / m.model.uri, m.model.scale) for m in doc.machines if m.model.source == "file"}
    report("read", 3, 3)

    room, machine_meshes = mesh, dict(models)
    if mesh is not None:
        # A machine shown by a manufacturer's model leaves its scanned surface out of the room too.
        cut_from_scan = [m for m in doc.machines if m.model.source != "none"]
        room, cut = split_machines(mesh, cut_from_scan)
        machine_meshes.update({k: v for k, v in cut.items() if k not in models})
        for machine_id, part in cut.items():
            if machine_id not in models and len(part.triangles) == 0:
                log.warning("machine %s: no scan triangles inside its box; check its pose and bounds", machine_id)

    report("octree", 0, 1)
    octree = build_octree(points, max_points_per_tile=max_points_per_tile)
    report("octree", 1, 1)
    with ExitStack() as staged:
        # Renamed into place once all three are written, the reverse of entering: tiles, GLB, document last.
        document_path, glb_path, tiles_dir = (staged.enter_context(atomic_write(scan_dir / name))
                                              for name in (DOCUMENT_FILE, GLB_FILE, TILES_DIR))
        tiles_dir.mkdir()
        tiles = write_tileset(octree, points, colors, tiles_dir, precision_m=precision_m,
                              compress=compress, progress=report)
        report("glb", 0, 1)
        coarse = _coarse_sample(octree, glb_cloud_points)
        glb = build_twin_glb(doc, room=room, machine_meshes=machine_meshes,
                             cloud_points=points[coarse], cloud_colors=None if colors is None else colors[coarse],
                             precision_m=precision_m, compress=compress)
        glb_path.write_bytes(glb)
        copy_media(media, scan_dir, doc_dir)
        document_path.write_text(twin_document.to_json(doc), encoding="utf-8")
        report("glb", 1, 1)
    return ExportResult(glb_path=scan_dir / GLB_FILE, tiles_dir=scan_dir / TILES_DIR, document_path=scan_dir / DOCUMENT_FILE,
                        glb_bytes=len(glb), glb_cloud_points=int(coarse.size), tiles=tiles,
                        machine_triangles={k: int(len(v.triangles)) for k, v in machine_meshes.items()},
                        marker_anchors=len(scan_markers), media=media)


def _resolve_document(scan_dir: Path, document) -> tuple[TwinDocument, Path]:
    """The document and the folder its relative model paths start from."""
    if isinstance(document, TwinDocument):
        return document, scan_dir
    if document is not None:
        return twin_document.load(document), Path(document).parent
    for candidate in (scan_dir.parent / f"{scan_dir.name}.twin.yaml", scan_dir.parent / f"{scan_dir.name}.twin.json",
                      scan_dir / "twin.yaml"):
        if candidate.is_file():
            return twin_document.load(candidate), candidate.parent
    return TwinDocument(name=scan_dir.resolve().name), scan_dir


def _read_scan_mesh(path: Path) -> TriangleMesh:
    mesh = read_mesh(path)
    if len(mesh.triangles) == 0:
        raise ValueError(f"{path}: the mesh has no triangles; delete it to export the cloud alone, or reconstruct it again")
    return mesh


def _coarse_sample(octree: Octree, budget: int) -> np.ndarray:
    """Indices (into the input cloud, in spatial order) of the octree's whole coarse levels within the budget;
    the root's points at least, unless the budget is 0."""
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    per_level = np.bincount([n.level for n in octree.nodes], weights=[n.indices.size for n in octree.nodes])
    levels = max(1, int(np.searchsorted(np.cumsum(per_level), budget, side="right")))
    chosen = np.sort(np.concatenate([n.indices for n in octree.nodes if n.level < levels]))
    return octree.order[chosen]
