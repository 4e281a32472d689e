"""Triangle meshes: the one mesh type (vertices, triangles, optional vertex colours), read from PLY,
OBJ, STL, glTF or GLB and checked, written as binary PLY.

Open3D reads them. A PLY that is cut short makes its reader RPly complain on stderr and leaves a
partial mesh: what it said, or fewer vertices or faces than the header promises, refuses the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.library_stderr import captured_stderr
from twin.scanfolder.atomic import atomic_write
from twin.scanfolder.clouds import colors_uint8
from twin.scanfolder.ply import read_ply_header


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


def read_mesh(path: str | Path) -> TriangleMesh:
    """The mesh with vertex colours where it has them; ValueError naming the file where it is missing,
    cut short or damaged, has NaN vertices or bad indices. A mesh without triangles is the caller's to judge."""
    import open3d as o3d  # slow to import: only when a mesh is read

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    header = read_ply_header(path) if path.suffix.lower() == ".ply" else None
    with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error), captured_stderr() as said:
        raw = o3d.io.read_triangle_mesh(str(path))
    mesh = TriangleMesh(np.asarray(raw.vertices, dtype=np.float64).reshape(-1, 3),
                        np.asarray(raw.triangles, dtype=np.int64).reshape(-1, 3),
                        colors_uint8(np.asarray(raw.vertex_colors), str(path)) if raw.has_vertex_colors() else None)
    # Open3D splits polygons into triangles: a whole file has at least as many triangles as faces.
    if header is not None and (said or len(mesh.vertices) < header.count("vertex")
                               or len(mesh.triangles) < header.count("face")):
        raise ValueError(f"{path}: the PLY promises {header.count('vertex')} vertices and {header.count('face')} faces "
                         f"but Open3D read {len(mesh.vertices)} and {len(mesh.triangles)}"
                         f"{' (' + '; '.join(said) + ')' if said else ''}; the file is cut short or damaged")
    mesh.check(str(path))
    return mesh


def write_mesh_ply(path: Path, vertices: np.ndarray, triangles: np.ndarray, colors: np.ndarray | None = None) -> None:
    """Binary PLY, atomically; `colors` as uint8 or floats in [0, 1]."""
    import open3d as o3d  # slow to import: only when a mesh is written

    mesh = o3d.t.geometry.TriangleMesh(o3d.core.Tensor(np.asarray(vertices, np.float32)),
                                       o3d.core.Tensor(np.asarray(triangles, np.int32)))
    if colors is not None:
        mesh.vertex.colors = o3d.core.Tensor(_unit_colors(colors))
    with atomic_write(path) as partial:
        if not o3d.t.io.write_triangle_mesh(str(partial), mesh, write_ascii=False):
            raise OSError(f"could not write the mesh {path}")


def _unit_colors(colors: np.ndarray) -> np.ndarray:
    colors = np.asarray(colors)
    if colors.dtype == np.uint8:
        return colors.astype(np.float32) / 255.0
    return np.clip(colors, 0.0, 1.0).astype(np.float32)
