"""A point cloud as a glTF POINTS primitive with quantised positions (KHR_mesh_quantization).

Positions become uint16 steps of at most `precision_m` from the cloud's min corner (see
`quantise`); colours are 8-bit. Callers pass points already in spatial (Morton) order.
"""
from __future__ import annotations

import numpy as np
import pygltflib as gl

from twin.export.glb import GlbBuilder
from twin.export.quantise import quantise


def add_points(builder: GlbBuilder, name: str, points: np.ndarray, colors: np.ndarray | None, *,
               precision_m: float, material: int) -> int:
    """Adds the cloud as a mesh under a new node named `name`; returns the node."""
    steps, origin, step = quantise(points, precision_m)
    attributes = {"POSITION": builder.vertex_attribute(steps, bounds=True)}
    if colors is not None:
        attributes["COLOR_0"] = builder.vertex_attribute(colors, normalized=True)
    mesh = builder.mesh(name, attributes, mode=gl.POINTS, material=material)
    builder.use_extension("KHR_mesh_quantization", required=True)
    return builder.node(name, mesh=mesh, translation=origin, scale=[step] * 3)
