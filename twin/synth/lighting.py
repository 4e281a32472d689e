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

    def on_planes(self, normals: np.ndarray, offsets: np.ndarray) -> "PlaneLighting":
        """The lighting of flat triangles (unit `normals`, plane equations n . p = offset): all but
        the distance to each lamp is constant over a triangle, so it is worked out once here."""
        normals = normals.astype(np.float64)
        base = self.ambient + self.sky * (0.5 + 0.5 * normals[:, 2])
        if self.daylight_direction is not None:
            base += self.daylight * np.maximum(-(normals @ self.daylight_direction), 0)
        # n . (lamp - p) is the lamp's height above the triangle's plane, the same for all its points.
        heights = normals @ self.point_lights_m.T - offsets[:, None]
        reach = self.lamp * np.maximum(heights, 0)
        return PlaneLighting(base.astype(np.float32), np.ascontiguousarray(reach.T, np.float32),
                             self.point_lights_m.astype(np.float32), np.float32(self.lamp_falloff_m ** -2))


@dataclass(frozen=True)
class PlaneLighting:
    base: np.ndarray
    """(T,) ambient, sky and daylight of each triangle."""
    reach: np.ndarray
    """(L, T) lamp strength times the lamp's height above each triangle's plane."""
    lamps_m: np.ndarray
    inverse_falloff_sq: np.float32

    def shade(self, points: np.ndarray, triangle_ids: np.ndarray) -> np.ndarray:
        """(N,) float32 brightness of points on the given triangles."""
        coordinates = [points[:, i].astype(np.float32, copy=False) for i in range(3)]
        shade = np.take(self.base, triangle_ids)
        for lamp, reach in zip(self.lamps_m, self.reach):
            x, y, z = (lamp[i] - coordinates[i] for i in range(3))
            distance_sq = x * x + y * y + z * z
            # lamp * cos(incidence) / (1 + (d / falloff)^2), with cos = height / d
            shade += np.take(reach, triangle_ids) / (np.sqrt(distance_sq) * (1 + distance_sq * self.inverse_falloff_sq))
        return shade
