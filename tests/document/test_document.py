"""The twin document: the sample, the published schema, round trips, and every kind of bad input."""
from __future__ import annotations

import copy
import dataclasses
import json
import math

import jsonschema
import numpy as np
import pytest
import yaml
from export_fixtures import SAMPLE_DOCUMENT
from hypothesis import given, settings
from hypothesis import strategies as st

from twin import document
from twin.document import DocumentError, Pose
from twin.synth import load_workshop


@pytest.fixture()
def sample() -> dict:
    return yaml.safe_load(SAMPLE_DOCUMENT.read_text(encoding="utf-8"))


def problems_of(data, source="doc.yaml") -> list[tuple[str, str]]:
    with pytest.raises(DocumentError) as caught:
        document.from_dict(data, source)
    assert str(caught.value).count(source) >= 1, "every error names the file"
    return caught.value.problems


def test_sample_document_shows_every_mode():
    doc = document.load(SAMPLE_DOCUMENT)
    assert [m.id for m in doc.machines] == ["printer-1", "cnc-1", "lathe-1", "laser-1"]
    assert len(doc.procedures) == 2
    for procedure in doc.procedures:
        assert all({"it", "en"} <= set(step.text) for step in procedure.steps)
        assert any(step.highlight is not None for step in procedure.steps)
    assert {h.kind for p in doc.procedures for s in p.steps if (h := s.highlight)} == {"arrow", "outline", "label"}
    public = [t for t in doc.tours if t.public]
    assert public and len(public[0].stops) >= 4
    assert doc.layouts and doc.layouts[0].remove and doc.layouts[0].add and doc.layouts[0].poses
    assert doc.measurements and doc.measurements[0].length_m() > 0


def test_sample_document_follows_the_published_schema(sample):
    schema = document.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(":v1") and schema["properties"]["version"] == {"const": 1, **{
        k: v for k, v in schema["properties"]["version"].items() if k != "const"}}
    jsonschema.validate(sample, schema)
    # What we write back follows it too.
    jsonschema.validate(document.to_dict(document.from_dict(sample)), schema)


SCHEMA_CLASSES = {
    "pose": document.Pose, "box": document.Box, "model": document.Model, "machine": document.Machine,
    "anchor": document.Anchor, "highlight": document.Highlight, "media": document.Media, "step": document.Step,
    "procedure": document.Procedure, "viewpoint": document.Viewpoint, "stop": document.Stop, "tour": document.Tour,
    "layout": document.Layout, "measurement": document.Measurement, "marker": document.PrintedMarker,
}


