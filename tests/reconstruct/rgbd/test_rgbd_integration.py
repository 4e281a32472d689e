"""TSDF fusion puts surfaces where they are: exact synthetic depth and poses give the room's
planes to within a millimetre, at two voxel sizes."""
from __future__ import annotations

import numpy as np
import pytest
from rgbd_scene import intrinsics, render, walk

from twin.camera import Camera
from twin.reconstruct.rgbd.integration import TsdfVolume


@pytest.fixture(scope="module")
def frames():
    return render(walk(12), 320, 240)


@pytest.mark.parametrize("voxel_size_m", [0.01, 0.02])
def test_fused_planes_land_on_the_true_planes(frames, voxel_size_m):
    volume = TsdfVolume(voxel_size_m, 6.0)
    camera = Camera.from_K(intrinsics(320, 240), 320, 240)
    for frame in frames:
        volume.integrate(frame.depth_m, frame.color, camera.with_pose(frame.T_world_camera))
    surface = volume.extract()
    vertices = surface.mesh_vertices
    floor = vertices[np.abs(vertices[:, 2]) < 0.05, 2]
    back_wall = vertices[np.abs(vertices[:, 1] - 3.0) < 0.05, 1]
    assert len(floor) > 1000 and len(back_wall) > 1000
    assert abs(np.median(floor)) < 0.001 and abs(np.median(back_wall) - 3.0) < 0.001
    assert surface.mesh_colors.shape == vertices.shape and surface.cloud_points.shape[1] == 3


def test_an_empty_volume_and_a_bad_voxel_size_are_clear_errors():
    with pytest.raises(ValueError, match="positive"):
        TsdfVolume(0.0, 3.0)
    with pytest.raises(ValueError, match="no frame was integrated"):
        TsdfVolume(0.01, 3.0).extract()
