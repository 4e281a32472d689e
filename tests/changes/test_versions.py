"""`twin versions` on the sample workshop: a later scan (cnc-1 moved 1.2 m and turned 20°, laser-1
taken out, in another frame with noise) added as a version of the first: its files and tiles, the
document's versions, the carry-over proposal (cnc-1's pose and the room anchor on it move by the
motion, the anchor on laser-1 is flagged, nothing else is touched; a measurement's end on cnc-1 moves, one
at laser-1 is flagged; a layout the room now matches is noted), accepting it once; bad input."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import workshop_scans as ws

from twin import document
from twin.cli import main
from twin.geometry import matrix_to_quaternion
from twin.scanfolder import write_json, write_point_cloud_ply

pytestmark = pytest.mark.slow  # one diff of two rooms and two tilesets (about 15 s)

SHIFT_M, TURN_DEG = np.array([-0.8, -0.9, 0.0]), 20.0
NEW_FRAME = ws.frame(30, [1.0, -2.0, 0.3])


def _true_motion() -> np.ndarray:
    """The world motion of cnc-1: its new pose times its old pose's inverse."""
    old = ws.workshop().machine("cnc-1").T_world_machine
    new = ws.moved("cnc-1", SHIFT_M, TURN_DEG).machine("cnc-1").T_world_machine
    return new @ np.linalg.inv(old)


def _on_cnc_top() -> np.ndarray:
    """Where the room anchor 'cnc-top' stands: on cnc-1's top, but attached to the room."""
    cnc = ws.workshop().machine("cnc-1").T_world_machine
    return cnc[:3, :3] @ [0.2, 0.1, 1.95] + cnc[:3, 3]


def _on_cnc_side() -> np.ndarray:
    """A measurement's end on cnc-1, half a metre up its origin's vertical."""
    return ws.workshop().machine("cnc-1").T_world_machine[:3, 3] + [0.0, 0.0, 0.5]


def _document_with_anchors(workshop_document) -> dict:
    plain = document.to_dict(workshop_document)
    plain["anchors"] = [
        {"id": "cnc-panel", "machine": "cnc-1", "position": [0.5, 0.0, 1.2]},
        {"id": "cnc-top", "position": _on_cnc_top().tolist(), "rotation": list(matrix_to_quaternion(np.eye(3)))},
        {"id": "laser-lid", "position": [7.45, 2.4, 1.12]},
        {"id": "door", "position": [3.5, 0.1, 1.5]},
    ]
    text = {"it": "passo", "en": "step"}
    plain["procedures"] = [
        {"id": "cnc-start", "machine": "cnc-1", "title": text,
         "steps": [{"id": "power", "text": text, "anchor": "cnc-panel"},
                   {"id": "tool", "text": text, "anchor": "cnc-top"}]},
        {"id": "laser-clean", "machine": "laser-1", "title": text,
         "steps": [{"id": "lid", "text": text, "anchor": "laser-lid"}]},
    ]
    plain["measurements"] = [
        {"id": "door-to-cnc", "name": "Door to the mill", "points": [[3.5, 0.1, 0.5], _on_cnc_side().tolist()]},
        {"id": "door-to-laser", "name": "Door to the laser", "points": [[3.5, 0.1, 1.12], [7.45, 2.4, 1.12]]},
    ]
    new_cnc = ws.moved("cnc-1", SHIFT_M, TURN_DEG).machine("cnc-1").T_world_machine
    plain["layouts"] = [
        {"id": "keep", "name": "As it was", "poses": {"cnc-1": plain["machines"][1]["pose"]}},
        {"id": "refit", "name": "Mill by the wall, laser out", "remove": ["laser-1"],
         "poses": {"cnc-1": {"translation": new_cnc[:3, 3].tolist(),
                             "rotation": list(matrix_to_quaternion(new_cnc[:3, :3]))}}},
    ]
    document.from_dict(plain)
    return plain


