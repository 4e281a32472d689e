"""A triangle mesh with optional vertex colours, and its glTF TRIANGLES primitive."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygltflib as gl

from twin.export.glb import GlbBuilder


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


def add_mesh(builder: GlbBuilder, name: str, mesh: TriangleMesh, material: int) -> int:
    """Adds the mesh (float32 positions, unit normals, 8-bit colours) and returns the glTF mesh index."""
    # Triangles that repeat a vertex draw nothing; the validator flags them, so they are left out.
    t = mesh.triangles
    keep = (t[:, 0] != t[:, 1]) & (t[:, 1] != t[:, 2]) & (t[:, 0] != t[:, 2])
    mesh = mesh.subset(keep) if not keep.all() else mesh
    attributes = {"POSITION": builder.vertex_attribute(mesh.vertices.astype(np.float32), bounds=True),
                  "NORMAL": builder.vertex_attribute(mesh.vertex_normals().astype(np.float32))}
    if mesh.colors is not None:
        attributes["COLOR_0"] = builder.vertex_attribute(mesh.colors, normalized=True)
    return builder.mesh(name, attributes, mode=gl.TRIANGLES, indices=builder.indices(mesh.triangles), material=material)
