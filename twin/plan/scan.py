"""A scan folder's floor plan: found once in its cloud and kept in its twin.json, so that planners'
corrections (made in the viewer or by hand) are what later plans draw."""
from __future__ import annotations

from pathlib import Path

from twin.document import TwinDocument, from_dict, to_dict
from twin.plan.extraction import PlanSettings, extract_floor_plan
from twin.progress import Progress
from twin.scanfolder import read_cloud, read_json, write_json


def scan_with_floor_plan(scan: str | Path, refresh: bool = False, settings: PlanSettings = PlanSettings(),
                         progress: Progress | None = None) -> tuple[TwinDocument, bool]:
    """The scan's document (SCAN/twin.json) with its floor plan, found in SCAN/cloud.ply (and written
    back into twin.json) where it has none or `refresh`; True where it was found now."""
    scan = Path(scan)
    document_path = scan / "twin.json"
    if not document_path.is_file():
        raise ValueError(f"{document_path}: no twin document; run `twin export {scan}` first")
    data = read_json(document_path, "the twin document", remedy=f"run `twin export {scan}` again")
    document = from_dict(data, source=str(document_path))
    if document.floor_plan is not None and not refresh:
        return document, False
    cloud_path = scan / "cloud.ply"
    if not cloud_path.is_file():
        raise ValueError(f"{cloud_path}: no cloud to find the walls in; reconstruct the scan first")
    if progress:
        progress("read cloud", 0, 2)
    points, _ = read_cloud(cloud_path)
    if progress:
        progress("find walls", 1, 2)
    plan = extract_floor_plan(points, str(cloud_path), settings)
    data["floor_plan"] = to_dict(TwinDocument(name=document.name, floor_plan=plan))["floor_plan"]
    document = from_dict(data, source=str(document_path))
    write_json(document_path, data)
    if progress:
        progress("find walls", 2, 2)
    return document, True
