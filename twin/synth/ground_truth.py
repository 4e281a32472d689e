"""The ground-truth mesh: the scene's triangles cut into small ones, coloured at their vertices.

Reconstructions are compared with it (Chamfer distance, completeness), so it holds only the
visible surface (the scene already dropped hidden faces) and is fine enough that its vertex
colours show the textures.
"""
from __future__ import annotations

import numpy as np

from twin.synth.scene import Scene
from twin.synth.shader import SurfaceShader


def _template(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric weights (V, 3) and triangles (T, 3) that split a triangle into k*k."""
    index = {}
    weights = []
    for i in range(k + 1):
        for j in range(k + 1 - i):
            index[i, j] = len(weights)
            weights.append((k - i - j, i, j))
    triangles = []
    for i in range(k):
        for j in range(k - i):
            triangles.append((index[i, j], index[i + 1, j], index[i, j + 1]))
            if i + j < k - 1:
                triangles.append((index[i + 1, j], index[i + 1, j + 1], index[i, j + 1]))
    return np.array(weights, np.float64) / k, np.array(triangles, np.int64)


def subdivide(scene: Scene, max_edge_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices (V, 3), triangles (T, 3) and, per vertex, the scene triangle it lies on; no edge
    longer than `max_edge_m`. Triangles keep their winding, so normals still point outwards."""
    if max_edge_m <= 0:
        raise ValueError(f"max_edge_m must be positive, got {max_edge_m}")
    corners = scene.vertices[scene.triangles]  # (T, 3, 3)
    edges = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2).max(axis=1)
    splits = np.maximum(1, np.ceil(edges / max_edge_m).astype(int))
    vertices, triangles, sources = [], [], []
    count = 0
    for k in np.unique(splits):
        chosen = np.flatnonzero(splits == k)
        weights, template = _template(int(k))
        batch = np.einsum("vc,tcd->tvd", weights, corners[chosen])  # (t, V, 3)
        vertices.append(batch.reshape(-1, 3))
        offsets = count + np.arange(len(chosen))[:, None, None] * len(weights)
        triangles.append((template[None] + offsets).reshape(-1, 3))
        sources.append(np.repeat(chosen, len(weights)))
        count += len(chosen) * len(weights)
    return np.vstack(vertices), np.vstack(triangles).astype(np.int32), np.concatenate(sources)


def coloured_mesh(shader: SurfaceShader, max_edge_m: float, lit: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices, triangles, colours float32 in [0, 1]): lit as the cameras see the room, or bare
    albedo (a machine's own model does not carry the room's lighting)."""
    vertices, triangles, sources = subdivide(shader.scene, max_edge_m)
    footprint = np.full(len(vertices), max_edge_m, np.float32)
    albedo = shader.albedo(vertices, sources, footprint)
    colors = shader.lit(vertices, sources, albedo) if lit else albedo
    return vertices, triangles, colors
