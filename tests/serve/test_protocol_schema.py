"""twin/schemas/protocol.schema.json: a valid JSON schema that accepts what the protocol sends and expects."""
from __future__ import annotations

import json

import jsonschema
import pytest

from twin.serve import messages
from twin.serve.access import Grant, Role
from twin.serve.messages import PROTOCOL_SCHEMA_PATH
from twin.serve.protocol import Connection, TwinInfo
from twin.serve.revisions import revision_entry
from twin.serve.store import Edit

SCHEMA = json.loads(PROTOCOL_SCHEMA_PATH.read_text())


def validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({**SCHEMA, "anyOf": [{"$ref": f"#/$defs/{kind}"}]})


CLIENT = validator("client_message")
SERVER = validator("server_message")
POSE = {"position": [1.0, 2.0, 1.6], "quaternion": [0.0, 0.0, 0.0, 1.0]}

GOOD_CLIENT_MESSAGES = [
    {"op": "hello", "id": 1, "protocol": 1},
    {"op": "hello", "id": 1, "protocol": 1, "token": "abc"},
    {"op": "subscribe", "id": 2, "twin": "shop"},
    {"op": "unsubscribe", "id": 2, "twin": "shop"},
    {"op": "edit", "id": 3, "twin": "shop", "base_revision": 12,
     "patch": [{"op": "replace", "path": "/machines/0/pose/translation", "value": [1.0, 2.0, 0.0]}]},
    {"op": "presence", "twin": "shop", "pose": POSE, "mode": "tour"},
    {"op": "machine_state", "twin": "shop", "machine": "cnc-1", "properties": {"spindle": True}},
    {"op": "step", "id": 5, "twin": "shop", "procedure": "p", "step": 0, "done": True},
    {"op": "get_asset", "id": 4, "twin": "shop", "path": "tiles/tileset.json"},
    {"op": "history", "id": 6, "twin": "shop", "machine": "cnc-1", "property": "spindle_rpm"},
    {"op": "history", "id": 6, "twin": "shop", "machine": "cnc-1", "property": "spindle_rpm", "from_s": 1.5e9,
     "to_s": 1.6e9, "max_points": 2000},
    {"op": "revisions", "id": 7, "twin": "shop"},
    {"op": "revisions", "id": 7, "twin": "shop", "before": 9, "limit": 200},
    {"op": "restore", "id": 8, "twin": "shop", "base_revision": 12, "revision": 0},
]
BAD_CLIENT_MESSAGES = [
    {"op": "hello", "id": 1, "protocol": 2},
    {"op": "subscribe", "twin": "shop"},
    {"op": "edit", "id": 3, "twin": "shop", "base_revision": 1, "patch": [{"op": "jump", "path": "/a"}]},
    {"op": "presence", "twin": "shop", "pose": {"position": [1, 2]}, "mode": "tour"},
    {"op": "get_asset", "id": -1, "twin": "shop", "path": "x"},
    {"op": "history", "id": 6, "twin": "shop", "machine": "cnc-1", "property": "rpm", "max_points": 5000},
    {"op": "history", "id": 6, "twin": "shop", "machine": "cnc-1"},
    {"op": "revisions", "id": 7, "twin": "shop", "limit": 0},
    {"op": "restore", "id": 8, "twin": "shop", "revision": 3},
    {"op": "dance"},
]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("message", GOOD_CLIENT_MESSAGES)
def test_client_messages_the_protocol_accepts_match_the_schema(message):
    CLIENT.validate(message)
    conn = Connection(client=1)
    conn.welcome(0, Grant("a", Role.ADMIN, "*"), [TwinInfo("shop", 12, True)])
    conn.data_to_send()
    conn.subscriptions.add("shop")
    conn.receive_text(json.dumps(message), 0.0)
    assert conn.data_to_send() == [], "the protocol refused a message the schema allows"


@pytest.mark.parametrize("message", BAD_CLIENT_MESSAGES)
def test_malformed_client_messages_fail_the_schema(message):
    assert not CLIENT.is_valid(message)


def test_every_server_message_kind_matches_the_schema():
    conn = Connection(client=3)
    conn.welcome(1, Grant("maria", Role.PLANNER, "shop"), [TwinInfo("shop", 4, True)])
    conn.ack(3, twin="shop", revision=5)
    conn.error(4, "stale_revision", "rebase", revision=5)
    conn.error(None, "rate_limited", "slow down")
    asked = messages.History(7, "shop", "cnc-1", "rpm", None, None, 300)
    conn.history(asked, 1.7e9, 1.7e9 + 3600, "rpm", [[1.7e9 + 5, 9000.0, 8000.0, 10000.0]])
    conn.history(asked, 1.7e9, 1.7e9 + 3600, None, [[1.7e9 + 5, "running"]])
    page = [revision_entry(Edit(5, [{"op": "remove", "path": "/layouts/0"}], "maria", 1.7e9)),
            revision_entry(Edit(4, [{"op": "add", "path": "/x", "value": 1}], "maria", 1.7e9, restored=2))]
    conn.revisions(messages.Revisions(8, "shop", None, 2), 5, page, True)
    artisan = Connection(client=4)
    artisan.welcome(1, Grant("luca", Role.ARTISAN, "shop", machines=("lathe-1",)), [TwinInfo("shop", 4, False)])
    [welcome] = artisan.data_to_send()
    assert json.loads(welcome)["twins"][0]["machines"] == ["lathe-1"]
    frames = conn.data_to_send() + [welcome]
    frames += [
        messages.encode_snapshot("shop", 4, {"name": "shop"}, Role.PLANNER, 2),
        messages.encode_delta("shop", 5, [{"op": "remove", "path": "/layouts/0"}], "maria", 3),
        messages.encode(messages.presence_message("shop", 3, "maria", POSE, "planner")),
        messages.encode(messages.presence_left_message("shop", 3)),
        messages.encode(messages.machine_states_message("shop", {"cnc-1": {"rpm": 9000}})),
        messages.encode_step("shop", "p", "s1", True, "luca", 3, 5),
        messages.encode_snapshot("shop", 6, {"name": "shop"}, Role.VISITOR),
    ]
    for frame in frames:
        SERVER.validate(json.loads(frame))
    assert not SERVER.is_valid({"op": "delta", "twin": "shop", "revision": 1})
