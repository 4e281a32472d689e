"""Ray casting the workshop on the CPU (Open3D's RaycastingScene): depth, colour and incidence per pixel."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import open3d as o3d

from twin.camera import Camera
from twin.synth.scene import Scene
from twin.synth.shader import SurfaceShader
from twin.synth.spec import Workshop

# Grazing views make a pixel's footprint on the surface long; beyond this, blur instead of aliasing.
_MIN_COS_FOR_FOOTPRINT = 0.3
_BAND_PIXELS = 1 << 16
MIN_IMAGE_SIDE_PX = 8


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

    def render(self, camera: Camera, T_world_camera: np.ndarray) -> RenderedView:
        check_renderable(camera)
        height, width = camera.height, camera.width
        view = RenderedView(np.empty((height, width), np.float32), np.empty((height, width, 3), np.float32),
                            np.empty((height, width), np.float32), np.empty((height, width), np.float32),
                            np.empty((height, width, 3), np.float32))
        # A band of rows at a time: its dozens of intermediate arrays stay in the CPU's cache.
        rows = max(1, _BAND_PIXELS // width)
        for top in range(0, height, rows):
            self._render_band(camera, T_world_camera, slice(top, min(height, top + rows)), view)
        return view

    def _render_band(self, camera: Camera, T_world_camera: np.ndarray, band: slice, view: RenderedView) -> None:
        """Render the image rows `band` into `view`."""
        rays = _rays(camera, T_world_camera, band)
        hits = self._raycaster.cast_rays(o3d.core.Tensor.from_numpy(rays))
        depth = hits["t_hit"].numpy()  # directions have unit z in the camera, so t is the depth
        ids = hits["primitive_ids"].numpy().astype(np.intp)  # converted once, not in each of a dozen gathers
        # Shade every pixel (a closed room leaves none empty) and blank the misses at the end:
        # cheaper than gathering and scattering the hits.
        hit = np.isfinite(depth)
        if not hit.all():
            depth = np.where(hit, depth, 0.0).astype(np.float32)
            ids = np.where(hit, ids, 0)

        # Per coordinate: numpy is several times faster on whole columns than on rows of three.
        directions = [rays[:, 3 + i] for i in range(3)]
        points = view.points_m[band].reshape(-1, 3)
        for i in range(3):
            np.add(rays[:, i], directions[i] * depth, out=points[:, i])
        normals = [np.take(n, ids) for n in self.shader.normals_by_axis]
        ray_length = _ray_lengths(camera)[band].ravel()
        cos = np.abs(directions[0] * normals[0] + directions[1] * normals[1] + directions[2] * normals[2]) / ray_length
        footprint = depth * ray_length / np.float32(camera.fx) / np.maximum(cos, _MIN_COS_FOR_FOOTPRINT)
        albedo = self.shader.albedo(points, ids, footprint)
        color = self.shader.lit(points, ids, albedo)
        luma = albedo[:, 0] * np.float32(0.299) + albedo[:, 1] * np.float32(0.587) + albedo[:, 2] * np.float32(0.114)
        if not hit.all():
            color[~hit] = 0
            luma[~hit] = 0
            cos[~hit] = 0
        view.depth_m[band] = depth.reshape(-1, camera.width)
        view.color[band] = color.reshape(-1, camera.width, 3)
        view.albedo_luma[band] = luma.reshape(-1, camera.width)
        view.cos_incidence[band] = cos.reshape(-1, camera.width)


def check_renderable(camera: Camera) -> None:
    if camera.width < MIN_IMAGE_SIDE_PX or camera.height < MIN_IMAGE_SIDE_PX:
        raise ValueError(f"a camera of {camera.width}x{camera.height} px with fx={camera.fx}, fy={camera.fy} cannot "
                         f"render; use at least {MIN_IMAGE_SIDE_PX}x{MIN_IMAGE_SIDE_PX} pixels")


def _rays(camera: Camera, T_world_camera: np.ndarray, band: slice) -> np.ndarray:
    """(n, 6) float32 rays [origin, direction] in the world of the image rows `band`, row-major, directions
    with unit z in the camera: (x R[i, 0] + y R[i, 1]) + R[i, 2] over the columns and rows by broadcasting
    (in that order, the rounding of R @ [x, y, 1]: the same rays hit the same side of coplanar faces)."""
    x, y = _image_plane(camera)
    y = y[band]
    R = T_world_camera[:3, :3].astype(np.float32)
    rays = np.empty((len(y) * len(x), 6), np.float32)
    rays[:, :3] = T_world_camera[:3, 3]
    for i in range(3):
        direction = np.add((x * R[i, 0])[None], (y * R[i, 1])[:, None])
        direction += R[i, 2]
        rays[:, 3 + i] = direction.ravel()
    return rays


@functools.lru_cache(maxsize=8)
def _image_plane(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """x (W,) and y (H,) float32 of the pixel centres on the camera's z = 1 plane."""
    return ((np.arange(camera.width) - camera.cx) / camera.fx).astype(np.float32), \
        ((np.arange(camera.height) - camera.cy) / camera.fy).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _ray_lengths(camera: Camera) -> np.ndarray:
    """(H, W) float32 metres of ray per metre of depth."""
    x, y = _image_plane(camera)
    return np.sqrt(x[None, :] ** 2 + y[:, None] ** 2 + 1)
