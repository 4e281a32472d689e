"""Carry-over: the document's items where the room changed, proposed as a JSON Patch for a planner
to accept, never applied silently.

A machine that moved gets its new pose (the motion found, applied to its old pose); the anchors
attached to it, and the procedure steps that point at them, follow it without an edit. Room anchors
(attached to no machine) inside a moved region's old place move by the same motion. Anchors and
machines inside a region that was removed are flagged in the notes, with the steps that use them:
what to do about them is a planner's call. Measurement points move or are flagged like room anchors.
Layouts are plans, not observations, so their poses never move; a note says when the room now
matches a layout (a machine moved to the pose a layout gives it, or removed as a layout plans).
Every replacement is preceded by a `test` of the old value, so a proposal made for an older
document does not apply to a newer one."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin import document
from twin.changes import Change
from twin.changes.machines import BOX_MARGIN_M
from twin.document import Anchor, Pose, TwinDocument
from twin.geometry import matrix_to_quaternion, rotation_angle_deg

# A machine stands "where a layout puts it" within these (a move done by hand, measured by a scan).
LAYOUT_MATCH_M, LAYOUT_MATCH_DEG = 0.10, 5.0


@dataclass(frozen=True)
class Proposal:
    """`patch`: RFC 6902 operations on the document; `notes`: one per item concerned, each
    {"kind": "moved" | "follows" | "in_removed_region", "path", "text", "steps"?}."""

    version: str
    patch: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)


def propose_carry_over(twin: TwinDocument, found: list[Change], version_id: str) -> Proposal:
    """The proposal for the changes `found` between the first version (the document's frame) and `version_id`."""
    proposal = Proposal(version_id)
    plain = document.to_dict(twin)
    for change in found:
        if change.kind == "moved":
            _carry_moved(twin, plain, change, proposal)
        elif change.kind == "removed":
            _flag_removed(twin, change, proposal)
    return proposal


def _carry_moved(twin: TwinDocument, plain: dict, change: Change, proposal: Proposal) -> None:
    T = change.motion.T
    if change.machine is not None:
        i, machine = next((i, m) for i, m in enumerate(twin.machines) if m.id == change.machine)
        new_pose = Pose.from_matrix(T @ machine.pose.matrix())
        _replace(proposal, f"/machines/{i}/pose", plain["machines"][i]["pose"], _pose_json(new_pose),
                 f"{change.describe()}: its pose follows", "moved")
        for k, layout in enumerate(twin.layouts):
            planned = layout.poses.get(machine.id)
            if planned is not None and _same_pose(planned, new_pose):
                proposal.notes.append({"kind": "matches_layout", "path": f"/layouts/{k}",
                                       "text": f"{machine.id} now stands where layout {layout.id} puts it"})
        for j, anchor in enumerate(twin.anchors):
            if anchor.machine == machine.id:
                proposal.notes.append({"kind": "follows", "path": f"/anchors/{j}",
                                       "text": f"anchor {anchor.id} is on {machine.id}: it follows the machine",
                                       "steps": _steps_at(twin, anchor.id)})
    for j, anchor in enumerate(twin.anchors):
        if anchor.machine is None and _inside(np.asarray(anchor.position), change):
            moved = _anchor_moved(anchor, T)
            _replace(proposal, f"/anchors/{j}", plain["anchors"][j], document.to_dict(moved),
                     f"anchor {anchor.id} stood where {change.machine or 'a moved object'} was: it moves with it",
                     "moved", _steps_at(twin, anchor.id))
    for k, measurement in enumerate(twin.measurements):
        points = np.asarray(measurement.points, dtype=np.float64)
        inside = [_inside(point, change) for point in points]
        if any(inside):
            carried = [T[:3, :3] @ p + T[:3, 3] if moves else p for p, moves in zip(points, inside)]
            _replace(proposal, f"/measurements/{k}/points", plain["measurements"][k]["points"],
                     [_vec(p) for p in carried],
                     f"measurement {measurement.id} ends where {change.machine or 'a moved object'} was: "
                     "those ends move with it", "moved")


def _flag_removed(twin: TwinDocument, change: Change, proposal: Proposal) -> None:
    x, y, z = change.centroid
    where = f"a region removed since the first version (around {x:.2f}, {y:.2f}, {z:.2f})"
    if change.machine is not None:
        i = next(i for i, m in enumerate(twin.machines) if m.id == change.machine)
        proposal.notes.append({"kind": "in_removed_region", "path": f"/machines/{i}",
                               "text": f"machine {change.machine} is in {where}: is it gone?"})
    for j, anchor in enumerate(twin.anchors):
        if _inside(twin.anchor_in_world(anchor)[0], change):
            proposal.notes.append({"kind": "in_removed_region", "path": f"/anchors/{j}",
                                   "text": f"anchor {anchor.id} is in {where}: check it before its steps are used",
                                   "steps": _steps_at(twin, anchor.id)})
    for k, measurement in enumerate(twin.measurements):
        if any(_inside(np.asarray(point), change) for point in measurement.points):
            proposal.notes.append({"kind": "in_removed_region", "path": f"/measurements/{k}",
                                   "text": f"measurement {measurement.id} ends in {where}: measure it again"})
    if change.machine is not None:
        for k, layout in enumerate(twin.layouts):
            if change.machine in layout.remove:
                proposal.notes.append({"kind": "matches_layout", "path": f"/layouts/{k}",
                                       "text": f"{change.machine} is gone, as layout {layout.id} plans"})


def _replace(proposal: Proposal, path: str, old, new, text: str, kind: str, steps: list[str] | None = None) -> None:
    proposal.patch.extend([{"op": "test", "path": path, "value": old}, {"op": "replace", "path": path, "value": new}])
    note = {"kind": kind, "path": path, "text": text}
    if steps is not None:
        note["steps"] = steps
    proposal.notes.append(note)


def _inside(point: np.ndarray, change: Change) -> bool:
    low, high = change.bounds
    return bool(np.all(point >= low - BOX_MARGIN_M) and np.all(point <= high + BOX_MARGIN_M))


def _same_pose(a: Pose, b: Pose) -> bool:
    A, B = a.matrix(), b.matrix()
    return (np.linalg.norm(A[:3, 3] - B[:3, 3]) <= LAYOUT_MATCH_M
            and rotation_angle_deg(A[:3, :3].T @ B[:3, :3]) <= LAYOUT_MATCH_DEG)


def _anchor_moved(anchor: Anchor, T: np.ndarray) -> Anchor:
    """The room anchor carried by the rigid motion T (world frame): position, normal and rotation."""
    R = T[:3, :3]
    rotation = None if anchor.rotation is None else matrix_to_quaternion(R @ anchor.matrix()[:3, :3])
    return Anchor(anchor.id, _vec(R @ anchor.position + T[:3, 3]), None, _vec(R @ anchor.normal), anchor.name,
                  None if rotation is None else tuple(round(float(q), 9) for q in rotation), anchor.marker)


def _pose_json(pose: Pose) -> dict:
    return {"translation": _vec(pose.translation), "rotation": [round(float(q), 9) for q in pose.rotation]}


def _vec(values) -> list[float]:
    return [round(float(v), 6) for v in values]


def _steps_at(twin: TwinDocument, anchor_id: str) -> list[str]:
    """The procedure steps aimed at the anchor, as 'procedure/step'."""
    return [f"{p.id}/{s.id}" for p in twin.procedures for s in p.steps if s.anchor == anchor_id]
