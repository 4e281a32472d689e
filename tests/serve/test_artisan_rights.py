"""Artisans' rights on their machines' instructions (issue 14): what an artisan's edit changes, item
by item, decides; allowed and refused patches through the hub's check on a real document."""
from __future__ import annotations

import copy

import pytest
from lathe_workshop import TEXT, lathe_workshop

from twin.serve.access import ALL_TWINS, Grant, Role, artisan_refusal, forbidden_path
from twin.serve.hub import Hub
from twin.serve.messages import ProtocolError

LATHE_ONLY = Grant("luca", Role.ARTISAN, "shop", machines=("lathe-1",))
EVERY_MACHINE = Grant("anna", Role.ARTISAN, "shop")


def hub() -> Hub:
    return Hub({"shop": (3, lathe_workshop())})


def check(grant: Grant, patch: list):
    """The edited document, after both checks an artisan's edit gets (paths in the protocol, items in the hub)."""
    denied = forbidden_path(grant.role, patch)
    if denied is not None:
        raise ProtocolError("forbidden", f"path {denied}", path=denied)
    return hub().check_edit("shop", 3, patch, grant).document


def refused(grant: Grant, patch: list) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        check(grant, patch)
    assert caught.value.code == "forbidden", caught.value
    return caught.value


NEW_ANCHOR = {"id": "lathe-1-tailstock", "machine": "lathe-1", "position": [-0.4, 0.0, 0.9]}
NEW_PROCEDURE = {"id": "oil", "machine": "lathe-1", "title": TEXT,
                 "steps": [{"id": "fill", "text": TEXT, "anchor": "lathe-1-tailstock"}]}


@pytest.mark.parametrize("patch", [
    # what the viewer's instructions editor sends: a new anchor and a procedure on it
    [{"op": "add", "path": "/anchors/-", "value": NEW_ANCHOR},
     {"op": "add", "path": "/procedures/-", "value": NEW_PROCEDURE}],
    [{"op": "replace", "path": "/procedures/1/steps/0/text/en", "value": "Stop the spindle"}],
    [{"op": "add", "path": "/procedures/1/steps/-", "value": {"id": "open", "text": TEXT, "anchor": "door"}}],
    [{"op": "move", "from": "/procedures/1", "path": "/procedures/0"}],  # their own one, others keep their order
    [{"op": "replace", "path": "/anchors/1/position", "value": [0.2, 0.0, 1.1]}],
    [{"op": "add", "path": "/machines/1/properties/notes", "value": "belt replaced"}],
    [{"op": "test", "path": "/procedures/0/machine", "value": "printer-1"}],  # reading is not changing
])
def test_an_artisan_edits_the_instructions_of_their_machine(patch):
    check(LATHE_ONLY, patch)


def test_the_last_step_removed_takes_their_procedure_and_then_its_anchor_may_go():
    edited = check(LATHE_ONLY, [{"op": "remove", "path": "/procedures/1"}, {"op": "remove", "path": "/anchors/1"}])
    assert [p["id"] for p in edited["procedures"]] == ["load-filament"]
    assert [a["id"] for a in edited["anchors"]] == ["printer-top", "door"]


@pytest.mark.parametrize("patch, path, words", [
    ([{"op": "replace", "path": "/procedures/0/steps/0/text/en", "value": "x"}], "/procedures/0",
     "procedure 'load-filament' is on machine 'printer-1', which is not among yours (lathe-1)"),
    ([{"op": "remove", "path": "/procedures/0"}], "/procedures/0", "printer-1"),
    ([{"op": "replace", "path": "/procedures/1/machine", "value": "printer-1"}], "/procedures/1/machine",
     "after this edit, procedure 'change-tool' is on machine 'printer-1'"),
    ([{"op": "add", "path": "/procedures/-", "value": {**NEW_PROCEDURE, "machine": "printer-1",
                                                         "steps": [{"id": "s", "text": TEXT, "anchor": "door"}]}}],
     "/procedures/2", "printer-1"),
    ([{"op": "replace", "path": "/procedures", "value": []}], "/procedures/0", "printer-1"),
    ([{"op": "replace", "path": "/anchors/0/position", "value": [0, 0, 0.4]}], "/anchors/0", "printer-1"),
    ([{"op": "add", "path": "/anchors/2/name", "value": "Door"}], "/anchors/2", "room anchors are for planners"),
    ([{"op": "remove", "path": "/anchors/1/machine"}], "/anchors/1/machine", "in the room"),
    ([{"op": "add", "path": "/machines/0/properties/notes", "value": "x"}], "/machines/0", "machine 'printer-1'"),
    ([{"op": "replace", "path": "/tours/0/public", "value": False}], "/tours/0/public", ""),
])
def test_an_artisan_is_refused_what_is_not_of_their_machines_naming_the_path(patch, path, words):
    error = refused(LATHE_ONLY, patch)
    assert error.extra == {"path": path} and words in str(error), str(error)


def test_an_artisan_without_machines_edits_every_machines_procedures_but_not_what_tours_or_the_room_use():
    check(EVERY_MACHINE, [{"op": "replace", "path": "/procedures/0/steps/0/text/en", "value": "Heat"}])
    error = refused(EVERY_MACHINE, [{"op": "replace", "path": "/anchors/0/position", "value": [0, 0, 0.4]}])
    assert error.extra == {"path": "/anchors/0"} and "tour 'welcome'" in str(error)
    refused(EVERY_MACHINE, [{"op": "replace", "path": "/anchors/2/position", "value": [0, 4, 1]}])


def test_others_procedures_keep_their_order():
    document = lathe_workshop()
    document["procedures"].append({**document["procedures"][0], "id": "unload-filament"})
    before, after = document, copy.deepcopy(document)
    after["procedures"].insert(0, after["procedures"].pop(2))  # a printer procedure before the other
    assert artisan_refusal(LATHE_ONLY, before, after)[0] == "/procedures"
    own_first = copy.deepcopy(document)
    own_first["procedures"].insert(0, own_first["procedures"].pop(1))
    assert artisan_refusal(LATHE_ONLY, before, own_first) is None


def test_an_anchor_another_machines_procedure_targets_is_not_the_artisans():
    document = lathe_workshop()
    document["procedures"][0]["steps"][0]["anchor"] = "lathe-chuck"  # the printer's step points at the lathe
    before, after = document, copy.deepcopy(document)
    after["anchors"][1]["position"] = [0.0, 0.0, 0.0]
    path, sentence = artisan_refusal(LATHE_ONLY, before, after)
    assert path == "/anchors/1" and "procedure 'load-filament'" in sentence


@pytest.mark.parametrize("role", [Role.PLANNER, Role.ADMIN])
def test_planners_and_admins_edit_every_machines_procedures(role):
    check(Grant("p", role, ALL_TWINS), [{"op": "replace", "path": "/procedures/0/steps/0/text/en", "value": "x"}])
