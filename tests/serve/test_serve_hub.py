"""The hub's rules, sans I/O: edits, machine state, steps, presence, and what each subscriber gets."""
from __future__ import annotations

import copy
import json

import pytest
from twin_folder import sample_document

from twin.serve.access import Role
from twin.serve.fanout import Latest
from twin.serve.hub import MAX_MACHINE_PROPERTIES, Hub, topic
from twin.serve.messages import ProtocolError
from twin.serve.store import StepEvent

MOVE = [{"op": "replace", "path": "/machines/0/pose/translation", "value": [3.0, 2.0, 0.0]}]


def hub_at(revision: int = 4, document: dict | None = None) -> Hub:
    return Hub({"shop": (revision, document or sample_document("shop"))})


def decoded(frame) -> dict:
    return json.loads(frame.text if isinstance(frame, Latest) else frame)


def refused(code: str, call, *args) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        call(*args)
    assert caught.value.code == code
    return caught.value


def test_an_edit_on_the_head_is_checked_then_committed_as_a_delta_per_topic():
    hub = hub_at(4)
    edit = hub.check_edit("shop", 4, MOVE)
    assert hub.heads["shop"][0] == 4, "checking changes nothing"
    viewers, visitors = hub.commit_edit(edit, 5, "maria", client=7)
    assert hub.heads["shop"] == (5, edit.document)
    assert edit.document["machines"][0]["pose"]["translation"] == [3.0, 2.0, 0.0]
    assert viewers.topic == topic("shop", Role.VIEWER) == "shop" and visitors.topic == "shop/visitor"
    delta = decoded(viewers.frame)
    assert delta == {"op": "delta", "twin": "shop", "revision": 5, "patch": MOVE, "author": "maria", "client": 7}
    assert visitors.frame == viewers.frame, "an edit outside the tours reaches visitors as the same delta"


def test_an_edit_of_the_tours_sends_visitors_a_fresh_snapshot_without_private_tours():
    hub = hub_at(4)
    publish_tour = [{"op": "replace", "path": "/tours/1/public", "value": True}]
    _, visitors = hub.commit_edit(hub.check_edit("shop", 4, publish_tour), 5, "maria", client=7)
    snapshot = decoded(visitors.frame)
    assert snapshot["op"] == "snapshot" and snapshot["role"] == "visitor" and snapshot["revision"] == 5
    assert [t["id"] for t in snapshot["document"]["tours"]] == ["welcome", "staff-only"]
    hide = [{"op": "replace", "path": "/tours/0/public", "value": False}]
    _, visitors = hub.commit_edit(hub.check_edit("shop", 5, hide), 6, "maria", client=7)
    assert [t["id"] for t in decoded(visitors.frame)["document"]["tours"]] == ["staff-only"]


def test_a_stale_a_broken_or_an_invalidating_edit_is_refused_and_changes_nothing():
    document = sample_document("shop")
    hub = hub_at(4, copy.deepcopy(document))
    assert refused("stale_revision", hub.check_edit, "shop", 3, MOVE).extra == {"revision": 4}
    refused("invalid_patch", hub.check_edit, "shop", 4, [{"op": "remove", "path": "/nothing/here"}])
    refused("invalid_document", hub.check_edit, "shop", 4, [{"op": "replace", "path": "/machines", "value": 1}])
    error = refused("invalid_document", hub.check_edit, "shop", 4,
                    [{"op": "replace", "path": "/procedures/0/machine", "value": "no-such-machine"}])
    assert "no-such-machine" in str(error)
    assert hub.heads["shop"] == (4, document)


def test_machine_state_merges_per_property_and_a_new_subscriber_catches_up():
    document = sample_document("shop")
    document["machines"].append({**copy.deepcopy(document["machines"][0]), "id": "cnc-1"})
    hub = hub_at(0, document)
    first = hub.machine_state("shop", "printer-1", {"progress": 0.5, "state": "printing"})
    assert first.key == ("machines", "shop") and first.merge_field == "machines", "one frame key per twin"
    assert decoded(first) == {"op": "machine_states", "twin": "shop",
                              "machines": {"printer-1": {"progress": 0.5, "state": "printing"}}}
    hub.machine_state("shop", "printer-1", {"progress": 0.62})
    hub.machine_state("shop", "cnc-1", {"spindle_rpm": 12000})
    [latest] = hub.catch_up("shop", client=9)
    assert decoded(latest)["machines"] == {"printer-1": {"progress": 0.62, "state": "printing"},
                                           "cnc-1": {"spindle_rpm": 12000}}


