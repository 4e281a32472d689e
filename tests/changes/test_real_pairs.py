"""diff_scans on real geometry (../shared/data/registration, skipped where absent): a 3DMatch kitchen
fragment against itself in another frame with a part cropped out, and the KITTI pair with a car-sized
block cropped from the later scan."""
from __future__ import annotations

import numpy as np
import pytest
import workshop_scans as ws

from twin import changes
from twin.scanfolder import read_cloud, read_number_rows

pytestmark = [pytest.mark.data, pytest.mark.slow]


def _crop(points: np.ndarray, low, high) -> np.ndarray:
    inside = np.all((points >= low) & (points <= high), axis=1)
    return points[~inside]


def test_kitchen_with_a_part_cropped_out_shows_one_removed_region(shared_data):
    old = read_cloud(shared_data / "registration" / "3dmatch_kitchen" / "cloud_bin_0.ply")[0]
    centre = old[np.argmin(np.linalg.norm(old - np.median(old, axis=0), axis=1))]  # on a surface, mid-fragment
    low, high = centre - 0.25, centre + 0.25
    T_new_old = ws.frame(25, [0.4, -0.3, 0.1])
    cropped = _crop(old, low, high)
    noisy = cropped + np.random.default_rng(0).normal(scale=0.002, size=cropped.shape)
    new = noisy @ T_new_old[:3, :3].T + T_new_old[:3, 3]
    result = changes.diff_scans(old, new, settings=changes.DiffSettings(voxel_size_m=0.02))
    assert result.converged
    np.testing.assert_allclose(result.T_old_new @ T_new_old, np.eye(4), atol=0.01)
    assert [c.kind for c in result.changes] == ["removed"], [c.describe() for c in result.changes]
    removed = result.changes[0]
    assert np.all(removed.bounds[0] >= low - 0.05) and np.all(removed.bounds[1] <= high + 0.05)


def test_kitti_pair_with_a_block_cropped_from_the_later_scan(shared_data):
    folder = shared_data / "registration" / "kitti_pair"
    old = read_cloud(folder / "target.ply")[0]
    new = read_cloud(folder / "source.ply")[0]
    T_reference = read_number_rows(folder / "T_target_source.txt", "a row of the transform")
    new_in_old = new @ T_reference[:3, :3].T + T_reference[:3, 3]
    near = new_in_old[np.linalg.norm(new_in_old[:, :2], axis=1) < 10]
    dense = near[np.argmin(np.linalg.norm(near - np.median(near, axis=0), axis=1))]
    low, high = dense - [3.0, 3.0, 1.5], dense + [3.0, 3.0, 1.5]
    cropped = new[~np.all((new_in_old >= low) & (new_in_old <= high), axis=1)]
    result = changes.diff_scans(old, cropped, settings=changes.DiffSettings(voxel_size_m=0.3))
    assert result.converged
    error = np.linalg.inv(T_reference) @ result.T_old_new
    assert np.linalg.norm(error[:3, 3]) < 0.1
    removed = [c for c in result.changes if c.kind == "removed"]
    assert any(np.all(c.centroid >= low) and np.all(c.centroid <= high) for c in removed), \
        [c.describe() for c in result.changes]
