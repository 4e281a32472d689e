"""The sans-I/O protocol: sessions, checks, permissions, limits, and fuzzing. No sockets here."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.serve import messages
from twin.serve.access import Grant, Role
from twin.serve.protocol import Connection, Limits, TwinInfo

TWINS = [TwinInfo("shop", 3, published=True), TwinInfo("private", 0, published=False)]
POSE = {"position": [1, 2, 1.6], "quaternion": [0, 0, 0, 1]}


def sent(conn: Connection) -> list[dict]:
    return [json.loads(frame) for frame in conn.data_to_send()]


def connected(role: Role | None, twin: str = "shop", limits: Limits = Limits()) -> Connection:
    """A connection whose hello was welcomed with `role` on `twin` (None: anonymous)."""
    conn = Connection(client=7, limits=limits)
    conn.receive_text(json.dumps({"op": "hello", "id": 1, "protocol": 1}), now=0.0)
    [hello] = conn.events_received()
    assert isinstance(hello, messages.Hello) and hello.token is None
    conn.welcome(1, None if role is None else Grant("maria", role, twin), TWINS)
    conn.data_to_send()
    return conn


def request(conn: Connection, message: dict, now: float = 1.0):
    conn.receive_text(json.dumps(message), now)
    return conn.events_received(), sent(conn)


def test_hello_is_required_first_and_a_bad_message_keeps_the_connection():
    conn = Connection(client=1)
    conn.receive_text(json.dumps({"op": "subscribe", "id": 5, "twin": "shop"}), 0.0)
    assert conn.events_received() == []
    [error] = sent(conn)
    assert error == {"op": "error", "id": 5, "code": "hello_required", "message": "send 'hello' first"}
    conn.receive_text("{not json", 0.0)
    assert sent(conn)[0]["code"] == "bad_message"
    conn.receive_text(json.dumps({"op": "hello", "id": 2, "protocol": 1, "token": "secret"}), 0.0)
    assert conn.events_received() == [messages.Hello(2, "secret")]


def test_welcome_lists_what_the_grant_may_read():
    conn = Connection(client=4)
    conn.welcome(9, None, TWINS)
    [welcome] = sent(conn)
    assert welcome["op"] == "welcome" and welcome["id"] == 9 and welcome["client"] == 4
    assert welcome["protocol"] == messages.PROTOCOL_VERSION and welcome["name"] == "visitor"
    assert welcome["twins"] == [{"name": "shop", "role": "visitor", "revision": 3, "published": True}]
    conn.welcome(10, Grant("ann", Role.PLANNER, "private"), TWINS)
    twins = {t["name"]: t["role"] for t in sent(conn)[0]["twins"]}
    assert twins == {"shop": "visitor", "private": "planner"}
    conn.welcome(11, Grant("root", Role.ADMIN, "*"), TWINS)
    assert {t["role"] for t in sent(conn)[0]["twins"]} == {"admin"}


def test_wrong_protocol_version_is_refused():
    conn = Connection(client=1)
    conn.receive_text(json.dumps({"op": "hello", "id": 1, "protocol": 2}), 0.0)
    assert conn.events_received() == []
    assert sent(conn)[0]["code"] == "unsupported_protocol"


@pytest.mark.parametrize("text, code", [
    ("[1, 2]", "bad_message"),
    ('"hello"', "bad_message"),
    ('{"op": "dance", "id": 3}', "unknown_op"),
    ('{"id": 3}', "unknown_op"),
    ('{"op": "subscribe", "id": 3}', "bad_message"),
    ('{"op": "subscribe", "id": "3", "twin": "shop"}', "bad_message"),
    ('{"op": "subscribe", "id": true, "twin": "shop"}', "bad_message"),
    ('{"op": "subscribe", "id": 4294967296, "twin": "shop"}', "bad_message"),
    ('{"op": "edit", "id": 3, "twin": "shop", "base_revision": NaN, "patch": []}', "bad_message"),
    ('{"op": "edit", "id": 3, "twin": "shop", "base_revision": 1e999, "patch": []}', "bad_message"),
    ('{"op": "edit", "id": 3, "twin": "shop", "base_revision": 3, "patch": {}}', "invalid_patch"),
    ('{"op": "subscribe", "id": 3, "twin": "nowhere"}', "unknown_twin"),
    ('{"op": "subscribe", "id": 3, "twin": "private"}', "forbidden"),
    ('{"op": "presence", "twin": "shop", "pose": {}, "mode": "tour"}', "not_subscribed"),
    ('[' * 100000 + ']' * 100000, "bad_message"),
])
def test_bad_messages_are_answered_with_errors(text, code):
    conn = connected(None)
    conn.receive_text(text, 1.0)
    assert conn.events_received() == []
    [error] = sent(conn)
    assert error["op"] == "error" and error["code"] == code and error["message"]
    request(conn, {"op": "subscribe", "id": 8, "twin": "shop"})  # still usable
    assert conn.subscriptions == {"shop"}


def test_binary_frames_from_clients_are_refused():
    conn = connected(Role.VIEWER)
    conn.receive_bytes(b"\x01\x00", 1.0)
    assert sent(conn)[0]["code"] == "binary_not_accepted"


def test_subscribe_carries_the_role_and_snapshot_echoes_the_id():
    conn = connected(Role.ARTISAN)
    events, replies = request(conn, {"op": "subscribe", "id": 12, "twin": "shop"})
    assert events == [messages.Subscribe(12, "shop", Role.ARTISAN)] and replies == []
    snapshot = json.loads(messages.encode_snapshot("shop", 3, {"name": "shop"}, events[0].role, events[0].id))
    assert snapshot == {"op": "snapshot", "id": 12, "twin": "shop", "revision": 3, "role": "artisan",
                        "document": {"name": "shop"}}


@pytest.mark.parametrize("role, path, allowed", [
    (Role.VISITOR, "/tours/0/title", False),
    (Role.VIEWER, "/layouts/-", False),
    (Role.ARTISAN, "/machines/0/properties/notes", True),
    (Role.ARTISAN, "/machines/0/pose", False),
    (Role.PLANNER, "/machines/0/pose/translation", True),
    (Role.PLANNER, "/layouts/-", True),
    (Role.PLANNER, "/anchors/2/position", True),
    (Role.PLANNER, "/procedures/0/steps/1", True),
    (Role.PLANNER, "/tours/0/public", True),
    (Role.PLANNER, "/measurements/-", True),
    (Role.VIEWER, "/measurements/-", False),
    (Role.PLANNER, "/machines/0/properties/notes", True),
    (Role.PLANNER, "/machines/0/name", False),
    (Role.PLANNER, "/machines/-", False),
    (Role.PLANNER, "", False),
    (Role.ADMIN, "", True),
    (Role.ADMIN, "/name", True),
])
def test_edits_are_path_scoped_by_role(role, path, allowed):
    conn = connected(role)
    patch = [{"op": "add", "path": path, "value": 1}]
    events, replies = request(conn, {"op": "edit", "id": 5, "twin": "shop", "base_revision": 3, "patch": patch})
    if allowed:
        assert events == [messages.Edit(5, "shop", 3, patch)] and replies == []
    else:
        assert events == []
        assert replies[0]["code"] == "forbidden" and replies[0]["id"] == 5
        assert role.label in replies[0]["message"]


def test_a_move_out_of_a_forbidden_path_is_forbidden():
    conn = connected(Role.PLANNER)
    patch = [{"op": "move", "from": "/machines/0/name", "path": "/layouts/0/name"}]
    _, [error] = request(conn, {"op": "edit", "id": 5, "twin": "shop", "base_revision": 3, "patch": patch})
    assert error["code"] == "forbidden" and error["path"] == "/machines/0/name"


def test_presence_needs_a_subscription_and_a_well_formed_pose():
    conn = connected(None)
    request(conn, {"op": "subscribe", "id": 1, "twin": "shop"})
    events, _ = request(conn, {"op": "presence", "twin": "shop", "pose": POSE, "mode": "tour"})
    assert events == [messages.Presence("shop", {"position": [1.0, 2.0, 1.6], "quaternion": [0.0, 0.0, 0.0, 1.0]},
                                        "tour")]
    for pose in ({"position": [1, 2], "quaternion": [0, 0, 0, 1]}, {"position": [1, 2, 3]},
                 {"position": [1, 2, "x"], "quaternion": [0, 0, 0, 1]}, [1, 2, 3]):
        events, [error] = request(conn, {"op": "presence", "twin": "shop", "pose": pose, "mode": "tour"})
        assert events == [] and error["code"] == "bad_message"


def test_steps_and_machine_state_need_an_artisan():
    step = {"op": "step", "id": 3, "twin": "shop", "procedure": "load-filament", "step": 0, "done": True}
    state = {"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"spindle": True}}
    viewer = connected(Role.VIEWER)
    for message in (step, state):
        events, [error] = request(viewer, message)
        assert events == [] and error["code"] == "forbidden"
    artisan = connected(Role.ARTISAN)
    assert request(artisan, step)[0] == [messages.Step(3, "shop", "load-filament", 0, True)]
    assert request(artisan, state)[0] == [messages.MachineState(None, "shop", "printer-1", {"spindle": True})]


def test_rehello_ends_subscriptions():
    conn = connected(Role.ADMIN, twin="*")
    request(conn, {"op": "subscribe", "id": 1, "twin": "private"})
    assert conn.subscriptions == {"private"}
    conn.welcome(2, None, TWINS)
    assert conn.subscriptions == set()
    assert "private" not in conn.roles


def test_rate_limit_drops_with_one_error_per_second_then_closes_abusers():
    limits = Limits(messages_per_second=10, burst=5, abuse_factor=4, abuse_seconds=5)
    conn = connected(Role.VIEWER, limits=limits)
    message = json.dumps({"op": "subscribe", "id": 1, "twin": "shop"})
    for _ in range(5):
        conn.receive_text(message, 1.0)
    assert len(conn.events_received()) == 5
    for _ in range(20):
        conn.receive_text(message, 1.0)
    assert conn.events_received() == []
    assert [m["code"] for m in sent(conn)] == ["rate_limited"]
    # Keep sending at 100 per second (10x the rate): closed when the 5 s window is over.
    t = 1.0
    while not conn.closed and t < 20:
        t += 0.01
        conn.receive_text(message, t)
    assert conn.closed and 5.0 <= t <= 12.0
    closes = [e for e in conn.events_received() if isinstance(e, messages.Close)]
    assert closes == [messages.Close(messages.CLOSE_POLICY, "rate limit")]


def test_a_client_within_the_rate_is_never_limited():
    conn = connected(Role.VIEWER, limits=Limits(messages_per_second=10, burst=5))
    message = json.dumps({"op": "subscribe", "id": 1, "twin": "shop"})
    for i in range(200):
        conn.receive_text(message, 1.0 + i * 0.1)
    assert len(conn.events_received()) == 200 and sent(conn) == []


def test_an_oversized_message_closes_with_1009():
    conn = connected(Role.VIEWER, limits=Limits(max_message_bytes=100))
    text = json.dumps({"op": "subscribe", "id": 1, "twin": "x" * 200})
    conn.receive_text(text, 1.0)
    assert conn.closed
    assert conn.events_received() == [messages.Close(messages.CLOSE_TOO_BIG,
                                                     f"message of {len(text)} bytes is over the limit of 100")]
    conn.receive_text(json.dumps({"op": "subscribe", "id": 1, "twin": "shop"}), 1.0)
    assert conn.events_received() == [] and sent(conn) == []


def test_asset_frames_round_trip():
    frame = messages.encode_asset(0xDEADBEEF, b"glTF...")
    assert frame[0] == messages.ASSET_OPCODE and frame[1:5] == (0xDEADBEEF).to_bytes(4, "little")
    assert messages.decode_asset(frame) == (0xDEADBEEF, b"glTF...")
    conn = connected(Role.VIEWER)
    events, _ = request(conn, {"op": "get_asset", "id": 4, "twin": "shop", "path": "tiles/r0.glb"})
    assert events == [messages.GetAsset(4, "shop", "tiles/r0.glb")]
    conn.asset(4, b"abc")
    assert conn.data_to_send() == [b"\x01\x04\x00\x00\x00abc"]
    with pytest.raises(ValueError):
        messages.decode_asset(b"\x02\x00")


# Fuzzing: whatever arrives, the protocol answers with well-formed frames and never raises.

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_value = st.recursive(json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                          max_leaves=10)
ops = st.sampled_from(["hello", "subscribe", "unsubscribe", "edit", "presence", "machine_state", "step",
                       "get_asset", "welcome", ""])
client_messages = st.fixed_dictionaries({"op": ops}, optional={
    "id": st.integers(-2, 2**33) | json_leaf, "protocol": st.sampled_from([1, 2, "1"]), "token": json_value,
    "twin": st.sampled_from(["shop", "private", "none"]) | json_leaf, "base_revision": st.integers(-1, 5) | json_leaf,
    "patch": json_value | st.lists(st.fixed_dictionaries({"op": st.sampled_from(["add", "remove", "move", "test"]),
                                                           "path": st.sampled_from(["", "/layouts/-", "/machines/0/pose",
                                                                                    "/x"])}, optional={"value": json_value, "from": st.text(max_size=4)})),
    "pose": json_value | st.just(POSE), "mode": json_value, "machine": json_value, "properties": json_value,
    "procedure": json_value, "step": json_value, "done": json_value, "path": json_value})


def _check_outgoing(conn: Connection):
    for frame in conn.data_to_send():
        assert isinstance(frame, str)
        reply = json.loads(frame)
        assert reply["op"] == "error" and isinstance(reply["code"], str) and reply["message"]
    for event in conn.events_received():
        assert isinstance(event, (messages.Hello, messages.Subscribe, messages.Unsubscribe, messages.Edit,
                                  messages.Presence, messages.MachineState, messages.Step, messages.GetAsset,
                                  messages.Close))
        if isinstance(event, messages.Edit):
            assert conn.roles[event.twin] >= Role.ARTISAN


@settings(max_examples=600, deadline=None)
@given(role=st.sampled_from([None, Role.VIEWER, Role.ARTISAN, Role.PLANNER, Role.ADMIN]),
       batch=st.lists(client_messages | st.text(max_size=40) | st.binary(max_size=8), max_size=8))
def test_fuzz_structured_messages_never_break_the_protocol(role, batch):
    conn = connected(role)
    for index, item in enumerate(batch):
        if isinstance(item, bytes):
            conn.receive_bytes(item, 1.0 + index)
        else:
            conn.receive_text(item if isinstance(item, str) else json.dumps(item), 1.0 + index)
        _check_outgoing(conn)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text_before_hello(text):
    conn = Connection(client=1)
    conn.receive_text(text, 0.0)
    _check_outgoing(conn)
    assert conn.grant is None
