"""Fuzzing a live server: whatever a client sends, it answers with well-formed messages and stays usable."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_serve_isolation import HOSTILE_MESSAGE
from websockets.sync.client import connect

from twin.serve.access import ALL_TWINS, Role, new_token
from twin.serve.run import run_server
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore

TIMEOUT = 10


@pytest.fixture(scope="module")
def live(tmp_path_factory, write_twin_folder):
    """A server in a thread of its own: (WebSocket URL, admin token)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    store = SqliteStore(tmp / "twin.db", durability="process")
    token = new_token()
    store.add_token(token, "fuzzer", Role.ADMIN, ALL_TWINS)
    server = TwinServer([write_twin_folder(tmp / "shop")], store, published=("shop",))
    loop = asyncio.new_event_loop()
    ready, stop = threading.Event(), None
    info = {}

    def serve():
        nonlocal stop
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()

        def on_ready(serve_info):
            info["url"] = serve_info.url
            ready.set()
        loop.run_until_complete(run_server(server, "127.0.0.1", 0, on_ready=on_ready, stop=stop))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(TIMEOUT)
    yield info["url"].replace("http://", "ws://") + "ws", token
    loop.call_soon_threadsafe(stop.set)
    thread.join(TIMEOUT)
    server.close()
    store.close()


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**33) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8)
message = st.fixed_dictionaries(
    {"op": st.sampled_from(["hello", "subscribe", "unsubscribe", "edit", "presence", "machine_state", "step",
                            "get_asset", "snapshot", "x"])},
    optional={"id": st.integers(-1, 2**32) | json_value, "twin": st.sampled_from(["shop", "nope"]) | json_value,
              "protocol": st.sampled_from([1, 2]), "token": json_value, "base_revision": json_value,
              "patch": json_value, "pose": json_value, "mode": json_value, "machine": json_value,
              "properties": json_value, "procedure": json_value, "step": json_value, "done": json_value,
              "path": st.sampled_from(["twin.glb", "../twin.json", "tiles/r0.glb"]) | json_value})
frames = st.lists(message.map(json.dumps) | st.text(max_size=30) | st.binary(max_size=12), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=frames)
def test_fuzzed_frames_get_well_formed_answers_and_the_connection_stays_usable(live, batch):
    url, token = live
    with connect(url, open_timeout=TIMEOUT, close_timeout=1) as socket:
        socket.send(json.dumps({"op": "hello", "id": 1, "protocol": 1, "token": token}))
        for frame in batch:
            socket.send(frame)
        # Whatever came before, a fresh hello and subscribe still work.
        socket.send(json.dumps({"op": "hello", "id": 4000000001, "protocol": 1, "token": token}))
        socket.send(json.dumps({"op": "subscribe", "id": 4000000002, "twin": "shop"}))
        while True:
            received = socket.recv(timeout=TIMEOUT)
            if isinstance(received, bytes):
                assert received[0] == 0x01 and len(received) >= 5
                continue
            answer = json.loads(received)
            assert isinstance(answer, dict) and isinstance(answer.get("op"), str)
            if answer["op"] == "error":
                assert answer["code"] and answer["message"]
            if answer.get("id") == 4000000002:
                assert answer["op"] == "snapshot" and answer["twin"] == "shop"
                break


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(HOSTILE_MESSAGE, min_size=1, max_size=15))
def test_hostile_frames_over_websockets_leave_a_visitor_connected_and_correct(live, batch):
    """The live-server form of the isolation invariant (tests/test_serve_isolation.py)."""
    url, token = live
    with connect(url, open_timeout=TIMEOUT, close_timeout=1) as visitor, \
            connect(url, open_timeout=TIMEOUT, close_timeout=1) as hostile:
        visitor.send(json.dumps({"op": "hello", "id": 1, "protocol": 1}))
        visitor.send(json.dumps({"op": "subscribe", "id": 2, "twin": "shop"}))
        hostile.send(json.dumps({"op": "hello", "id": 1, "protocol": 1, "token": token}))
        hostile.send(json.dumps({"op": "subscribe", "id": 2, "twin": "shop"}))
        for _, frame in batch:
            hostile.send(frame)
        hostile.send(json.dumps({"op": "hello", "id": 4000000001, "protocol": 1, "token": token}))
        assert _until(hostile, 4000000001)["op"] == "welcome", "the hostile client itself is answered, not closed"
        visitor.send(json.dumps({"op": "subscribe", "id": 4000000002, "twin": "shop"}))
        snapshot = _until(visitor, 4000000002)
        assert snapshot["op"] == "snapshot" and snapshot["role"] == "visitor"
        assert all(t["public"] for t in snapshot["document"]["tours"])


def _until(socket, request_id: int) -> dict:
    """Read frames (each must be a well-formed message) until the answer to `request_id`."""
    while True:
        received = socket.recv(timeout=TIMEOUT)
        if isinstance(received, bytes):
            continue
        answer = json.loads(received)
        assert isinstance(answer, dict) and isinstance(answer.get("op"), str)
        if answer.get("id") == request_id:
            return answer