@pytest.fixture(scope="module")
def shop(tmp_path_factory, workshop_document):
    """A scan folder with a second version added through the CLI, and what `add --json` printed."""
    scan = tmp_path_factory.mktemp("versions") / "shop"
    scan.mkdir()
    write_point_cloud_ply(scan / "cloud.ply", ws.scan(ws.workshop(), seed=1))
    write_json(scan / "twin.json", _document_with_anchors(workshop_document))
    later = ws.without(ws.moved("cnc-1", SHIFT_M, TURN_DEG), "laser-1")
    write_point_cloud_ply(scan.parent / "later.ply", ws.scan(later, seed=2, noise_m=0.005, T=NEW_FRAME))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["versions", "add", str(scan), str(scan.parent / "later.ply"), "--date", "2026-03-01T09:00:00Z",
                       "--json"])
    assert status == 0
    return scan, json.loads(out.getvalue())


def test_a_version_is_registered_to_the_first_and_stored_with_its_tiles(shop):
    scan, printed = shop
    assert printed["version"]["id"] == "v2" and printed["version"]["date"] == "2026-03-01T09:00:00Z"
    T_first_version = np.array(printed["version"]["T_first_version"])
    np.testing.assert_allclose(T_first_version @ NEW_FRAME, np.eye(4), atol=0.01)  # NEW's frame -> the world
    folder = scan / "versions" / "v2"
    for name in ("version.json", "cloud.ply", "distances.ply", "changes.json", "tiles/tileset.json",
                 "change-tiles/tileset.json", "proposed.patch.json"):
        assert (folder / name).is_file(), name
    assert sorted((c["kind"], c.get("machine")) for c in printed["changes"]) == [("moved", "cnc-1"),
                                                                               ("removed", "laser-1")]
    listed = document.load(scan / "twin.json").versions
    assert [v.id for v in listed] == ["v1", "v2"]
    assert listed[0].tiles == "tiles/tileset.json" and np.allclose(listed[0].T_first_version, np.eye(4))
    assert listed[1].change_tiles == "versions/v2/change-tiles/tileset.json"
    assert (scan / listed[1].changes).is_file()


def test_the_proposal_moves_the_machine_and_the_anchor_on_it_and_flags_the_removed_one(shop):
    scan, _ = shop
    proposal = json.loads((scan / "versions" / "v2" / "proposed.patch.json").read_text())
    replaced = {op["path"]: op["value"] for op in proposal["patch"] if op["op"] == "replace"}
    # cnc-1, the room anchor on its top, the measurement to its side; never a layout (plans do not move)
    assert set(replaced) == {"/machines/1/pose", "/anchors/1", "/measurements/0/points"}
    truth = _true_motion()
    new_pose = document.Pose(tuple(replaced["/machines/1/pose"]["translation"]),
                             tuple(replaced["/machines/1/pose"]["rotation"])).matrix()
    true_pose = ws.moved("cnc-1", SHIFT_M, TURN_DEG).machine("cnc-1").T_world_machine
    assert np.linalg.norm(new_pose[:3, 3] - true_pose[:3, 3]) < 0.05
    assert np.degrees(np.arccos(np.clip((np.trace(new_pose[:3, :3].T @ true_pose[:3, :3]) - 1) / 2, -1, 1))) < 2
    old_top = _on_cnc_top()
    moved_top = truth[:3, :3] @ old_top + truth[:3, 3]
    assert np.linalg.norm(np.array(replaced["/anchors/1"]["position"]) - moved_top) < 0.05
    by_kind = {(n["kind"], n["path"]): n for n in proposal["notes"]}
    assert by_kind[("follows", "/anchors/0")]["steps"] == ["cnc-start/power"]
    assert by_kind[("moved", "/anchors/1")]["steps"] == ["cnc-start/tool"]
    assert by_kind[("in_removed_region", "/anchors/2")]["steps"] == ["laser-clean/lid"]
    assert ("in_removed_region", "/machines/3") in by_kind
    assert not any(n["path"] == "/anchors/3" for n in proposal["notes"])  # the door did not change
    door, cnc_side = replaced["/measurements/0/points"]
    assert door == [3.5, 0.1, 0.5]
    assert np.linalg.norm(np.array(cnc_side) - (truth[:3, :3] @ _on_cnc_side() + truth[:3, 3])) < 0.05
    assert ("in_removed_region", "/measurements/1") in by_kind
    matches = sorted(n["text"] for n in proposal["notes"] if n["kind"] == "matches_layout")
    assert matches == ["cnc-1 now stands where layout refit puts it", "laser-1 is gone, as layout refit plans"]


