"""Loop closure and pose fusion on exact synthetic geometry: drift goes away, good poses stay."""
from __future__ import annotations

import cv2
import numpy as np
from rgbd_scene import intrinsics, render, walk

from twin.camera import Camera
from twin.reconstruct.rgbd.depth_points import back_project
from twin.reconstruct.rgbd.loop_closure import LoopClosureSettings, close_loops
from twin.reconstruct.rgbd.pose_prior import fuse_with_prior
from twin.reconstruct.rgbd.tracking_stage import Fragment


def _drift(step: int) -> np.ndarray:
    """What tracking might accumulate: 1.5 cm and 0.6 deg of yaw per fragment."""
    T = np.eye(4)
    T[:3, :3] = cv2.Rodrigues(np.array([0.0, 0.0, np.radians(0.6 * step)]))[0]
    T[:3, 3] = [0.015 * step, -0.01 * step, 0.0]
    return T


def test_loops_between_fragments_pull_drifted_fragments_back():
    poses = walk(5)
    frames = render(poses, 160, 120)
    camera = Camera.from_K(intrinsics(160, 120), 160, 120)
    fragments = []
    for k, frame in enumerate(frames):
        points, _ = back_project(frame.depth_m, camera, 1)
        drifted = poses[0] @ _drift(k) @ np.linalg.inv(poses[0]) @ poses[k]
        fragments.append(Fragment(k, drifted, points, [k]))
    result = close_loops(fragments, LoopClosureSettings(), lambda done, total: None)
    assert result.pairs_tried == 7   # 4 neighbours + the 3 pairs whose boxes overlap enough
    assert sum(e.uncertain for e in result.edges) >= 3
    np.testing.assert_allclose(result.T_world_fragments[0], fragments[0].T_world_anchor, atol=1e-9)
    before = [np.linalg.norm(f.T_world_anchor[:3, 3] - T[:3, 3]) for f, T in zip(fragments, poses)]
    after = [np.linalg.norm(A[:3, 3] - T[:3, 3]) for A, T in zip(result.T_world_fragments, poses)]
    assert max(before) > 0.05 and max(after) < 0.01
    summary = result.summary([f.T_world_anchor for f in fragments])
    assert summary["accepted"] >= 3 and summary["largest_fragment_correction_m"] > 0.05


def _pose(rotation_vector, translation):
    T = np.eye(4)
    T[:3, :3] = cv2.Rodrigues(np.asarray(rotation_vector, float))[0]
    T[:3, 3] = translation
    return T


def test_fusion_keeps_what_the_geometry_pins_and_the_prior_elsewhere():
    prior = _pose([0.0, 0.1, 0.0], [2.0, 1.0, 1.5])
    measured = prior.copy()
    measured[:3, 3] += [0.03, 0.02, 0.0]
    # Point-to-plane information of a wall x = 4 (Open3D's form, sum of G^T n n^T G, G = [-[q]x | I]):
    # it pins x and the rotations that would tilt the wall, and says nothing about y or z.
    information = np.zeros((6, 6))
    normal = np.array([1.0, 0.0, 0.0])
    for y in np.linspace(0, 3, 20):
        for z in np.linspace(0, 2.5, 20):
            q = np.array([4.0, y, z])
            skew = np.array([[0, -q[2], q[1]], [q[2], 0, -q[0]], [-q[1], q[0], 0]])
            row = normal @ np.hstack([-skew, np.eye(3)])
            information += 1e7 * np.outer(row, row)
    fused = fuse_with_prior(measured, information, prior, np.radians(0.1), 0.003)
    np.testing.assert_allclose(fused[:3, 3], [2.03, 1.0, 1.5], atol=1e-4)


def test_fusion_without_information_is_the_prior_and_with_certainty_the_measurement():
    prior = _pose([0.1, -0.2, 0.3], [1.0, 2.0, 3.0])
    measured = _pose([0.12, -0.19, 0.31], [1.02, 1.97, 3.01])
    np.testing.assert_allclose(fuse_with_prior(measured, np.zeros((6, 6)), prior, 0.01, 0.01), prior, atol=1e-9)
    np.testing.assert_allclose(fuse_with_prior(measured, np.eye(6) * 1e14, prior, 0.01, 0.01), measured, atol=1e-6)


def test_fusion_of_equal_certainties_lands_halfway():
    prior = _pose([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    measured = _pose([0.0, 0.0, 0.0], [0.02, 0.0, 0.0])
    information = np.diag([1e4, 1e4, 1e4, 1e4, 1e4, 1e4])
    fused = fuse_with_prior(measured, information, prior, 0.01, 0.01)
    np.testing.assert_allclose(fused[:3, 3], [0.01, 0.0, 0.0], atol=1e-9)
