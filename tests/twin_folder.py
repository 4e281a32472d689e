"""A small but complete scan folder to serve in tests and benchmarks: twin.json, twin.glb, tiles/.

The GLBs are minimal valid glTF 2.0 binaries written by hand; the server never looks inside them,
it only serves their bytes.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

_TEXT = {"it": "Testo", "en": "Text"}


def sample_document(name: str = "shop") -> dict:
    """A valid twin document with one machine, one procedure, a public and a private tour."""
    pose = {"translation": [1.0, 2.0, 0.0], "rotation": [0.0, 0.0, 0.0, 1.0]}
    stop = {"id": "stop-1", "anchor": "printer-top", "viewpoint": {"position": [0, 0, 1.6], "target": [1, 2, 0.5]},
            "title": _TEXT, "description": _TEXT}
    return {
        "version": 1, "name": name, "languages": ["it", "en"],
        "machines": [{"id": "printer-1", "name": "Printer", "kind": "3d_printer", "pose": pose,
                      "bounds": {"min": [-0.3, -0.3, 0.0], "max": [0.3, 0.3, 0.5]}, "properties": {}}],
        "anchors": [{"id": "printer-top", "machine": "printer-1", "position": [0.0, 0.0, 0.5]}],
        "procedures": [{"id": "load-filament", "machine": "printer-1", "title": _TEXT,
                        "steps": [{"id": "heat", "text": _TEXT, "anchor": "printer-top"},
                                  {"id": "insert", "text": _TEXT, "anchor": "printer-top"}]}],
        "tours": [{"id": "welcome", "title": _TEXT, "public": True, "stops": [stop]},
                  {"id": "staff-only", "title": _TEXT, "public": False, "stops": [stop]}],
        "layouts": [], "measurements": [],
    }


def minimal_glb(label: str) -> bytes:
    """A valid, empty glTF 2.0 binary whose JSON names `label` (so different files differ)."""
    content = json.dumps({"asset": {"version": "2.0", "generator": label}, "scenes": [{"nodes": []}], "scene": 0})
    chunk = content.encode() + b" " * (-len(content) % 4)
    return struct.pack("<4sII", b"glTF", 2, 12 + 8 + len(chunk)) + struct.pack("<I4s", len(chunk), b"JSON") + chunk


def write_twin_folder(folder: Path, tiles: int = 4, document: dict | None = None) -> Path:
    """Write a scan folder named like `folder` with a document (default: `sample_document`),
    a GLB and `tiles` tile GLBs."""
    folder.mkdir(parents=True, exist_ok=True)
    document = sample_document(folder.name) if document is None else document
    (folder / "twin.json").write_text(json.dumps(document), encoding="utf-8")
    (folder / "twin.glb").write_bytes(minimal_glb("twin"))
    (folder / "tiles").mkdir(exist_ok=True)
    children = []
    for index in range(tiles):
        (folder / "tiles" / f"r{index}.glb").write_bytes(minimal_glb(f"tile {index}") + bytes(index * 1000))
        children.append({"geometricError": 0.0, "boundingVolume": {"box": [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]},
                         "content": {"uri": f"r{index}.glb"}})
    tileset = {"asset": {"version": "1.1"}, "geometricError": 1.0,
               "root": {"geometricError": 0.5, "refine": "ADD", "children": children,
                        "boundingVolume": {"box": [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]}}}
    (folder / "tiles" / "tileset.json").write_text(json.dumps(tileset), encoding="utf-8")
    return folder
