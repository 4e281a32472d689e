"""diff_scans on the sample workshop with known changes, seen from another frame with sensor
noise: the moved machine is named with its motion, the removed and added ones are found, and
nothing else is reported; bad input is refused or comes out converged false."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import workshop_scans as ws

from twin import changes

pytestmark = pytest.mark.slow  # each diff aligns and compares two 280k-point rooms (about 8 s)

NEW_FRAME = ws.frame(30, [1.0, -2.0, 0.3])  # T_new_world: NEW is scanned in another frame
NOISE_M = 0.005


def _added_printer(shop):
    """A second printer standing on the floor in the free middle of the room."""
    printer = shop.machine("printer-1")
    T = np.eye(4)
    T[:3, 3] = [4.0, 3.0, 0.0]
    return dataclasses.replace(shop, machines=shop.machines + (dataclasses.replace(printer, id="printer-2",
                                                                                   T_world_machine=T),))


@pytest.fixture(scope="module")
def old_scan():
    return ws.scan(ws.workshop(), seed=1)


@pytest.mark.parametrize("machine_id, shift_m, turn_deg", [("cnc-1", [-0.8, -0.9, 0.0], 20.0),
                                                           ("lathe-1", [1.5, -0.6, 0.0], -10.0)])
def test_moved_removed_and_added_machines_are_found_and_named(old_scan, workshop_document, machine_id, shift_m,
                                                              turn_deg):
    new_shop = _added_printer(ws.without(ws.moved(machine_id, shift_m, turn_deg), "laser-1"))
    new = ws.scan(new_shop, seed=2, noise_m=NOISE_M, T=NEW_FRAME)
    result = changes.diff_scans(old_scan, new, document=workshop_document)

    assert result.converged
    T_new_old = NEW_FRAME  # the truth: OLD's frame is the world
    np.testing.assert_allclose(result.T_old_new @ T_new_old, np.eye(4), atol=0.01)
    kinds = sorted((c.kind, c.machine or "") for c in result.changes)
    assert kinds == [("added", ""), ("moved", machine_id), ("removed", "laser-1")], [c.describe() for c in
                                                                                       result.changes]
    moved = next(c for c in result.changes if c.kind == "moved")
    assert np.linalg.norm(moved.displacement_m - shift_m) < 0.05
    assert abs(moved.motion.turn_deg - turn_deg) < 2.0
    assert moved.describe().startswith(f"{machine_id} moved {np.linalg.norm(shift_m):.1f}")
    added = next(c for c in result.changes if c.kind == "added")
    assert np.linalg.norm(added.centroid[:2] - [4.0, 3.0]) < 0.3
    # distances.ply's fields: NEW's points in OLD's frame, significant where the changes are
    assert result.distance.shape == result.significant.shape == (len(new),)
    assert 0.01 < result.significant.mean() < 0.2


def test_identical_scans_have_no_changes(old_scan):
    result = changes.diff_scans(old_scan, ws.scan(ws.workshop(), seed=2, noise_m=NOISE_M, T=NEW_FRAME))
    assert result.converged and result.changes == []
    assert result.significant.mean() < 0.002


def test_very_different_densities_still_agree(old_scan):
    sparse = ws.scan(ws.workshop(), spacing_m=0.06, seed=3, noise_m=NOISE_M, T=NEW_FRAME)
    result = changes.diff_scans(old_scan, sparse)
    assert result.converged and result.changes == []


def test_scans_of_different_places_come_out_not_converged(old_scan):
    rng = np.random.default_rng(0)
    elsewhere = rng.normal(size=(50_000, 3)) * [3.0, 0.2, 2.0]  # a blob, nothing like the room
    result = changes.diff_scans(old_scan, elsewhere)
    assert not result.converged and result.changes == [] and not result.significant.any()


@pytest.mark.parametrize("bad, message", [(np.zeros((0, 3)), "the new cloud is empty"),
                                          (np.full((10, 3), np.nan), "the new cloud has 10 rows with NaN"),
                                          (np.zeros((50, 3)), "covers only 1 cells")])
def test_bad_clouds_are_refused_with_a_sentence(old_scan, bad, message):
    with pytest.raises(ValueError, match=message):
        changes.diff_scans(old_scan, bad)
