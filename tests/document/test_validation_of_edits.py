"""Validating an edited document against the valid one it came from: only the top-level members
the edit changed are checked against the schema again, with the same problems reported as a full
check would, and references between members always checked."""
from __future__ import annotations

import copy

import pytest
import yaml
from export_fixtures import SAMPLE_DOCUMENT

from twin.document import DocumentError, validate

WRONG = {"name": 7, "version": "one", "languages": "it", "machines": {"id": "x"}, "anchors": [{"id": 3}],
         "procedures": [{"steps": []}], "tours": [{"id": "t", "stops": "all"}], "layouts": [{"id": ""}],
         "measurements": [{"id": "m", "from": [0, 0]}], "sources": [{"kind": "fax"}], "versions": [{}]}


@pytest.fixture(scope="module")
def valid() -> dict:
    before = yaml.safe_load(SAMPLE_DOCUMENT.read_text(encoding="utf-8"))
    validate(before)
    return before


def problems(data, **options) -> list[tuple[str, str]]:
    with pytest.raises(DocumentError) as raised:
        validate(data, **options)
    return raised.value.problems


@pytest.mark.parametrize("member", sorted(WRONG))
def test_a_broken_member_is_found_as_a_full_check_finds_it(valid, member):
    edited = {**copy.deepcopy(valid), member: WRONG[member]}
    found = problems(edited, valid_before=valid)
    assert found == problems(edited)
    assert any(pointer.startswith(f"/{member}") for pointer, _ in found)


def test_a_value_no_file_can_keep_in_a_changed_member(valid):
    edited = copy.deepcopy(valid)
    edited["machines"][0]["pose"]["translation"][0] = float("nan")
    assert problems(edited, valid_before=valid) == problems(edited)


def test_references_across_members_are_still_checked(valid):
    edited = copy.deepcopy(valid)
    edited["anchors"] = [anchor for anchor in edited["anchors"]
                         if not any(step.get("anchor") == anchor["id"]
                                    for procedure in edited["procedures"] for step in procedure["steps"])]
    assert problems(edited, valid_before=valid) == problems(edited)


def test_root_rules_are_still_checked(valid):
    unknown = {**copy.deepcopy(valid), "colour": "red"}
    assert problems(unknown, valid_before=valid) == problems(unknown)
    missing = {key: value for key, value in valid.items() if key != "name"}
    assert problems(missing, valid_before=valid) == problems(missing)


def test_a_valid_edit_passes(valid):
    edited = copy.deepcopy(valid)
    edited["procedures"][0]["steps"][0]["text"] = {language: "Ready." for language in valid["languages"]}
    validate(edited, valid_before=valid)


def test_a_broken_item_among_kept_ones_is_found_wherever_it_stands(valid):
    edited = copy.deepcopy(valid)
    edited["procedures"][-1]["steps"][0]["text"] = 42
    assert problems(edited, valid_before=valid) == problems(edited)
    reordered = copy.deepcopy(edited)
    reordered["procedures"].reverse()
    found = problems(reordered, valid_before=valid)
    assert found == problems(reordered)
    assert found[0][0].startswith("/procedures/0/steps/0/text")


def test_rules_over_a_whole_list_still_hold_for_kept_items(valid):
    edited = copy.deepcopy(valid)
    edited["languages"] = [*valid["languages"], valid["languages"][0]]
    assert problems(edited, valid_before=valid) == problems(edited)
