"""twin.geometry: the rigid-transform check and its one tolerance, and the z-up <-> y-up turn."""
from __future__ import annotations

import numpy as np
import pytest

from twin import registration
from twin.geometry import (QUATERNION_YUP_ZUP, RIGID_TOLERANCE, T_ZUP_YUP, as_rigid_transform, pose_matrix,
                           quaternion_to_matrix)


def _turn(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    T = np.eye(4)
    T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    T[:3, 3] = [1.0, -2.0, 0.5]
    return T


def test_a_rigid_transform_passes_unchanged_and_rounding_within_the_tolerance_passes():
    T = _turn(30)
    np.testing.assert_array_equal(as_rigid_transform(T), T)
    rounded = T.copy()
    rounded[:3, :3] += RIGID_TOLERANCE / 10
    as_rigid_transform(rounded)


@pytest.mark.parametrize("bad", [
    np.diag([1.0 + 10 * RIGID_TOLERANCE, 1.0, 1.0, 1.0]),                     # scale just past the tolerance
    np.diag([1.0, 1.0, -1.0, 1.0]),                                           # mirror
    np.array([[1, 0.3, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]]),   # shear
    np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1.0]]),     # projective last row
])
def test_scale_mirror_shear_and_projection_are_refused_naming_the_matrix(bad):
    with pytest.raises(ValueError, match="the init is not a rigid transform.*not a rotation.*; pass a pose"):
        as_rigid_transform(bad, "the init", advice="pass a pose")


def test_a_looser_tolerance_is_a_named_choice():
    T = np.diag([1.0004, 1.0, 1.0, 1.0])  # rounding of a pose file written with few decimals
    with pytest.raises(ValueError, match="not a rigid transform"):
        as_rigid_transform(T)
    as_rigid_transform(T, tolerance=1e-3)


@pytest.mark.parametrize("bad, message", [(np.eye(3), "must be a 4x4 matrix, got shape"),
                                          ("identity", "4x4 matrix of numbers"),
                                          (np.full((4, 4), np.nan), "NaN or infinite")])
def test_shape_and_numbers_are_checked_first(bad, message):
    with pytest.raises(ValueError, match=message):
        as_rigid_transform(bad, "T")


def test_registration_keeps_its_public_names():
    assert registration.as_rigid_transform is as_rigid_transform
    assert registration.RIGID_TOLERANCE == RIGID_TOLERANCE


def test_the_y_up_turn_maps_y_to_z_and_its_quaternion_is_its_inverse():
    np.testing.assert_array_equal(T_ZUP_YUP[:3, :3] @ [0, 1, 0], [0, 0, 1])
    np.testing.assert_array_equal(T_ZUP_YUP[:3, :3] @ [0, 0, 1], [0, -1, 0])
    np.testing.assert_allclose(quaternion_to_matrix(QUATERNION_YUP_ZUP), T_ZUP_YUP[:3, :3].T, atol=1e-15)
    np.testing.assert_allclose(QUATERNION_YUP_ZUP, [-np.sqrt(0.5), 0, 0, np.sqrt(0.5)], atol=1e-15)
    np.testing.assert_allclose(pose_matrix([0, 0, 0], QUATERNION_YUP_ZUP) @ T_ZUP_YUP, np.eye(4), atol=1e-15)


def test_rotation_onto_z_turns_a_direction_up_by_the_smallest_rotation():
    from twin.geometry import rotation_onto_z

    for direction in (np.array([0.02, -0.01, 1.0]), np.array([1.0, 2.0, -0.5]), np.array([0.0, 0.0, -1.0])):
        direction = direction / np.linalg.norm(direction)
        R = rotation_onto_z(direction)
        assert np.allclose(R @ direction, [0, 0, 1]) and np.allclose(R @ R.T, np.eye(3)) and np.isclose(np.linalg.det(R), 1)
    axis = np.cross([0.02, -0.01, 1.0], [0, 0, 1])
    tilted = np.array([0.02, -0.01, 1.0]) / np.linalg.norm([0.02, -0.01, 1.0])
    assert np.allclose(rotation_onto_z(tilted) @ axis, axis)  # it turns about the axis between them only