@pytest.mark.parametrize("definition", sorted(SCHEMA_CLASSES))
def test_schema_and_dataclasses_have_the_same_fields(definition):
    schema = document.schema()["$defs"][definition]
    cls = SCHEMA_CLASSES[definition]
    fields = {f.name for f in dataclasses.fields(cls)}
    assert set(schema["properties"]) == fields
    required_in_class = {f.name for f in dataclasses.fields(cls)
                         if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert set(schema.get("required", [])) == required_in_class


def test_top_level_schema_and_document_class_agree():
    schema = document.schema()
    assert set(schema["properties"]) == {f.name for f in dataclasses.fields(document.TwinDocument)}


def test_round_trip_through_json(sample):
    doc = document.from_dict(sample)
    again = document.from_dict(json.loads(document.to_json(doc)))
    assert again == doc
    assert document.to_dict(again) == document.to_dict(doc)


def test_anchor_on_a_machine_moves_with_it(sample):
    doc = document.from_dict(sample)
    anchor = next(a for a in doc.anchors if a.id == "printer-1-spool")
    T = doc.machine("printer-1").pose.matrix()
    position, normal = doc.anchor_in_world(anchor)
    np.testing.assert_allclose(position, T[:3, :3] @ anchor.position + T[:3, 3])
    np.testing.assert_allclose(normal, T[:3, :3] @ anchor.normal)
    room_anchor = next(a for a in doc.anchors if a.machine is None)
    np.testing.assert_allclose(doc.anchor_in_world(room_anchor)[0], room_anchor.position)


def test_agrees_with_the_synthetic_workshop():
    workshop = load_workshop()
    doc = document.load(SAMPLE_DOCUMENT)
    assert [m.id for m in doc.machines] == [m.id for m in workshop.machines]
    for ours, theirs in zip(doc.machines, workshop.machines):
        np.testing.assert_allclose(ours.pose.matrix(), theirs.T_world_machine, atol=1e-6, err_msg=ours.id)
        width, depth, height = theirs.size_m
        np.testing.assert_allclose(ours.bounds.min, (-width / 2, -depth / 2, 0), atol=1e-9, err_msg=ours.id)
        np.testing.assert_allclose(ours.bounds.max, (width / 2, depth / 2, height), atol=1e-9, err_msg=ours.id)
        assert ours.kind == theirs.kind


# --- bad input ------------------------------------------------------------------------------

def test_duplicate_ids_are_refused(sample):
    sample["machines"].append(copy.deepcopy(sample["machines"][0]))
    sample["machines"][-1]["node"] = "another-node"
    sample["anchors"][1]["id"] = sample["anchors"][0]["id"]
    sample["procedures"][0]["steps"][1]["id"] = sample["procedures"][0]["steps"][0]["id"]
    problems = dict(problems_of(sample))
    assert "already used" in problems["/machines/4/id"]
    assert "already used" in problems["/anchors/1/id"]
    assert "already used" in problems["/procedures/0/steps/1/id"]


@pytest.mark.parametrize("pointer, path, what", [
    ("/procedures/0/machine", ["procedures", 0, "machine"], "machine"),
    ("/procedures/1/steps/0/anchor", ["procedures", 1, "steps", 0, "anchor"], "anchor"),
    ("/anchors/0/machine", ["anchors", 0, "machine"], "machine"),
    ("/tours/0/stops/2/anchor", ["tours", 0, "stops", 2, "anchor"], "anchor"),
    ("/layouts/0/remove/0", ["layouts", 0, "remove", 0], "machine"),
])
def test_references_to_missing_things_are_refused(sample, pointer, path, what):
    target = sample
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "ghost"
    problems = dict(problems_of(sample))
    assert f"names the {what} 'ghost'" in problems[pointer]


def test_machines_and_anchors_need_their_own_glb_node_names(sample):
    sample["anchors"][0]["id"] = "cnc-1"
    sample["anchors"][1]["id"] = "room"
    sample["machines"][2]["node"] = "printer-1"
    problems = dict(problems_of(sample))
    assert "taken by machines[1]" in problems["/anchors/0/id"]
    assert "taken by the GLB's own structure" in problems["/anchors/1/id"]
    assert "taken by machines[0]" in problems["/machines/2/node"]


def test_ids_survive_gltf_node_name_sanitising(sample):
    sample["machines"][0]["id"] = "printer.1"
    assert "does not match" in dict(problems_of(sample))["/machines/0/id"]


def test_layout_pose_of_a_missing_machine_is_refused(sample):
    sample["layouts"][0]["poses"]["ghost"] = {"translation": [0, 0, 0], "rotation": [0, 0, 0, 1]}
    assert "names the machine 'ghost'" in dict(problems_of(sample))["/layouts/0/poses/ghost"]


def test_layout_may_not_add_a_machine_that_exists(sample):
    sample["layouts"][0]["add"][0]["id"] = "cnc-1"
    assert "already has" in dict(problems_of(sample))["/layouts/0/add"]


def test_error_names_file_field_path_and_expectation(sample):
    sample["machines"][2]["pose"]["rotation"] = [0, 0, 1]
    with pytest.raises(ValueError) as caught:
        document.from_dict(sample, "scans/x.twin.yaml")
    message = str(caught.value)
    assert "scans/x.twin.yaml: machines[2].pose.rotation:" in message
    assert "unit quaternion" in message


def test_structure_errors_come_from_the_schema(sample):
    del sample["machines"][0]["bounds"]
    sample["tours"][0]["public"] = "yes"
    sample["surprise"] = 1
    problems = dict(problems_of(sample))
    assert "'bounds' is a required property" in problems["/machines/0"]
    assert "is not of type 'boolean'" in problems["/tours/0/public"]
    assert "'surprise' was unexpected" in problems[""]


def test_semantic_checks(sample):
    sample["machines"][0]["pose"]["rotation"] = [0, 0, 0, 2]
    sample["machines"][1]["bounds"]["min"][0] = 5.0
    sample["anchors"][0]["normal"] = [0, 0, 0]
    del sample["procedures"][0]["steps"][0]["text"]["it"]
    problems = dict(problems_of(sample))
    assert "unit quaternion" in problems["/machines/0/pose/rotation"]
    assert "below max" in problems["/machines/1/bounds"]
    assert "zero vector" in problems["/anchors/0/normal"]
    assert "no text in it" in problems["/procedures/0/steps/0/text"]


def test_anchor_given_in_world_coordinates_is_caught(sample):
    # The printer's spool in world coordinates: metres away from the printer's own frame.
    sample["anchors"][1]["position"] = [0.55, 2.48, 1.42]
    problem = dict(problems_of(sample))["/anchors/1/position"]
    assert "outside machine 'printer-1'" in problem and "machine's frame" in problem


def test_non_finite_numbers_are_refused(sample):
    sample["anchors"][0]["position"][0] = math.nan
    sample["measurements"][0]["points"][1][2] = math.inf
    problems = dict(problems_of(sample))
    assert "not a finite number" in problems["/anchors/0/position/0"]
    assert "not a finite number" in problems["/measurements/0/points/1/2"]


def test_load_reports_the_file_for_bad_syntax_and_suffix(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("machines: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.yaml: not valid YAML"):
        document.load(broken)
    wrong = tmp_path / "doc.txt"
    wrong.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\.yaml, \.yml or \.json"):
        document.load(wrong)
    with pytest.raises(ValueError, match="cannot read"):
        document.load(tmp_path / "missing.json")


def test_json_documents_load(tmp_path, sample):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(sample), encoding="utf-8")
    assert document.load(path) == document.from_dict(sample)


def test_languages_include_italian_and_english(sample):
    sample["languages"] = ["en", "de"]
    assert "does not contain items matching" in dict(problems_of(sample))["/languages"]
    sample["languages"] = ["it", "en", "de"]
    for text in [sample["procedures"][0]["title"]]:
        text["de"] = "Filament laden"
    problems = dict(problems_of(sample))
    assert "no text in de" in problems["/procedures/0/steps/0/text"]


def test_a_minimal_document_is_valid():
    doc = document.from_dict({"version": 1, "name": "empty room"})
    assert doc.machines == () and doc.languages == ("it", "en")


# --- marker anchors -------------------------------------------------------------------------

NORTH_WALL_MARKER = {  # OpenCV marker axes on a wall facing -y: x along x, y up, z (its normal) towards -y
    "id": "marker-7", "position": [3.3, 5.999, 1.6], "normal": [0, -1, 0], "name": "marker 7",
    "rotation": [math.sqrt(0.5), 0, 0, math.sqrt(0.5)], "marker": {"dictionary": "DICT_4X4_50", "id": 7, "size_m": 0.16},
}


def test_marker_anchor_round_trips_and_keeps_its_axes(sample):
    sample["anchors"].append(copy.deepcopy(NORTH_WALL_MARKER))
    doc = document.from_dict(sample)
    anchor = doc.anchors[-1]
    assert anchor.marker == document.PrintedMarker("DICT_4X4_50", 7, 0.16) and anchor.marker.key == "DICT_4X4_50:7"
    np.testing.assert_allclose(anchor.matrix()[:3, :3], [[1, 0, 0], [0, 0, -1], [0, 1, 0]], atol=1e-12)
    assert document.from_dict(json.loads(document.to_json(doc))) == doc
    jsonschema.validate(document.to_dict(doc), document.schema())
    # Old anchors stay as they were: no rotation or marker written for them.
    assert {"rotation", "marker"}.isdisjoint(document.to_dict(doc)["anchors"][0])


def test_marker_anchor_on_a_machine_is_in_the_machine_frame(sample):
    on_printer = {**copy.deepcopy(NORTH_WALL_MARKER), "machine": "printer-1", "position": [0.0, -0.26, 0.3]}
    sample["anchors"].append(on_printer)
    doc = document.from_dict(sample)
    anchor = doc.anchors[-1]
    position, normal = doc.anchor_in_world(anchor)
    T_world_anchor = doc.machine("printer-1").pose.matrix() @ anchor.matrix()
    np.testing.assert_allclose(T_world_anchor[:3, 3], position)
    np.testing.assert_allclose(T_world_anchor[:3, 2], normal, atol=1e-12)


def test_nearly_unit_rotation_is_normalised_and_far_from_unit_refused(sample):
    sample["anchors"].append(copy.deepcopy(NORTH_WALL_MARKER))
    sample["anchors"][-1]["rotation"] = [c * 1.0005 for c in NORTH_WALL_MARKER["rotation"]]
    assert np.linalg.norm(document.from_dict(sample).anchors[-1].rotation) == pytest.approx(1, abs=1e-15)
    sample["anchors"][-1]["rotation"] = [0, 0, 0, 0]
    assert "unit quaternion" in dict(problems_of(sample))["/anchors/13/rotation"]


@pytest.mark.parametrize("change, pointer, expected", [
    (lambda a: a["marker"].update(dictionary="DICT_9X9_50"), "/anchors/13/marker/dictionary", "OpenCV's predefined"),
    (lambda a: a["marker"].update(size_m=-0.16), "/anchors/13/marker/size_m", "side of the black square"),
    (lambda a: a["marker"].update(size_m=0), "/anchors/13/marker/size_m", "less than or equal to the minimum"),
    (lambda a: a["marker"].update(id=50), "/anchors/13/marker/id", "DICT_4X4_50 has markers 0 to 49"),
    (lambda a: a["marker"].update(id=-1), "/anchors/13/marker/id", "less than the minimum"),
    (lambda a: a.pop("rotation"), "/anchors/13", "'rotation' is a dependency of 'marker'"),
    (lambda a: a.update(normal=[0, 0, 1]), "/anchors/13/normal", "90.0 deg away from the z axis"),
    (lambda a: a["marker"].pop("size_m"), "/anchors/13/marker", "'size_m' is a required property"),
])
def test_bad_marker_anchors_are_refused(sample, change, pointer, expected):
    sample["anchors"].append(copy.deepcopy(NORTH_WALL_MARKER))
    change(sample["anchors"][-1])
    assert expected in dict(problems_of(sample))[pointer]


def test_a_printed_marker_marks_one_anchor(sample):
    sample["anchors"] += [copy.deepcopy(NORTH_WALL_MARKER), {**copy.deepcopy(NORTH_WALL_MARKER), "id": "again"}]
    assert "already the marker of anchors[13]" in dict(problems_of(sample))["/anchors/14/marker"]
    sample["anchors"][-1]["marker"]["dictionary"] = "DICT_APRILTAG_36h11"  # same id, another dictionary: fine
    assert document.from_dict(sample).anchors[-1].marker.key == "DICT_APRILTAG_36h11:7"


def test_marker_dictionaries_are_opencvs():
    cv2 = pytest.importorskip("cv2")
    assert set(document.schema()["$defs"]["marker"]["properties"]["dictionary"]["enum"]) == set(
        document.MARKER_DICTIONARY_SIZES)
    for name, count in document.MARKER_DICTIONARY_SIZES.items():
        assert cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name)).bytesList.shape[0] == count, name


# --- poses ----------------------------------------------------------------------------------

unit = st.floats(-1, 1, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.tuples(unit, unit, unit, unit).filter(lambda q: sum(c * c for c in q) > 1e-3),
       st.tuples(*[st.floats(-100, 100, allow_nan=False)] * 3))
def test_pose_matrix_round_trip(q, t):
    q = np.asarray(q) / np.linalg.norm(q)
    pose = Pose(tuple(t), tuple(q))
    T = pose.matrix()
    np.testing.assert_allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-12)
    again = Pose.from_matrix(T)
    np.testing.assert_allclose(again.matrix(), T, atol=1e-9)
    assert again.rotation[3] >= 0


def test_pose_from_matrix_refuses_non_rigid():
    with pytest.raises(ValueError, match="not a rotation"):
        Pose.from_matrix(np.diag([2.0, 1, 1, 1]))
    with pytest.raises(ValueError, match="4x4"):
        Pose.from_matrix(np.eye(3))
