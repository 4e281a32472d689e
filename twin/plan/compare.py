"""Which machines two layouts place differently (for side-by-side plans)."""
from __future__ import annotations

import numpy as np

from twin.document import TwinDocument
from twin.plan.footprints import layout_footprints

# Closer than this (metres, or the same in radians of yaw) counts as not moved.
_MOVE_TOLERANCE = 1e-3


def moved_machines(document: TwinDocument, first: str | None, second: str | None) -> set[str]:
    """Ids of machines placed differently, added or taken out between the two layouts."""
    a = {f.id: f.T_world_machine for f in layout_footprints(document, first)}
    b = {f.id: f.T_world_machine for f in layout_footprints(document, second)}
    changed = {i for i in a.keys() & b.keys() if not np.allclose(a[i], b[i], atol=_MOVE_TOLERANCE)}
    return changed | (a.keys() ^ b.keys())
