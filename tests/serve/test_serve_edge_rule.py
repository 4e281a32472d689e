"""The edge rule, sans I/O: what a client sends is refused whole, naming the field, when any text in
it cannot be encoded as UTF-8 or any value is outside what the protocol schema and viewers hold.

Each case was a crash or a looser check before: a lone surrogate (`"\\ud800"`, valid JSON that
Python accepts but no socket can send) was stored and closed every later subscriber with 1011.
"""
from __future__ import annotations

import json

import jsonschema
import pytest
from test_protocol import connected, sent

from twin.document import DocumentError
from twin.document import validate as validate_document
from twin.json_values import MAX_SAFE_INTEGER
from twin.serve.access import Role
from twin.serve.fields import MAX_DEPTH
from twin.serve.messages import PROTOCOL_SCHEMA_PATH
from twin.serve.protocol import Connection

LONE = "\ud800"


def refused_field(conn: Connection, message: dict | str) -> str:
    """Send `message`; assert it raised no event and one bad_message; return the field it names."""
    conn.receive_text(message if isinstance(message, str) else json.dumps(message), 1.0)
    assert conn.events_received() == [], "a refused message must reach neither the hub nor the store"
    [error] = sent(conn)
    assert error["code"] == "bad_message", error
    json.dumps(error, ensure_ascii=False).encode("utf-8")  # the answer itself can always be sent
    return error.get("field")


@pytest.mark.parametrize("message, field", [
    ({"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"state": LONE}},
     "/properties/state"),
    ({"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {LONE: 1}},
     "/properties/\\ud800"),
    ({"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"log": ["ok", {"x": LONE}]}},
     "/properties/log/1/x"),
    ({"op": "edit", "id": 3, "twin": "shop", "base_revision": 0,
      "patch": [{"op": "add", "path": "/measurements/-", "value": {"id": "m", "name": LONE, "points": []}}]},
     "/patch/0/value/name"),
    ({"op": "presence", "twin": "shop", "pose": {"position": [0, 0, 0], "quaternion": [0, 0, 0, 1]}, "mode": LONE},
     "/mode"),
    ({"op": "step", "id": 4, "twin": "shop", "procedure": "load-filament", "step": LONE, "done": True}, "/step"),
    ({"op": "get_asset", "id": 5, "twin": "shop", "path": LONE + ".glb"}, "/path"),
])
def test_a_lone_surrogate_anywhere_is_refused_naming_the_field(message, field):
    conn = connected(Role.ARTISAN)
    conn.receive_text(json.dumps({"op": "subscribe", "id": 1, "twin": "shop"}), 0.5)
    conn.events_received()
    assert refused_field(conn, message) == field


def test_a_lone_surrogate_in_the_hello_token_is_a_bad_message_not_a_crash():
    conn = Connection(client=1)
    assert refused_field(conn, {"op": "hello", "id": 1, "protocol": 1, "token": LONE}) == "/token"
    assert conn.grant is None, "the client may still say hello properly"


def test_hello_takes_exactly_the_schema_types():
    conn = Connection(client=1)
    conn.receive_text(json.dumps({"op": "hello", "id": 1, "protocol": True}), 0.0)
    assert conn.events_received() == [] and sent(conn)[0]["code"] == "unsupported_protocol"
    conn.receive_text(json.dumps({"op": "hello", "id": 2, "protocol": 1.0}), 0.0)
    assert conn.events_received() == [] and sent(conn)[0]["code"] == "unsupported_protocol"
    conn.receive_text(json.dumps({"op": "hello", "id": 3, "protocol": 1, "token": None}), 0.0)
    assert conn.events_received() == [] and sent(conn)[0]["code"] == "bad_message"
    conn.receive_text(json.dumps({"op": "hello", "id": 4, "protocol": 1}), 0.0)
    assert len(conn.events_received()) == 1


def test_duplicate_keys_huge_integers_and_deep_nesting_are_refused():
    conn = connected(Role.ARTISAN)
    duplicate = '{"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"a": 1, "a": 2}}'
    conn.receive_text(duplicate, 1.0)
    assert conn.events_received() == [] and "twice" in sent(conn)[0]["message"]
    huge = {"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"n": MAX_SAFE_INTEGER + 1}}
    assert refused_field(conn, huge) == "/properties/n"
    nested: object = 1
    for _ in range(MAX_DEPTH):
        nested = [nested]
    deep = {"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"deep": nested}}
    assert refused_field(conn, deep).startswith("/properties/deep/0/0")
    fine = {"op": "machine_state", "twin": "shop", "machine": "printer-1",
            "properties": {"n": MAX_SAFE_INTEGER, "text": "Velocità 12 000 giri/min ✓"}}
    conn.receive_text(json.dumps(fine), 2.0)
    assert len(conn.events_received()) == 1 and sent(conn) == []


def test_a_document_holding_a_lone_surrogate_is_not_valid():
    document = json.loads('{"version": 1, "name": "shop\\ud800"}')
    with pytest.raises(DocumentError) as caught:
        validate_document(document, "twin.json")
    assert "twin.json: name:" in str(caught.value) and "UTF-8" in str(caught.value)


def test_the_refusal_itself_follows_the_protocol_schema():
    schema = json.loads(PROTOCOL_SCHEMA_PATH.read_text())
    errors = jsonschema.Draft202012Validator({**schema, "anyOf": [{"$ref": "#/$defs/error"}]})
    conn = connected(Role.ARTISAN)
    conn.receive_text(json.dumps({"op": "machine_state", "twin": "shop", "machine": "printer-1",
                                  "properties": {"state": LONE}}), 1.0)
    [error] = sent(conn)
    errors.validate(error)
    assert error["field"] == "/properties/state"
