"""View-independent lighting of the workshop: ceiling lights, daylight from the windows, ambient.

Diffuse only, so a surface point has the same colour from every viewpoint, as photogrammetry and
coloured ICP assume; the shading still varies across surfaces, as real rooms do.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.synth.spec import Workshop


@dataclass(frozen=True)
class Lighting:
    point_lights_m: np.ndarray
    """(L, 3) positions of the lamps."""
    daylight_direction: np.ndarray | None
    """Direction in which daylight travels (unit), or None without windows."""
    ambient: float = 0.42
    lamp: float = 0.55
    lamp_falloff_m: float = 2.5
    daylight: float = 0.22
    sky: float = 0.12

    @classmethod
    def from_workshop(cls, workshop: Workshop) -> "Lighting":
        """Lamps where the objects of kind `light` hang (just below), daylight through the windows."""
        lamps = [o.T_world_object[:3, 3] - [0.0, 0.0, 0.1] for o in workshop.objects if o.kind == "light"]
        windows = [o.T_world_object for o in workshop.objects if o.kind == "window"]
        daylight = None
        if windows:
            # A window's front (local -y) faces into the room, like a machine's.
            inward = -np.mean([T[:3, 1] for T in windows], axis=0)
            daylight = inward / np.linalg.norm(inward) + [0.0, 0.0, -0.6]
            daylight /= np.linalg.norm(daylight)
        return cls(np.array(lamps).reshape(-1, 3), daylight)

    def shade(self, points: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """(N,) float32 brightness factors for unit `normals` at `points`."""
        points = points.astype(np.float32, copy=False)
        normals = normals.astype(np.float32, copy=False)
        shade = np.float32(self.ambient + 0.5 * self.sky) + np.float32(0.5 * self.sky) * normals[:, 2]
        for lamp in self.point_lights_m.astype(np.float32):
            to_lamp = lamp - points
            distance_sq = np.einsum("ij,ij->i", to_lamp, to_lamp)
            facing = np.einsum("ij,ij->i", normals, to_lamp) / np.sqrt(distance_sq)
            falloff = 1 + distance_sq / np.float32(self.lamp_falloff_m ** 2)
            shade += np.float32(self.lamp) * np.maximum(facing, 0) / falloff
        if self.daylight_direction is not None:
            towards_sun = -np.einsum("nj,j->n", normals, self.daylight_direction.astype(np.float32))
            shade += np.float32(self.daylight) * np.maximum(towards_sun, 0)
        return shade
