"""Cutting each machine out of the scan mesh by its box, so that the planner can move it.

A triangle belongs to a machine when all three of its vertices lie inside the machine's box
(in the machine's frame, grown by a small margin for scan noise); the machine's triangles move
into its own mesh, in its own frame, and leave the room mesh. A triangle inside two boxes goes
to the first machine in the document.
"""
from __future__ import annotations

import numpy as np

from twin.document import Machine
from twin.scanfolder import TriangleMesh

MARGIN_M = 0.01
"""How far outside its box a machine's scanned surface may stray (scan noise)."""


def split_machines(room: TriangleMesh, machines: list[Machine], margin_m: float = MARGIN_M
                   ) -> tuple[TriangleMesh, dict[str, TriangleMesh]]:
    """(the room without the machines, {machine id: its mesh in its own frame})."""
    free = np.ones(len(room.triangles), dtype=bool)
    parts: dict[str, TriangleMesh] = {}
    for machine in machines:
        T_world_machine = machine.pose.matrix()
        T_machine_world = np.linalg.inv(T_world_machine)
        local = room.vertices @ T_machine_world[:3, :3].T + T_machine_world[:3, 3]
        lo = np.asarray(machine.bounds.min) - margin_m
        hi = np.asarray(machine.bounds.max) + margin_m
        inside = ((local >= lo) & (local <= hi)).all(axis=1)
        mine = free & inside[room.triangles].all(axis=1)
        free &= ~mine
        parts[machine.id] = room.subset(mine).transformed(T_machine_world)
    return room.subset(free), parts
