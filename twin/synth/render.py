"""Ray casting the workshop on the CPU (Open3D's RaycastingScene): depth, colour and incidence per pixel."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import open3d as o3d

from twin.synth.camera import PinholeCamera
from twin.synth.scene import Scene
from twin.synth.shader import SurfaceShader
from twin.synth.spec import Workshop

# Grazing views make a pixel's footprint on the surface long; beyond this, blur instead of aliasing.
_MIN_COS_FOR_FOOTPRINT = 0.3


@dataclass(frozen=True)
class RenderedView:
    depth_m: np.ndarray
    """(H, W) float32 distance along the optical axis; 0 where the ray hits nothing."""
    color: np.ndarray
    """(H, W, 3) float32 lit colour in [0, 1]."""
    albedo_luma: np.ndarray
    """(H, W) float32 surface brightness before lighting (dark surfaces return little infrared)."""
    cos_incidence: np.ndarray
    """(H, W) float32 cosine between the ray and the surface normal (0 = grazing, 1 = head-on)."""
    points_m: np.ndarray
    """(H, W, 3) float32 world points hit (where depth > 0)."""


class Renderer:
    """Holds the ray-casting scene and the shader; renders any pinhole view of the workshop."""

    def __init__(self, workshop: Workshop, scene: Scene):
        self.shader = SurfaceShader(workshop, scene)
        self._raycaster = o3d.t.geometry.RaycastingScene()
        self._raycaster.add_triangles(o3d.core.Tensor(scene.vertices.astype(np.float32)),
                                      o3d.core.Tensor(scene.triangles.astype(np.uint32)))

    def render(self, camera: PinholeCamera, T_world_camera: np.ndarray) -> RenderedView:
        directions_camera, ray_length = _rays_of(camera)
        R = T_world_camera[:3, :3].astype(np.float32)
        # einsum, not @: BLAS is slow for these thin products and spins its threads (tested).
        directions = np.einsum("nj,ij->ni", directions_camera, R)
        rays = np.empty((len(directions), 6), np.float32)
        rays[:, :3] = T_world_camera[:3, 3]
        rays[:, 3:] = directions
        hits = self._raycaster.cast_rays(o3d.core.Tensor(rays))
        depth = hits["t_hit"].numpy()  # directions have unit z in the camera, so t is the depth
        ids = hits["primitive_ids"].numpy().astype(np.int64)
        # Shade every pixel (a closed room leaves none empty) and blank the misses at the end:
        # cheaper than gathering and scattering the hits.
        hit = np.isfinite(depth)
        if not hit.all():
            depth = np.where(hit, depth, 0.0).astype(np.float32)
            ids[~hit] = 0

        points = rays[:, :3] + directions * depth[:, None]
        cos = np.abs(np.einsum("ij,ij->i", directions, self.shader.normals[ids])) / ray_length
        footprint = depth * ray_length / np.float32(camera.fx) / np.maximum(cos, _MIN_COS_FOR_FOOTPRINT)
        albedo = self.shader.albedo(points, ids, footprint)
        color = self.shader.lit(points, ids, albedo)
        luma = np.einsum("nj,j->n", albedo, np.array([0.299, 0.587, 0.114], np.float32))
        if not hit.all():
            color[~hit] = 0
            luma[~hit] = 0
            cos[~hit] = 0
        shape = (camera.height, camera.width)
        return RenderedView(depth.reshape(shape), color.reshape(shape + (3,)), luma.reshape(shape), cos.reshape(shape),
                            points.reshape(shape + (3,)))


@functools.lru_cache(maxsize=4)
def _rays_of(camera: PinholeCamera) -> tuple[np.ndarray, np.ndarray]:
    """The camera's ray directions (z = 1) and their lengths (metres of ray per metre of depth)."""
    directions = camera.ray_directions_camera()
    return directions, np.linalg.norm(directions, axis=1).astype(np.float32)
