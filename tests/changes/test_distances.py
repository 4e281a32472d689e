"""The core's C2C and M3C2 against brute-force numpy references on small clouds, and M3C2
against py4dgeo's where it is installed."""
from __future__ import annotations

import numpy as np
import pytest

from twin import changes


def _plane(n: int, seed: int, z=0.0, noise=0.002) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2)) * 2.0
    return np.column_stack([xy, z + rng.normal(scale=noise, size=n)])


def test_cloud_to_cloud_is_the_brute_force_nearest_distance():
    rng = np.random.default_rng(0)
    queries, reference = rng.random((300, 3)), rng.random((500, 3))
    expected = np.linalg.norm(queries[:, None] - reference[None], axis=2).min(axis=1)
    np.testing.assert_allclose(changes.cloud_to_cloud(queries, reference), expected, rtol=1e-12)
    bounded = changes.cloud_to_cloud(queries, reference, max_distance_m=0.05)
    assert np.all(np.isinf(bounded[expected >= 0.05])) and np.allclose(bounded[expected < 0.05], expected[expected < 0.05])


def _m3c2_reference(core, epoch1, epoch2, normal_radius, radius, depth):
    """Lague et al.'s M3C2, point by point in numpy (normal from epoch 1 oriented +z)."""
    distance = np.full(len(core), np.nan)
    lod = np.full(len(core), np.nan)
    for i, c in enumerate(core):
        near = epoch1[np.linalg.norm(epoch1 - c, axis=1) <= normal_radius]
        normal = np.linalg.eigh(np.cov(near.T, bias=True))[1][:, 0]
        normal = -normal if normal[2] < 0 else normal
        stats = []
        for epoch in (epoch1, epoch2):
            d = epoch - c
            along = d @ normal
            inside = (np.linalg.norm(d - along[:, None] * normal, axis=1) <= radius) & (np.abs(along) <= depth)
            stats.append(along[inside])
        if all(len(s) for s in stats):
            distance[i] = stats[1].mean() - stats[0].mean()
            lod[i] = 1.96 * np.sqrt(sum(s.var(ddof=1) / len(s) if len(s) > 1 else 0.0 for s in stats))
    return distance, lod


def test_m3c2_matches_the_brute_force_reference():
    epoch1 = _plane(3000, 1)
    epoch2 = _plane(3000, 2, z=np.where(np.random.default_rng(3).random(3000) < 2, 0.0, 0))
    epoch2[epoch2[:, 0] > 1.0, 2] += 0.05  # half the plane rose by 5 cm
    core = epoch1[::30]
    result = changes.m3c2(core, epoch1, epoch2, normal_radius_m=0.15, cylinder_radius_m=0.08, max_depth_m=0.3)
    distance, lod = _m3c2_reference(core, epoch1, epoch2, 0.15, 0.08, 0.3)
    np.testing.assert_allclose(result.distance, distance, atol=1e-9)
    np.testing.assert_allclose(result.lod, lod, atol=1e-9)
    risen = core[:, 0] > 1.1
    assert result.significant[risen].mean() > 0.95 and result.significant[core[:, 0] < 0.9].mean() < 0.15  # 5 % by chance at 95 %, on few points


def test_m3c2_level_of_detection_grows_with_the_registration_error():
    epoch1, epoch2 = _plane(2000, 1), _plane(2000, 2, z=0.01)
    plain = changes.m3c2(epoch1[::20], epoch1, epoch2, 0.15, 0.08, 0.3)
    padded = changes.m3c2(epoch1[::20], epoch1, epoch2, 0.15, 0.08, 0.3, registration_error_m=0.02)
    np.testing.assert_allclose(padded.lod - plain.lod, 1.96 * 0.02, atol=1e-12)
    assert plain.significant.mean() > 0.9 and not padded.significant.any()


def test_m3c2_without_counterpart_is_nan_not_a_made_up_distance():
    epoch1 = _plane(1000, 1)
    far = _plane(1000, 2) + [10.0, 0, 0]
    result = changes.m3c2(epoch1[:50], epoch1, far, 0.15, 0.08, 0.3)
    assert np.isnan(result.distance).all() and not result.significant.any() and (result.count2 == 0).all()


def test_m3c2_agrees_with_py4dgeo():
    py4dgeo = pytest.importorskip("py4dgeo")
    epoch1 = _plane(4000, 1)
    epoch2 = _plane(4000, 2)
    epoch2[epoch2[:, 0] > 1.0, 2] += 0.03
    core = epoch1[::20]
    ours = changes.m3c2(core, epoch1, epoch2, normal_radius_m=0.15, cylinder_radius_m=0.08, max_depth_m=0.3)
    theirs = py4dgeo.M3C2(epochs=(py4dgeo.Epoch(epoch1), py4dgeo.Epoch(epoch2)), corepoints=core,
                          normal_radii=(0.15,), cyl_radius=0.08, max_distance=0.3)
    distances, uncertainties = theirs.run()
    both = np.isfinite(distances) & np.isfinite(ours.distance)
    assert both.mean() > 0.95
    np.testing.assert_allclose(ours.distance[both], distances[both], atol=2e-3)
    agree = (ours.significant == (np.abs(distances) > uncertainties["lodetection"]))[both]
    assert agree.mean() > 0.97


@pytest.mark.parametrize("bad, message", [(np.zeros((0, 3)), "empty"), (np.full((5, 3), np.nan), "NaN"),
                                          (np.zeros((5, 2)), "shape")])
def test_bad_clouds_are_refused_with_a_sentence(bad, message):
    with pytest.raises(ValueError, match=message):
        changes.m3c2(bad, _plane(10, 0), _plane(10, 1), 0.1, 0.05, 0.2)
    with pytest.raises(ValueError, match=message):
        changes.cloud_to_cloud(_plane(10, 0), bad)
