"""Ray casting the workshop on the CPU (Open3D's RaycastingScene): depth, colour and incidence per pixel."""
from __future__ import annotations

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


class Renderer:
    """Holds the ray-casting scene and the shader; renders any pinhole view of the workshop."""

    def __init__(self, workshop: Workshop, scene: Scene):
        self.shader = SurfaceShader(workshop, scene)
        self._raycaster = o3d.t.geometry.RaycastingScene()
        self._raycaster.add_triangles(o3d.core.Tensor(scene.vertices.astype(np.float32)),
                                      o3d.core.Tensor(scene.triangles.astype(np.uint32)))

    def render(self, camera: PinholeCamera, T_world_camera: np.ndarray) -> RenderedView:
        directions_camera = camera.ray_directions_camera()
        ray_length = np.linalg.norm(directions_camera, axis=1).astype(np.float32)  # per metre of depth
        R = T_world_camera[:3, :3].astype(np.float32)
        rays = np.empty((len(directions_camera), 6), np.float32)
        rays[:, :3] = T_world_camera[:3, 3]
        rays[:, 3:] = directions_camera @ np.ascontiguousarray(R.T)  # contiguous: 2x faster in numpy
        hits = self._raycaster.cast_rays(o3d.core.Tensor(rays))
        depth = hits["t_hit"].numpy()  # directions have unit z in the camera, so t is the depth
        hit = np.flatnonzero(np.isfinite(depth))
        ids = hits["primitive_ids"].numpy()[hit].astype(np.int64)
        depth_hit = depth[hit]

        points = rays[hit, :3] + rays[hit, 3:] * depth_hit[:, None]
        cos = np.abs(np.einsum("ij,ij->i", rays[hit, 3:], self.shader.normals[ids])) / ray_length[hit]
        footprint = depth_hit * ray_length[hit] / np.float32(camera.fx) / np.maximum(cos, _MIN_COS_FOR_FOOTPRINT)
        albedo = self.shader.albedo(points, ids, footprint)
        lit = self.shader.lit(points, ids, albedo)

        shape = (camera.height, camera.width)
        color = np.zeros((depth.size, 3), np.float32)
        color[hit] = lit
        luma = np.zeros(depth.size, np.float32)
        luma[hit] = albedo @ np.array([0.299, 0.587, 0.114], np.float32)
        cos_image = np.zeros(depth.size, np.float32)
        cos_image[hit] = cos
        depth_image = np.zeros(depth.size, np.float32)
        depth_image[hit] = depth_hit
        return RenderedView(depth_image.reshape(shape), color.reshape(shape + (3,)), luma.reshape(shape),
                            cos_image.reshape(shape))
