"""Fusing posed depth frames into a TSDF (`open3d.t.geometry.VoxelBlockGrid`; the legacy
`ScalableTSDFVolume` returns empty meshes in open3d 0.20) and extracting a coloured mesh and cloud."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import open3d as o3d

from twin.camera import Camera

# Blocks of 8^3 voxels: each frame touches the blocks within truncation of its surface, and
# every voxel of a touched block is updated; 16^3 blocks updated 2.3x more voxels for the same
# surface (fusion of livingroom1_micro 6.4 s -> 2.8 s, 1 % fewer surface points).
BLOCK_RESOLUTION = 8
# Truncation in voxels: enough for depth noise of a few voxels, small enough to keep thin things.
TRUNCATION_VOXELS = 4.0
# Initial capacity in blocks; the CPU hash map grows by itself (8000 up front measured no faster
# on livingroom1_micro, which ends at 4200), and every block reserved up front costs memory.
INITIAL_BLOCKS = 1000
WEIGHT_THRESHOLD = 3.0
# Depth images wider than this are halved before fusion: at 1 cm voxels and room distances a
# 320-pixel-wide VGA half still puts a pixel under every voxel, and fusion runs about 2x faster.
MAX_FUSION_WIDTH_PX = 480


@dataclass(frozen=True)
class Surface:
    mesh_vertices: np.ndarray    # (V, 3) float32, metres
    mesh_triangles: np.ndarray   # (T, 3) int32
    mesh_colors: np.ndarray      # (V, 3) float32 in [0, 1]
    cloud_points: np.ndarray     # (N, 3) float32
    cloud_colors: np.ndarray     # (N, 3) float32 in [0, 1]
    cloud_normals: np.ndarray    # (N, 3) float32


class TsdfVolume:
    def __init__(self, voxel_size_m: float, depth_max_m: float):
        if not voxel_size_m > 0:
            raise ValueError(f"the TSDF voxel size must be positive, got {voxel_size_m}")
        self._device = o3d.core.Device("CPU:0")
        self._voxel_size = voxel_size_m
        self._depth_max = depth_max_m
        self._grid = o3d.t.geometry.VoxelBlockGrid(
            attr_names=("tsdf", "weight", "color"),
            attr_dtypes=(o3d.core.float32, o3d.core.float32, o3d.core.float32),
            attr_channels=((1), (1), (3)), voxel_size=voxel_size_m, block_resolution=BLOCK_RESOLUTION,
            block_count=INITIAL_BLOCKS, device=self._device)
        self.frames = 0

    def integrate(self, depth_m: np.ndarray, color: np.ndarray, camera: Camera) -> None:
        """Adds one frame seen by `camera` (posed); `depth_m` float32 metres (0 = none), `color` HxWx3 uint8 of
        the same size."""
        depth_m, color, camera = _fusion_resolution(depth_m, color, camera)
        depth = o3d.t.geometry.Image(o3d.core.Tensor(np.ascontiguousarray(depth_m, np.float32)))
        image = o3d.t.geometry.Image(o3d.core.Tensor(np.ascontiguousarray(color.astype(np.float32) / 255.0)))
        intrinsic = o3d.core.Tensor(_truncating_lookup(camera.K))
        extrinsic = o3d.core.Tensor(np.linalg.inv(camera.T_world_camera))
        blocks = self._grid.compute_unique_block_coordinates(
            depth, intrinsic, extrinsic, 1.0, self._depth_max, TRUNCATION_VOXELS)
        self._grid.integrate(blocks, depth, image, intrinsic, intrinsic, extrinsic, 1.0, self._depth_max,
                             TRUNCATION_VOXELS)
        self.frames += 1

    def extract(self) -> Surface:
        if self.frames == 0:
            raise ValueError("no frame was integrated; there is no surface to extract")
        mesh = self._grid.extract_triangle_mesh(weight_threshold=WEIGHT_THRESHOLD)
        if mesh.vertex.positions.shape[0] == 0:
            raise ValueError(f"the fused surface is empty: no surface was seen in {WEIGHT_THRESHOLD:g} or more of the "
                             f"{self.frames} frame(s) fused; record a longer walk that sees each surface several times")
        cloud = self._grid.extract_point_cloud(weight_threshold=WEIGHT_THRESHOLD)
        if "normals" not in cloud.point:
            cloud.estimate_normals()
        return Surface(
            mesh_vertices=mesh.vertex.positions.numpy(), mesh_triangles=mesh.triangle.indices.numpy().astype(np.int32),
            mesh_colors=mesh.vertex.colors.numpy(), cloud_points=cloud.point.positions.numpy(),
            cloud_colors=cloud.point.colors.numpy(), cloud_normals=cloud.point.normals.numpy())


def _fusion_resolution(depth_m: np.ndarray, color: np.ndarray, camera: Camera):
    height, width = depth_m.shape
    new_width, new_height = width, height
    while new_width > MAX_FUSION_WIDTH_PX:
        new_width, new_height = new_width // 2, new_height // 2
    if new_width == width:
        return depth_m, color, camera
    size = (new_width, new_height)
    return (cv2.resize(depth_m, size, interpolation=cv2.INTER_NEAREST),
            cv2.resize(color, size, interpolation=cv2.INTER_AREA),
            camera.scaled(*size))


def _truncating_lookup(K: np.ndarray) -> np.ndarray:
    """The intrinsics to hand to VoxelBlockGrid: it finds a voxel's pixel by truncating, not
    rounding, its projection, which reads depth half a pixel off and moved every surface 3-4 mm
    (measured on exact synthetic depth). Shifting the principal point by half a pixel makes the
    truncation a rounding."""
    shifted = np.array(K, dtype=np.float64)
    shifted[0, 2] += 0.5
    shifted[1, 2] += 0.5
    return shifted
