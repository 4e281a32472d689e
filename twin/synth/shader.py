"""What a surface point looks like: its material's texture at the point, times the room's lighting."""
from __future__ import annotations

import numpy as np

from twin.synth.lighting import Lighting
from twin.synth.materials import marker_texture, texture
from twin.synth.scene import MARKER_MARGIN_CELLS, Scene, marker_material_name
from twin.synth.spec import Workshop


class SurfaceShader:
    def __init__(self, workshop: Workshop, scene: Scene):
        self.scene = scene
        normals = scene.triangle_normals()
        offsets = np.einsum("ij,ij->i", normals, scene.vertices[scene.triangles[:, 0]])
        self.lighting = Lighting.from_workshop(workshop).on_planes(normals, offsets)
        self.normals = normals.astype(np.float32)
        markers = {marker_material_name(m): m for m in workshop.markers}
        self.textures = {}
        for index in np.unique(scene.material_index):
            name = scene.material_names[index]
            if name in markers:
                marker = markers[name]
                corners = marker.corners_m(MARKER_MARGIN_CELLS)
                side = float(np.linalg.norm(corners[1] - corners[0]))
                self.textures[int(index)] = marker_texture(marker.dictionary, marker.id, side, MARKER_MARGIN_CELLS)
            else:
                material = workshop.materials[name]
                self.textures[int(index)] = texture(material.pattern, material.color, material.name)

    def albedo(self, points: np.ndarray, triangle_ids: np.ndarray, footprint_m: np.ndarray | None = None) -> np.ndarray:
        """Surface colour (N, 3) float32 in [0, 1] before lighting, of points on the given triangles;
        `footprint_m` is the size of the area each value stands for (a pixel, a vertex spacing): no aliasing."""
        albedo = np.empty((len(points), 3), np.float32)
        uv = self.scene.uv_m(points, triangle_ids)
        materials = self.scene.material_index[triangle_ids]
        for material in np.unique(materials):
            chosen = np.flatnonzero(materials == material)
            albedo[chosen] = self.textures[int(material)].sample(
                uv[chosen], None if footprint_m is None else footprint_m[chosen])
        return albedo

    def lit(self, points: np.ndarray, triangle_ids: np.ndarray, albedo: np.ndarray) -> np.ndarray:
        """Colour (N, 3) as seen: albedo times the (view-independent) lighting."""
        shade = self.lighting.shade(points, triangle_ids)
        return np.clip(albedo * shade[:, None], 0.0, 1.0)
