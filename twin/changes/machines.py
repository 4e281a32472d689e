"""Which machine of the twin document a change region belongs to: the one whose box (its bounds in
its pose, with a margin for scan noise) holds most of the region's points."""
from __future__ import annotations

import numpy as np

from twin.document import TwinDocument

BOX_MARGIN_M = 0.1
MIN_SHARE_INSIDE = 0.3  # a region mostly outside every box is not a machine's


def machine_of(points: np.ndarray, document: TwinDocument | None) -> str | None:
    """The id of the machine holding most of `points` (OLD's frame), or None."""
    if document is None:
        return None
    best, best_share = None, MIN_SHARE_INSIDE
    for machine in document.machines:
        T_machine_world = np.linalg.inv(machine.pose.matrix())
        local = points @ T_machine_world[:3, :3].T + T_machine_world[:3, 3]
        low = np.asarray(machine.bounds.min) - BOX_MARGIN_M
        high = np.asarray(machine.bounds.max) + BOX_MARGIN_M
        share = float(np.all((local >= low) & (local <= high), axis=1).mean())
        if share > best_share:
            best, best_share = machine.id, share
    return best
