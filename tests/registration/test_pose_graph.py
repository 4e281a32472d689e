"""Pose-graph optimisation: exact recovery, planted wrong loop closures, size, bad input."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from twin import registration


def _pose(rotvec, translation) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_rotvec(rotvec).as_matrix()
    T[:3, 3] = translation
    return T


def _noise(rng, rotation_rad: float, translation_m: float) -> np.ndarray:
    return _pose(rng.normal(scale=rotation_rad, size=3), rng.normal(scale=translation_m, size=3))


def _icp_like_information(rng) -> np.ndarray:
    """Open3D's information of 200 point pairs spread over a 2 m room: rotation first."""
    q = rng.uniform(-1, 1, size=(200, 3))
    G = np.zeros((200, 3, 6))
    G[:, :, 3:] = np.eye(3)
    G[:, 0, 1], G[:, 0, 2], G[:, 1, 0], G[:, 1, 2], G[:, 2, 0], G[:, 2, 1] = q[:, 2], -q[:, 1], -q[:, 2], q[:, 0], q[:, 1], -q[:, 0]
    return np.einsum("kri,krj->ij", G, G)


def _laps(rng, laps: int, per_lap: int, wrong: int):
    """A device walking `laps` times around a 6 m circle: noisy odometry (certain), right loop
    closures between laps (uncertain) and `wrong` planted wrong loop closures (uncertain)."""
    count = laps * per_lap
    truth = np.array([_pose([0, 0, 2 * np.pi * k / per_lap], [3 * np.cos(2 * np.pi * k / per_lap),
                                                                3 * np.sin(2 * np.pi * k / per_lap), 0.1 * k / per_lap])
                      for k in range(count)])
    info = _icp_like_information(rng)
    edges = [(k, k + 1, np.linalg.inv(truth[k]) @ truth[k + 1] @ _noise(rng, 0.003, 0.01), info, False)
             for k in range(count - 1)]
    right = [(k, k + per_lap, np.linalg.inv(truth[k]) @ truth[k + per_lap] @ _noise(rng, 0.003, 0.01), info, True)
             for k in range(0, count - per_lap, 2)]
    planted = []
    while len(planted) < wrong:
        i, j = (int(v) for v in rng.integers(0, count, size=2))
        if abs(i - j) > 1:
            planted.append((i, j, np.linalg.inv(truth[i]) @ truth[j] @ _noise(rng, 0.5, 1.0), info, True))
    initial = [truth[0]]
    for i, j, T, _, _ in edges:
        initial.append(initial[-1] @ T)  # chained odometry: drifts
    return truth, np.array(initial), edges, right, planted


def test_exact_edges_recover_the_truth_from_a_perturbed_start():
    rng = np.random.default_rng(0)
    truth, _, _, _, _ = _laps(rng, 1, 12, 0)
    edges = [(k, (k + 1) % 12, np.linalg.inv(truth[k]) @ truth[(k + 1) % 12], None, False) for k in range(12)]
    start = np.array([truth[0]] + [T @ _noise(rng, 0.1, 0.3) for T in truth[1:]])
    result = registration.optimize_pose_graph(start, edges)
    np.testing.assert_allclose(result.poses, truth, atol=1e-6)
    assert result.edge_accepted.all() and result.final_cost < 1e-10 < result.initial_cost


def test_planted_wrong_loop_closures_are_rejected_and_change_nothing():
    rng = np.random.default_rng(1)
    truth, initial, odometry, right, planted = _laps(rng, 3, 20, 12)
    result = registration.optimize_pose_graph(initial, odometry + right + planted)
    accepted = result.edge_accepted
    assert accepted[: len(odometry) + len(right)].all(), "a right edge was rejected"
    assert not accepted[len(odometry) + len(right):].any(), "a planted wrong edge was kept"
    clean = registration.optimize_pose_graph(initial, odometry + right)
    np.testing.assert_allclose(result.poses, clean.poses, atol=1e-6)
    drift = np.linalg.norm(initial[:, :3, 3] - truth[:, :3, 3], axis=1).max()
    error = np.linalg.norm(result.poses[:, :3, 3] - truth[:, :3, 3], axis=1).max()
    assert error < 0.5 * drift and error < 0.1


def test_without_robustness_the_same_wrong_edges_would_bend_the_graph():
    rng = np.random.default_rng(1)
    truth, initial, odometry, right, planted = _laps(rng, 3, 20, 12)
    trusting = [(i, j, T, W, False) for i, j, T, W, _ in odometry + right + planted]
    bent = registration.optimize_pose_graph(initial, trusting).poses
    assert np.linalg.norm(bent[:, :3, 3] - truth[:, :3, 3], axis=1).max() > 0.3


def test_a_thousand_nodes_with_wrong_loop_closures():
    rng = np.random.default_rng(2)
    truth, initial, odometry, right, planted = _laps(rng, 10, 100, 50)
    result = registration.optimize_pose_graph(initial, odometry + right + planted)
    assert result.poses.shape == (1000, 4, 4)
    assert not result.edge_accepted[len(odometry) + len(right):].any()
    assert result.edge_accepted[: len(odometry) + len(right)].mean() > 0.99
    assert np.linalg.norm(result.poses[:, :3, 3] - truth[:, :3, 3], axis=1).max() < 0.2


GOOD_NODES = np.array([np.eye(4), np.eye(4)])
GOOD_EDGE = (0, 1, np.eye(4), np.eye(6), False)
SKEWED = np.eye(4)
SKEWED[0, 1] = 0.5


@pytest.mark.parametrize("nodes,edges,kwargs,message", [
    (np.zeros((0, 4, 4)), [], {}, "at least one pose"),
    (np.zeros((2, 3, 3)), [GOOD_EDGE], {}, "shape"),
    ("poses", [GOOD_EDGE], {}, "array"),
    (np.array([np.eye(4), SKEWED]), [GOOD_EDGE], {}, "node 1 is not a rigid"),
    (GOOD_NODES, [(0, 2, np.eye(4), None, False)], {}, "not an index"),
    (GOOD_NODES, [(1, 1, np.eye(4), None, False)], {}, "itself"),
    (GOOD_NODES, [(0, 1, SKEWED, None, False)], {}, "T_i_j is not a rigid"),
    (GOOD_NODES, [(0, 1, np.eye(4), np.eye(5), False)], {}, "6x6"),
    (GOOD_NODES, [(0, 1, np.eye(4), -np.eye(6), False)], {}, "positive semi-definite"),
    (GOOD_NODES, [(0, 1, np.eye(4))], {}, "tuple"),
    (GOOD_NODES, [], {}, "not connected"),
    (GOOD_NODES, [GOOD_EDGE], {"outlier_distance_m": 0}, "outlier_distance_m"),
    (GOOD_NODES, [GOOD_EDGE], {"max_iterations": 0}, "max_iterations"),
])
def test_bad_input_is_a_value_error_with_a_sentence(nodes, edges, kwargs, message):
    with pytest.raises(ValueError, match=message):
        registration.optimize_pose_graph(nodes, edges, **kwargs)
