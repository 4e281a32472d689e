"""A triangle mesh with optional vertex colours, and its glTF TRIANGLES primitive."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygltflib as gl

from twin.export.glb import GlbBuilder
from twin.export.quantise import quantise


@dataclass(frozen=True)
class TriangleMesh:
    vertices: np.ndarray
    """(n, 3) float64, metres."""
    triangles: np.ndarray
    """(m, 3) int64 vertex indices."""
    colors: np.ndarray | None = None
    """(n, 3) uint8, or None."""

    def check(self, source: str) -> None:
        """Raises ValueError if the mesh cannot be exported (non-finite vertices, bad indices)."""
        if self.vertices.ndim != 2 or self.vertices.shape[1] != 3 or self.triangles.ndim != 2 or self.triangles.shape[1] != 3:
            raise ValueError(f"{source}: a mesh needs (n, 3) vertices and (m, 3) triangles")
        bad = ~np.isfinite(self.vertices).all(axis=1)
        if bad.any():
            raise ValueError(f"{source}: {int(bad.sum())} of {len(self.vertices)} mesh vertices are NaN or infinite "
                             f"(the first is vertex {int(np.flatnonzero(bad)[0])}); clean the mesh or reconstruct it again")
        if self.triangles.size and (self.triangles.min() < 0 or self.triangles.max() >= len(self.vertices)):
            raise ValueError(f"{source}: triangles name vertices that do not exist (indices must be 0..{len(self.vertices) - 1})")

    def subset(self, triangle_mask: np.ndarray) -> TriangleMesh:
        """The triangles where the mask is true, with only the vertices they use."""
        triangles = self.triangles[triangle_mask]
        used, compact = np.unique(triangles, return_inverse=True)
        return TriangleMesh(self.vertices[used], compact.reshape(-1, 3),
                            None if self.colors is None else self.colors[used])

    def transformed(self, T: np.ndarray) -> TriangleMesh:
        """The mesh with its vertices mapped by the 4x4 transform T."""
        return TriangleMesh(self.vertices @ T[:3, :3].T + T[:3, 3], self.triangles, self.colors)

    def vertex_normals(self) -> np.ndarray:
        """Area-weighted unit normals per vertex ((0, 0, 1) where a vertex has no area around it)."""
        v = self.vertices[self.triangles]
        face = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        corners = self.triangles.ravel()
        normals = np.stack([np.bincount(corners, weights=np.repeat(face[:, axis], 3), minlength=len(self.vertices))
                            for axis in range(3)], axis=1)
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        return np.where(length > 0, normals / np.where(length > 0, length, 1.0), (0.0, 0.0, 1.0))


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
