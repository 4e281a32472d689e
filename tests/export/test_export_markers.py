"""`twin export` merges the scan's anchors.json (markers measured by reconstruction) into the document and the GLB."""
from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from export_fixtures import SAMPLE_DOCUMENT, assert_valid, make_scan, node_named, read_glb

from twin import document
from twin.cli import main
from twin.document import Pose, PrintedMarker
from twin.export import export_scan
from twin.export.scan_anchors import merge_scan_markers
from twin.scanfolder import ScanMarker, marker_anchor, read_scan_markers, write_anchors_json

# OpenCV marker axes (x right, y up, z out of the marker) of a marker on a wall that faces -y.
R_FACING_MINUS_Y = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])


def facing(R: np.ndarray, position) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, position
    return T


def yaw(degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


MEASURED = {  # key -> T_world_marker, as a reconstruction would measure them
    "DICT_4X4_50:0": facing(R_FACING_MINUS_Y, [3.3, 5.999, 1.6]),
    "DICT_4X4_50:2": facing(yaw(-90) @ R_FACING_MINUS_Y, [7.999, 2.4, 1.6]),
    "DICT_APRILTAG_36h11:5": facing(yaw(180) @ R_FACING_MINUS_Y, [2.8, 0.001, 1.4]),
}


@pytest.fixture(scope="module")
def sample_doc():
    return document.load(SAMPLE_DOCUMENT)


@pytest.fixture(scope="module")
def scan(tmp_path_factory, sample_doc) -> Path:
    folder = make_scan(tmp_path_factory.mktemp("scans") / "workshop", sample_doc, 5_000)
    write_anchors_json(folder / "anchors.json", [marker_anchor(key, T, 0.16) for key, T in MEASURED.items()])
    return folder


@pytest.fixture(scope="module")
def exported(scan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out") / "workshop"
    shutil.copytree(scan, folder)
    return folder, export_scan(folder, SAMPLE_DOCUMENT)


def anchors_by_id(folder: Path) -> dict[str, dict]:
    return {a["id"]: a for a in json.loads((folder / "twin.json").read_text())["anchors"]}


def test_scan_markers_become_room_anchors_in_twin_json(exported, sample_doc):
    folder, result = exported
    assert result.marker_anchors == 3
    anchors = anchors_by_id(folder)
    assert set(anchors) == {a.id for a in sample_doc.anchors} | {"marker-0", "marker-2", "marker-5"}
    for anchor_id, key in [("marker-0", "DICT_4X4_50:0"), ("marker-2", "DICT_4X4_50:2"),
                           ("marker-5", "DICT_APRILTAG_36h11:5")]:
        anchor = anchors[anchor_id]
        dictionary, number = key.split(":")
        assert anchor["name"] == f"marker {number}" and "machine" not in anchor
        assert anchor["marker"] == {"dictionary": dictionary, "id": int(number), "size_m": 0.16}
        T = Pose(tuple(anchor["position"]), tuple(anchor["rotation"])).matrix()
        np.testing.assert_allclose(T, MEASURED[key], atol=1e-9)
        np.testing.assert_allclose(anchor["normal"], MEASURED[key][:3, 2], atol=1e-9)
    # The document's own anchors are untouched.
    assert document.load(folder / "twin.json").anchors[:len(sample_doc.anchors)] == sample_doc.anchors


def test_glb_has_marker_anchor_nodes_with_their_rotation(exported):
    folder, _ = exported
    gltf, _ = read_glb(folder / "twin.glb")
    root = node_named(gltf, "twin")
    for anchor_id, key in [("marker-0", "DICT_4X4_50:0"), ("marker-2", "DICT_4X4_50:2")]:
        node = node_named(gltf, anchor_id)
        assert gltf["nodes"].index(node) in root["children"], "a room anchor hangs under the twin root"
        T = Pose(tuple(node["translation"]), tuple(node["rotation"])).matrix()
        np.testing.assert_allclose(T, MEASURED[key], atol=1e-6)
        assert node["extras"]["anchor"]["marker"]["id"] == int(key.split(":")[1])
    assert_valid([folder / "twin.glb"])


def test_anchor_that_has_the_marker_keeps_its_id_and_takes_the_measured_pose(sample_doc):
    # The document already places marker 4x4:2 on the laser cutter (its frame), roughly.
    laser = sample_doc.machine("laser-1")
    on_laser = document.Anchor(id="laser-1-tag", machine="laser-1", position=(0.0, 0.3, 1.0), normal=(0.0, 0.0, 1.0),
                               name="laser tag", rotation=(0.0, 0.0, 0.0, 1.0),
                               marker=PrintedMarker("DICT_4X4_50", 2, 0.10))
    doc = dataclasses.replace(sample_doc, anchors=sample_doc.anchors + (on_laser,))
    T_world_marker = laser.pose.matrix() @ facing(yaw(180) @ R_FACING_MINUS_Y, [0.1, 0.35, 0.8])
    merged = merge_scan_markers(doc, [ScanMarker(PrintedMarker("DICT_4X4_50", 2, 0.16), Pose.from_matrix(T_world_marker))])
    anchor = merged.anchors[-1]
    assert len(merged.anchors) == len(doc.anchors)
    assert (anchor.id, anchor.name, anchor.machine, anchor.marker.size_m) == ("laser-1-tag", "laser tag", "laser-1", 0.16)
    np.testing.assert_allclose(laser.pose.matrix() @ anchor.matrix(), T_world_marker, atol=1e-9)
    np.testing.assert_allclose(merged.anchor_in_world(anchor)[1], T_world_marker[:3, 2], atol=1e-9)


def test_ids_shared_by_two_dictionaries_or_taken_get_the_dictionary(sample_doc):
    T = MEASURED["DICT_4X4_50:0"]
    markers = [ScanMarker(PrintedMarker("DICT_4X4_50", 5, 0.16), Pose.from_matrix(T)),
               ScanMarker(PrintedMarker("DICT_APRILTAG_36h11", 5, 0.2), Pose.from_matrix(T @ facing(np.eye(3), [1, 0, 0]))),
               ScanMarker(PrintedMarker("DICT_4X4_50", 9, 0.16), Pose.from_matrix(T @ facing(np.eye(3), [2, 0, 0])))]
    taken = document.Anchor(id="marker-9", position=(1.0, 1.0, 0.0), name="someone's anchor")
    merged = merge_scan_markers(dataclasses.replace(sample_doc, anchors=sample_doc.anchors + (taken,)), markers)
    new = [a.id for a in merged.anchors[len(sample_doc.anchors) + 1:]]
    assert new == ["marker-dict_4x4_50-5", "marker-dict_apriltag_36h11-5", "marker-dict_4x4_50-9"]


def test_no_anchors_json_leaves_the_document_as_it_is(tmp_path, sample_doc):
    folder = make_scan(tmp_path / "plain", sample_doc, 2_000)
    result = export_scan(folder, SAMPLE_DOCUMENT)
    assert result.marker_anchors == 0 and document.load(folder / "twin.json") == sample_doc


def test_reader_reads_what_the_writer_writes(tmp_path):
    T = MEASURED["DICT_4X4_50:2"]
    write_anchors_json(tmp_path / "anchors.json", [marker_anchor("DICT_4X4_50:2", T, 0.158)])
    [scan_marker] = read_scan_markers(tmp_path / "anchors.json")
    assert scan_marker.marker == PrintedMarker("DICT_4X4_50", 2, 0.158)
    np.testing.assert_allclose(scan_marker.pose.matrix(), T, atol=1e-12)


def good_entry() -> dict:
    return marker_anchor("DICT_4X4_50:0", MEASURED["DICT_4X4_50:0"], 0.16)


@pytest.mark.parametrize("content, field, words", [
    ("{not json", "", "not valid JSON"),
    (json.dumps({"markers": []}), "anchors", "list of marker anchors"),
    (json.dumps({"anchors": [{**good_entry(), "marker": "DICT_4X4_50-0"}]}), "anchors[0].marker", "DICTIONARY:ID"),
    (json.dumps({"anchors": [{**good_entry(), "marker": "DICT_9X9_50:0"}]}), "anchors[0].marker", "DICTIONARY:ID"),
    (json.dumps({"anchors": [{**good_entry(), "marker": "DICT_4X4_50:60"}]}), "anchors[0].marker", "0 to 49"),
    (json.dumps({"anchors": [{**good_entry(), "size_m": -0.16}]}), "anchors[0].size_m", "positive number"),
    (json.dumps({"anchors": [{**good_entry(), "size_m": "16 cm"}]}), "anchors[0].size_m", "positive number"),
    (json.dumps({"anchors": [{**good_entry(), "pose": {"translation": [1, 2], "rotation": [0, 0, 0, 1]}}]}),
     "anchors[0].pose.translation", "three finite numbers"),
    (json.dumps({"anchors": [{**good_entry(), "pose": {"translation": [1, 2, 3], "rotation": [0, 0, 0, 3]}}]}),
     "anchors[0].pose.rotation", "unit quaternion"),
    (json.dumps({"anchors": [good_entry(), {**good_entry(), "kind": "marker"}]}), "anchors[1].marker", "listed twice"),
    (json.dumps({"anchors": [{**good_entry(), "pose": None}]}), "anchors[0].pose", "translation"),
])
def test_corrupt_anchors_json_names_the_file_and_field(exported, tmp_path, content, field, words):
    folder = tmp_path / "workshop"
    shutil.copytree(exported[0], folder)
    before = (folder / "twin.json").read_bytes()
    (folder / "anchors.json").write_text(content)
    with pytest.raises(ValueError) as caught:
        export_scan(folder, SAMPLE_DOCUMENT)
    message = str(caught.value)
    assert f"{folder / 'anchors.json'}: {field}" in message and words in message, message
    assert (folder / "twin.json").read_bytes() == before, "a failed export leaves the previous outputs"


def test_other_kinds_of_anchor_are_left_out(tmp_path):
    (tmp_path / "anchors.json").write_text(json.dumps({"anchors": [{"kind": "plane"}, good_entry()]}))
    assert [m.marker.key for m in read_scan_markers(tmp_path / "anchors.json")] == ["DICT_4X4_50:0"]


def test_cli_says_how_many_marker_anchors_were_merged(scan, tmp_path, capsys):
    folder = tmp_path / "workshop"
    shutil.copytree(scan, folder)
    assert main(["export", str(folder), "--document", str(SAMPLE_DOCUMENT), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["marker_anchors"] == 3
    assert main(["export", str(folder), "--document", str(SAMPLE_DOCUMENT)]) == 0
    assert "3 marker anchor(s) from anchors.json" in capsys.readouterr().out
