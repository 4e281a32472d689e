"""Each machine's footprint on the floor in one layout: its bounds turned by its pose in that layout."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.document import Machine, TwinDocument


@dataclass(frozen=True)
class Footprint:
    id: str
    name: str
    corners: np.ndarray
    """(4, 2) world x-y corners, counter-clockwise."""
    T_world_machine: np.ndarray


def layout_footprints(document: TwinDocument, layout_id: str | None) -> list[Footprint]:
    """The machines as the layout places them (None: as scanned), in the document's order then the added ones."""
    if layout_id is None:
        machines = list(document.machines)
        poses = {}
    else:
        layouts = {layout.id: layout for layout in document.layouts}
        if layout_id not in layouts:
            known = ", ".join(sorted(layouts)) or "none"
            raise ValueError(f"the twin {document.name!r} has no layout {layout_id!r} (layouts: {known}); "
                             "leave --layout out for the room as scanned")
        layout = layouts[layout_id]
        machines = [m for m in document.machines if m.id not in layout.remove] + list(layout.add)
        poses = layout.poses
    return [_footprint(m, poses[m.id].matrix() if m.id in poses else m.pose.matrix()) for m in machines]


def _footprint(machine: Machine, T_world_machine: np.ndarray) -> Footprint:
    (x0, y0, _), (x1, y1, _) = machine.bounds.min, machine.bounds.max
    local = np.array([[x0, y0, 0, 1], [x1, y0, 0, 1], [x1, y1, 0, 1], [x0, y1, 0, 1]], dtype=np.float64)
    return Footprint(machine.id, machine.name, (local @ T_world_machine.T)[:, :2], T_world_machine)
