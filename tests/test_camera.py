"""The one pinhole camera type: intrinsics, K, resizing, projection and back-projection, validation."""
from __future__ import annotations

import numpy as np
import pytest

from twin.camera import Camera, checked_intrinsics, look_at


def test_K_holds_the_intrinsics_and_from_K_reads_them_back():
    camera = Camera(500.0, 510.0, 319.5, 239.5, 640, 480)
    np.testing.assert_array_equal(camera.K, [[500.0, 0.0, 319.5], [0.0, 510.0, 239.5], [0.0, 0.0, 1.0]])
    again = Camera.from_K(camera.K, 640, 480)
    assert again == camera and hash(again) == hash(camera)
    assert camera.size == (640, 480) and camera.T_world_camera is None and camera.distortion is None


def test_with_fov_centres_the_principal_point_on_pixel_centres():
    camera = Camera.with_fov(640, 480, 90.0)
    assert camera.fx == pytest.approx(320.0) and camera.fx == camera.fy
    assert (camera.cx, camera.cy) == (319.5, 239.5)


def test_scaling_keeps_pixel_centres_where_they_were():
    camera = Camera(500.0, 500.0, 319.5, 239.5, 640, 480, np.eye(4), name="a")
    half = camera.scaled(320, 240)
    assert (half.fx, half.fy, half.cx, half.cy) == (250.0, 250.0, 159.5, 119.5)
    assert half.name == "a" and np.array_equal(half.T_world_camera, np.eye(4))
    # The same ray through a pixel before and after: x' + 0.5 = s (x + 0.5).
    point = np.array([[0.3, -0.2, 2.0]])
    uv, _ = camera.project(point)
    uv_half, _ = half.project(point)
    np.testing.assert_allclose(uv_half + 0.5, (uv + 0.5) / 2, atol=1e-12)
    assert camera.scaled(640, 480) == camera


def test_project_and_back_project_are_inverse():
    camera = Camera(520.0, 515.0, 320.2, 241.7, 640, 480)
    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50), rng.uniform(0.5, 4, 50)])
    uv, z = camera.project(points)
    np.testing.assert_allclose(z, points[:, 2])
    np.testing.assert_allclose(camera.back_project(uv[:, 0], uv[:, 1], z), points, atol=1e-12)
    # The principal point is the optical axis.
    np.testing.assert_allclose(camera.back_project(np.array([320.2]), np.array([241.7]), np.array([2.0])),
                               [[0.0, 0.0, 2.0]])


def test_poses_names_and_distortion_travel_with_the_camera():
    T = look_at(np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0]))
    camera = Camera(500.0, 500.0, 320.0, 240.0, 640, 480).with_pose(T, name="0.jpg")
    assert camera.name == "0.jpg" and camera.T_world_camera.dtype == np.float64
    assert camera != Camera(500.0, 500.0, 320.0, 240.0, 640, 480, name="0.jpg")
    distorted = Camera(500.0, 500.0, 320.0, 240.0, 640, 480, distortion=[0.1, 0.0, 0.0, 0.0])
    assert distorted.distortion.shape == (4,) and distorted != Camera(500.0, 500.0, 320.0, 240.0, 640, 480)


@pytest.mark.parametrize("values, size, message", [
    ((0.0, 500.0, 320.0, 240.0), (640, 480), "focal lengths must be positive"),
    ((500.0, float("nan"), 320.0, 240.0), (640, 480), "focal lengths must be positive"),
    ((500.0, 500.0, 320.0, 240.0), (0, 480), "at least 1"),
    ((500.0, 500.0, 320.0, 240.0), (640.5, 480), "whole numbers"),
])
def test_bad_intrinsics_are_clear_errors(values, size, message):
    with pytest.raises(ValueError, match=message):
        Camera(*values, *size)


def test_a_matrix_with_skew_or_a_projective_row_is_refused():
    with pytest.raises(ValueError, match="not a pinhole matrix"):
        Camera.from_K([[500.0, 3.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]], 640, 480)
    with pytest.raises(ValueError, match="not a pinhole matrix"):
        Camera.from_K([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.1, 1.0]], 640, 480)
    with pytest.raises(ValueError, match="3x3"):
        Camera.from_K(np.eye(4), 640, 480)
    assert checked_intrinsics(1, 2, 3, 4) == (1.0, 2.0, 3.0, 4.0)


def test_look_at_uses_opencv_axes():
    T = look_at(np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(T[:3, 2], [1, 0, 0], atol=1e-12)  # z forward
    np.testing.assert_allclose(T[:3, 0], [0, -1, 0], atol=1e-12)  # x right (looking along +x, right is -y)
    np.testing.assert_allclose(T[:3, 1], [0, 0, -1], atol=1e-12)  # y down
    with pytest.raises(ValueError, match="straight up or down"):
        look_at(np.zeros(3), np.array([0.0, 0.0, 1.0]))
