"""The sample twin document (printer-1 with its procedure, tours on printer-top) plus a lathe with
its own procedure and anchor, and a room anchor: what artisans' machine-scoped rights are tried on."""
from __future__ import annotations

from twin_folder import sample_document

TEXT = {"it": "Testo", "en": "Text"}


def lathe_workshop(name: str = "shop") -> dict:
    document = sample_document(name)
    pose = {"translation": [4.0, 2.0, 0.0], "rotation": [0.0, 0.0, 0.0, 1.0]}
    document["machines"].append({"id": "lathe-1", "name": "Lathe", "kind": "lathe", "pose": pose,
                                 "bounds": {"min": [-0.5, -0.3, 0.0], "max": [0.5, 0.3, 1.2]}, "properties": {}})
    document["anchors"] += [{"id": "lathe-chuck", "machine": "lathe-1", "position": [0.3, 0.0, 1.0]},
                            {"id": "door", "position": [0.0, 5.0, 1.0]}]
    document["procedures"].append({"id": "change-tool", "machine": "lathe-1", "title": TEXT,
                                   "steps": [{"id": "stop", "text": TEXT, "anchor": "lathe-chuck"}]})
    return document
