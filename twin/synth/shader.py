"""What a surface point looks like: its material's texture at the point, times the room's lighting."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from twin.synth.atlas import TextureAtlas
from twin.synth.lighting import Lighting
from twin.synth.materials import Texture, marker_texture, texture
from twin.synth.scene import MARKER_MARGIN_CELLS, Scene, marker_material_name
from twin.synth.spec import Workshop


class SurfaceShader:
    def __init__(self, workshop: Workshop, scene: Scene):
        self.scene = scene
        normals = scene.triangle_normals()
        offsets = np.einsum("ij,ij->i", normals, scene.vertices[scene.triangles[:, 0]])
        self.lighting = Lighting.from_workshop(workshop).on_planes(normals, offsets)
        self.normals_by_axis = tuple(np.ascontiguousarray(normals[:, i], np.float32) for i in range(3))
        self.atlas = TextureAtlas.build(_textures(workshop, scene))
        # Per triangle, what texture lookups need: one gather per point each.
        used = np.unique(scene.material_index)
        texture_of_material = np.zeros(len(scene.material_names), np.int32)
        texture_of_material[used] = np.arange(len(used))
        texture_of_triangle = texture_of_material[scene.material_index]
        self._texel_m = self.atlas.texel_m[texture_of_triangle]
        self._first_slot = self.atlas.first_slot[texture_of_triangle]
        self._top_level = self.atlas.top_level[texture_of_triangle]

    def albedo(self, points: np.ndarray, triangle_ids: np.ndarray, footprint_m: np.ndarray) -> np.ndarray:
        """Surface colour (N, 3) float32 in [0, 1] before lighting, of points on the given triangles;
        `footprint_m` (N,) is the size of the area each value stands for (a pixel, a vertex spacing):
        it picks the mip level, so that textures do not alias."""
        u, v = self.scene.uv_m(points, triangle_ids)
        texel = np.take(self._texel_m, triangle_ids)
        ratio = np.maximum(footprint_m / texel, np.float32(1.0))
        slots = np.floor(np.log2(ratio)).astype(np.int32)
        np.minimum(slots, np.take(self._top_level, triangle_ids), out=slots)
        slots += np.take(self._first_slot, triangle_ids)
        rgb = self.atlas.sample(slots, (u / texel, v / texel))
        return rgb.astype(np.float32) * np.float32(1 / 255)

    def lit(self, points: np.ndarray, triangle_ids: np.ndarray, albedo: np.ndarray) -> np.ndarray:
        """Colour (N, 3) as seen: albedo times the (view-independent) lighting."""
        shade = self.lighting.shade(points, triangle_ids)
        return np.clip(albedo * shade[:, None], 0.0, 1.0)


def _textures(workshop: Workshop, scene: Scene) -> list[Texture]:
    """The textures of the materials the scene uses, in the order of their material index; made on
    two threads (most of the work is OpenCV and numpy, which let the other thread run)."""
    markers = {marker_material_name(m): m for m in workshop.markers}

    def make(index: int) -> Texture:
        name = scene.material_names[index]
        if name in markers:
            marker = markers[name]
            corners = marker.corners_m(MARKER_MARGIN_CELLS)
            side = float(np.linalg.norm(corners[1] - corners[0]))
            return marker_texture(marker.dictionary, marker.id, side, MARKER_MARGIN_CELLS)
        material = workshop.materials[name]
        return texture(material.pattern, material.color, material.name)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(make, np.unique(scene.material_index)))