def test_versions_list_and_accepting_the_proposal_once(shop, capsys):
    scan, _ = shop
    before = json.loads((scan / "twin.json").read_text())
    assert main(["versions", "list", str(scan), "--json"]) == 0
    assert [v["id"] for v in json.loads(capsys.readouterr().out)] == ["v1", "v2"]
    assert main(["versions", "list", str(scan)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert rows[1].split()[:3] == ["v2", "2026-03-01T09:00:00Z", "2"]  # cnc-1 moved, laser-1 removed
    assert main(["versions", "accept", str(scan), "v2"]) == 0
    assert "laser-lid" in capsys.readouterr().out  # still flagged for a planner
    after = json.loads((scan / "twin.json").read_text())
    assert after["machines"][1]["pose"] != before["machines"][1]["pose"]
    assert after["anchors"][1]["position"] != before["anchors"][1]["position"]
    assert after["anchors"][0] == before["anchors"][0] and after["anchors"][2:] == before["anchors"][2:]
    document.from_dict(after)
    assert main(["versions", "accept", str(scan), "v2"]) == 2
    assert "accepted" in capsys.readouterr().err
    assert json.loads((scan / "twin.json").read_text()) == after


def test_a_scan_of_another_room_is_refused_and_nothing_is_stored(tmp_path, capsys):
    write_point_cloud_ply(tmp_path / "cloud.ply", ws.scan(ws.workshop(), seed=1))
    write_point_cloud_ply(tmp_path / "other.ply", np.random.default_rng(0).normal(size=(50_000, 3)) * [3, 0.2, 2])
    assert main(["versions", "add", str(tmp_path), str(tmp_path / "other.ply")]) == 2
    assert "no reliable alignment" in capsys.readouterr().err
    assert not (tmp_path / "versions" / "v2").exists()
    assert main(["versions", "add", str(tmp_path), str(tmp_path / "other.ply"), "--date", "yesterday"]) == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_export_lists_the_scan_folders_versions_in_the_document(shop, tmp_path):
    import shutil
    scan = tmp_path / "shop"
    shutil.copytree(shop[0], scan, ignore=shutil.ignore_patterns("tiles", "change-tiles", "*.ply"))
    shutil.copy(shop[0] / "cloud.ply", scan / "cloud.ply")
    (scan / "twin.json").unlink()
    assert main(["export", str(scan), "--glb-cloud-points", "1000", "--no-compress"]) == 0
    assert [v.id for v in document.load(scan / "twin.json").versions] == ["v1", "v2"]


def test_the_server_serves_a_versions_tiles_and_changes_but_not_its_clouds(shop):
    from twin.serve.http_files import asset_file
    scan = shop[0]
    for served in ("versions/v2/tiles/tileset.json", "versions/v2/change-tiles/tileset.json", "versions/v2/changes.json"):
        assert asset_file(scan, served) == (scan / served).resolve()
    for withheld in ("versions/v2/cloud.ply", "versions/v2/distances.ply", "versions/v2/proposed.patch.json",
                     "versions/v2/version.json", "versions/../cloud.ply", "versions/v2/tiles/../../../cloud.ply"):
        assert asset_file(scan, withheld) is None, withheld
