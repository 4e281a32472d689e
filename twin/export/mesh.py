"""A triangle mesh's glTF TRIANGLES primitive."""
from __future__ import annotations

import numpy as np
import pygltflib as gl

from twin.export.glb import GlbBuilder
from twin.export.quantise import quantise
from twin.scanfolder import TriangleMesh


def add_mesh(builder: GlbBuilder, name: str, mesh: TriangleMesh, material: int, *, precision_m: float) -> int:
    """Adds the mesh under a new node named `name` and returns the node: positions as 16-bit steps of
    at most `precision_m` (the node dequantises), 8-bit unit normals, 8-bit colours."""
    # Triangles that repeat a vertex draw nothing; the validator flags them, so they are left out.
    t = mesh.triangles
    keep = (t[:, 0] != t[:, 1]) & (t[:, 1] != t[:, 2]) & (t[:, 0] != t[:, 2])
    mesh = mesh.subset(keep) if not keep.all() else mesh
    if builder.compress:
        mesh = _in_cache_order(mesh)
    steps, origin, step = quantise(mesh.vertices, precision_m)
    normals = np.rint(mesh.vertex_normals() * 127).astype(np.int8)
    attributes = {"POSITION": builder.vertex_attribute(steps, bounds=True),
                  "NORMAL": builder.vertex_attribute(normals, normalized=True)}
    if mesh.colors is not None:
        attributes["COLOR_0"] = builder.vertex_attribute(mesh.colors, normalized=True)
    builder.use_extension("KHR_mesh_quantization", required=True)
    index = builder.mesh(name, attributes, mode=gl.TRIANGLES, indices=builder.indices(mesh.triangles), material=material)
    return builder.node(name, mesh=index, translation=origin, scale=[step] * 3)


def _in_cache_order(mesh: TriangleMesh) -> TriangleMesh:
    """Triangles in the order a GPU's vertex cache likes and vertices in the order they are first used:
    faster to draw, and what meshopt's codecs compress best."""
    import meshopt

    indices, remap, unique = meshopt.reorder_mesh(mesh.triangles.astype(np.uint32).ravel(), triangles=True, optsize=False)
    order = np.argsort(remap, kind="stable")[:unique]  # old index of each new vertex
    return TriangleMesh(mesh.vertices[order], indices.reshape(-1, 3).astype(np.int64),
                        None if mesh.colors is None else mesh.colors[order])