def test_machine_state_for_an_unknown_machine_or_too_many_properties_is_refused():
    hub = hub_at()
    refused("bad_message", hub.machine_state, "shop", "lathe-9", {"rpm": 1})
    many = {f"p{i}": i for i in range(MAX_MACHINE_PROPERTIES + 1)}
    refused("bad_message", hub.machine_state, "shop", "printer-1", many)
    assert hub.catch_up("shop", client=9) == [], "a refused state is not kept"


def test_steps_are_checked_against_the_head_and_kept_for_late_subscribers():
    hub = hub_at(4)
    refused("bad_message", hub.check_step, "shop", "no-procedure", 0)
    refused("bad_message", hub.check_step, "shop", "load-filament", 2)
    refused("bad_message", hub.check_step, "shop", "load-filament", "no-step")
    assert hub.check_step("shop", "load-filament", "insert") == 4
    publishes = hub.record_step("shop", StepEvent("load-filament", "insert", True, "maria", 4), client=3)
    assert [p.topic for p in publishes] == ["shop", "shop/visitor"]
    [kept] = hub.catch_up("shop", client=9)
    assert decoded(kept) == {"op": "step", "twin": "shop", "procedure": "load-filament", "step": "insert",
                             "done": True, "author": "maria", "client": 3, "revision": 4}


def test_steps_recorded_before_a_restart_are_caught_up_too():
    hub = Hub({"shop": (4, sample_document("shop"))},
              {"shop": [StepEvent("load-filament", 0, True, "maria", 2)]})
    [kept] = hub.catch_up("shop", client=9)
    assert decoded(kept)["step"] == 0 and decoded(kept)["client"] == 0


def test_presence_is_caught_up_by_others_but_not_by_its_owner_and_ends_once():
    hub = hub_at()
    pose = {"position": [1.0, 2.0, 1.6], "quaternion": [0.0, 0.0, 0.0, 1.0]}
    hub.presence("shop", 3, "maria", pose, "ar")
    assert hub.catch_up("shop", client=3) == []
    [seen] = hub.catch_up("shop", client=9)
    assert decoded(seen) == {"op": "presence", "twin": "shop", "client": 3, "name": "maria", "pose": pose, "mode": "ar"}
    left = hub.leave("shop", 3)
    assert decoded(left) == {"op": "presence", "twin": "shop", "client": 3, "left": True}
    assert hub.leave("shop", 3) is None and hub.catch_up("shop", client=9) == []


def test_visitors_snapshots_hide_private_tours_and_echo_the_request_id():
    hub = hub_at(4)
    visitor = decoded(hub.snapshot("shop", Role.VISITOR, 12))
    planner = decoded(hub.snapshot("shop", Role.PLANNER, 13))
    assert visitor["id"] == 12 and visitor["role"] == "visitor"
    assert [t["id"] for t in visitor["document"]["tours"]] == ["welcome"]
    assert [t["id"] for t in planner["document"]["tours"]] == ["welcome", "staff-only"]


def with_sources() -> dict:
    document = sample_document("shop")
    document["sources"] = [{"id": "shop-mqtt", "kind": "mqtt", "url": "mqtt://127.0.0.1:1883",
                            "machines": {"printer-1": {"topic": "fablab/printer-1/state"}}}]
    return document


@pytest.mark.parametrize("role", [Role.VISITOR, Role.VIEWER, Role.ADMIN])
def test_no_snapshot_carries_the_sources(role):
    hub = hub_at(4, with_sources())
    assert "sources" not in decoded(hub.snapshot("shop", role))["document"]
    assert "sources" in hub.heads["shop"][1], "the hub keeps them for the bridges"


@pytest.mark.parametrize("patch", [
    [{"op": "replace", "path": "/sources/0/url", "value": "mqtt://10.0.0.9"}],
    [{"op": "test", "path": "/sources/0/url", "value": "mqtt://127.0.0.1:1883"}],  # would tell the address
    [{"op": "copy", "from": "/sources/0/url", "path": "/name"}],  # would copy it where it is seen
    [{"op": "replace", "path": "", "value": {"version": 1, "name": "shop"}}],
])
def test_no_edit_may_touch_or_read_the_sources(patch):
    hub = hub_at(4, with_sources())
    assert refused("forbidden", hub.check_edit, "shop", 4, patch).extra == {"path": "/sources"}
