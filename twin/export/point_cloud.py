"""A point cloud as a glTF POINTS primitive with quantised positions (KHR_mesh_quantization).

Positions become uint16 steps of at most `precision_m` from the cloud's min corner; the node that
holds the mesh carries the dequantisation (translation = min corner, scale = step), so glTF
readers see metres. Colours are 8-bit. Callers pass points already in spatial (Morton) order.
"""
from __future__ import annotations

import numpy as np
import pygltflib as gl

from twin.export.glb import GlbBuilder

_MAX_STEPS = 65535


def quantise(points: np.ndarray, precision_m: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(uint16 steps (n, 3), origin (3,), step in metres): the finest step <= precision_m that fits 16 bits,
    or coarser where the extent needs it."""
    origin = points.min(axis=0)
    extent = float((points.max(axis=0) - origin).max())
    step = max(precision_m, extent / _MAX_STEPS)
    steps = np.rint((points - origin) / step)
    return np.clip(steps, 0, _MAX_STEPS).astype(np.uint16), origin, step


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
