"""A diff as the plain JSON object `twin diff --json` prints and `changes.json` holds:
{"T_old_new", "fitness", "converged", "changes": [{"kind", "centroid", "bounds", "points",
"machine"?, "motion"?, "description"}], "seconds"}."""
from __future__ import annotations

import numpy as np

from twin.changes.diff import Change, ScanDiff


def diff_summary(result: ScanDiff) -> dict:
    return {"T_old_new": result.T_old_new.round(6).tolist(), "fitness": round(result.alignment.fitness, 4),
            "converged": result.converged, "changes": [change_summary(c) for c in result.changes],
            "seconds": round(result.seconds, 3)}


def change_summary(change: Change) -> dict:
    item = {"kind": change.kind, "centroid": change.centroid.round(4).tolist(),
            "bounds": {"min": change.bounds[0].round(4).tolist(), "max": change.bounds[1].round(4).tolist()},
            "points": change.points}
    if change.machine:
        item["machine"] = change.machine
    if change.motion is not None:
        item["motion"] = {"T": change.motion.T.round(6).tolist(), "distance_m": round(float(np.linalg.norm(
            change.displacement_m)), 4), "displacement_m": change.displacement_m.round(4).tolist(),
            "turn_deg": round(change.motion.turn_deg, 2), "fitness": round(change.motion.fitness, 3)}
    item["description"] = change.describe()
    return item
