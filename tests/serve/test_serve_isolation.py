"""Isolation as an invariant: no message from one client can close, stall or corrupt another's session.

Hostile clients of every role send arbitrary ops with arbitrary JSON (full Unicode with lone
surrogates, huge numbers, NaN/Infinity literals, deep nesting, duplicate keys, broken text) into
the real shell (`TwinServer.handle`), hub, protocol, fan-out and a real SQLite store, with no
sockets. After every message, well-behaved watchers (a visitor and a viewer, subscribed from the
start, and a fresh subscriber now and then) must still hold the twin exactly as the hub has it:
every frame they got encodes as UTF-8, parses, follows the protocol schema, and their snapshot plus
deltas in revision order equal the head. The default run's budget is small; `pytest -m fuzz`
sends over 10^5 messages (about 10 minutes).
"""
from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import jsonpatch
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twin_folder import write_twin_folder

from twin.serve import access, protocol
from twin.serve.access import ALL_TWINS, Grant, Role
from twin.serve.fanout import ClientQueue
from twin.serve.messages import PROTOCOL_SCHEMA_PATH
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore

_SCHEMA = json.loads(PROTOCOL_SCHEMA_PATH.read_text())
SERVER_MESSAGES = jsonschema.Draft202012Validator({**_SCHEMA, "anyOf": [{"$ref": "#/$defs/server_message"}]})
ROLES = [None, Role.VIEWER, Role.ARTISAN, Role.PLANNER, Role.ADMIN]
SECONDS_PER_MESSAGE = 0.05  # the clients' clock: 20 messages a second each, under the rate limit
LIVE_INTERVAL_S = 0.002  # the throttle's interval here: live frames pass within a short sleep
LATE_WATCHERS = 4  # late subscribers checked at once (the oldest stops being checked)


class FakeSession:
    """What the shell needs of a session, without a socket: its frames land in a real ClientQueue."""

    def __init__(self, server: TwinServer, client: int):
        self.id = client
        self.connection = protocol.Connection(client, server.limits)
        self.fanout = server.fanout
        self.queue = ClientQueue(server.queue_limit)
        self.fanout.attach(client, self.queue)
        self.closed: tuple[int, str] | None = None

    def flush(self) -> None:
        for frame in self.connection.data_to_send():
            self.fanout.send(self.id, frame)

    async def close(self, code: int, reason: str) -> None:
        self.flush()
        self.closed = (code, reason)
        self.fanout.detach(self.id)


class Watcher:
    """A well-behaved subscriber that checks everything it receives and keeps its own copy of the twin."""

    def __init__(self, session: FakeSession, role: Role):
        self.session, self.role = session, role
        self.revision: int | None = None
        self.document: dict | None = None

    def take(self) -> None:
        for frame in self.session.queue.pop_all():
            assert isinstance(frame, str), "a watcher asked for no asset"
            frame.encode("utf-8")  # raises if anything unsendable got through
            message = json.loads(frame)
            SERVER_MESSAGES.validate(message)
            assert message["op"] != "error", f"the watcher was told off for someone else's message: {message}"
            if message["op"] == "snapshot":
                assert self.revision is None or message["revision"] >= self.revision
                self.revision, self.document = message["revision"], message["document"]
            elif message["op"] == "delta":
                assert message["revision"] == self.revision + 1, "deltas arrive in revision order, none missing"
                self.document = jsonpatch.apply_patch(self.document, message["patch"])
                self.revision = message["revision"]

    def check(self, server: TwinServer) -> None:
        self.take()
        assert self.session.closed is None and self.session.queue.closed_reason is None
        revision, document = server.hub.heads["shop"]
        document = access.served_view(document, self.role)
        assert (self.revision, self.document) == (revision, document)


class Fuzz:
    """One server, hostile clients and watchers; counts what it sent."""

    def __init__(self, root: Path):
        folder = write_twin_folder(root / "shop", tiles=1)
        self.store = SqliteStore(root / "twin.db", durability="process")
        self.tokens = {}
        for role in ROLES[1:]:
            self.tokens[role] = f"token-{role.label}"
            self.store.add_token(self.tokens[role], f"{role.label}-1", role, ALL_TWINS)
        self.server = TwinServer([folder], self.store, published=("shop",))
        self.sessions = 0
        self.hostiles: dict[Role | None, FakeSession] = {}
        self.watchers: list[Watcher] = []
        self.now = 0.0
        self.sent = 0

    def close(self):
        self.server.close()
        self.store.close()

    async def session(self, role: Role | None) -> FakeSession:
        self.sessions += 1
        session = FakeSession(self.server, self.sessions)
        hello = {"op": "hello", "id": 1, "protocol": 1}
        if role is not None:
            hello["token"] = self.tokens[role]
        await self.deliver(session, json.dumps(hello))
        return session

    async def watch(self, role: Role) -> Watcher:
        session = await self.session(None if role is Role.VISITOR else role)
        await self.deliver(session, json.dumps({"op": "subscribe", "id": 2, "twin": "shop"}))
        watcher = Watcher(session, role)
        watcher.take()
        assert watcher.revision is not None, "a subscriber gets its snapshot at once"
        self.watchers.append(watcher)
        return watcher

    async def deliver(self, session: FakeSession, text: str) -> None:
        self.now += SECONDS_PER_MESSAGE
        session.connection.receive_text(text, self.now)
        for event in session.connection.events_received():
            await self.server.handle(session, event)
            session.flush()
        session.flush()

    async def hostile(self, role: Role | None, text: str) -> None:
        sender = self.hostiles.get(role)
        if sender is None:
            sender = self.hostiles[role] = await self.session(role)
            await self.deliver(sender, json.dumps({"op": "subscribe", "id": 2, "twin": "shop"}))
        await self.deliver(sender, text)
        sender.queue.pop_all()  # hostile clients read their answers too (or their queue would overflow)
        self.sent += 1
        for watcher in self.watchers:
            watcher.check(self.server)


# What hostile clients send: any op, fields of any JSON, text that no socket can carry, raw junk.
LONE_SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\ud83d"])
TEXT = st.text(max_size=12) | LONE_SURROGATES | st.sampled_from(["printer-1", "load-filament", "heat", "shop", ""])
LEAF = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**53 - 2, max_value=2**80)
        | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
VALUE = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                     max_leaves=16)
POSE = st.fixed_dictionaries({"position": st.lists(LEAF, min_size=3, max_size=3),
                              "quaternion": st.lists(LEAF, min_size=4, max_size=4)}) | VALUE
PATCH = st.lists(st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]),
     "path": st.sampled_from(["", "/name", "/machines/0/name", "/machines/0/pose/translation", "/tours/1/public",
                              "/measurements/-", "/layouts/-", "/procedures/0/steps/0/text/it", "/x"]) | TEXT},
    optional={"value": VALUE, "from": st.sampled_from(["/name", "/machines/0", "/tours/0"]) | TEXT}), max_size=3)
OPS = ["hello", "subscribe", "unsubscribe", "edit", "presence", "machine_state", "step", "get_asset"]
MESSAGE = st.fixed_dictionaries({"op": st.sampled_from(OPS) | TEXT}, optional={
    "id": st.integers(-1, 2**33) | LEAF, "protocol": st.sampled_from([1, True, 1.0, "1"]), "token": LEAF,
    "twin": st.sampled_from(["shop"]) | TEXT, "base_revision": st.integers(0, 8) | LEAF, "patch": PATCH | VALUE,
    "pose": POSE, "mode": TEXT | VALUE, "machine": st.sampled_from(["printer-1"]) | TEXT,
    "properties": st.dictionaries(TEXT, VALUE, max_size=4) | VALUE, "procedure": TEXT, "step": LEAF,
    "done": LEAF, "path": TEXT})


def _as_text(message) -> str:
    return json.dumps(message)  # Python escapes lone surrogates as \udxxx: valid JSON that decodes to them


RAW = st.sampled_from([
    '{"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"t": NaN}}',
    '{"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"t": Infinity}}',
    '{"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"t": 1e999}}',
    '{"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"a": 1, "a": "\\ud800"}}',
    '{"op": "edit", "twin": "shop", "base_revision": 0, "patch": [], "patch": [{"op": "remove", "path": ""}]}',
    '{"op": "presence", "twin": "shop", "mode": "' + "[" * 5000 + '"}',
    '[' * 100_000 + ']' * 100_000, '{"op": "hello", "id": 1, "protocol": 1, "token": "\\udfff"}', '{', '', 'null',
    '{"op": "machine_state", "twin": "shop", "machine": "printer-1", "properties": {"n": ' + "9" * 5000 + '}}',
])
HOSTILE_MESSAGE = st.tuples(st.sampled_from(ROLES), MESSAGE.map(_as_text) | RAW | st.text(max_size=30))


async def _run(root: Path, batch, counter: list[int]) -> None:
    fuzz = Fuzz(root)
    try:
        fuzz.server.start_live(LIVE_INTERVAL_S, LIVE_INTERVAL_S)
        await fuzz.watch(Role.VISITOR)
        await fuzz.watch(Role.VIEWER)
        for index, (role, text) in enumerate(batch):
            await fuzz.hostile(role, text)
            if index % 7 == 6:
                await fuzz.watch(Role.VISITOR if index % 2 else Role.VIEWER)  # a late subscriber catches up
                if len(fuzz.watchers) > 2 + LATE_WATCHERS:
                    del fuzz.watchers[2]
            if index % 5 == 4:
                await asyncio.sleep(2 * LIVE_INTERVAL_S)  # throttled presence and machine states come through
        await asyncio.sleep(2 * LIVE_INTERVAL_S)
        for watcher in fuzz.watchers:
            watcher.check(fuzz.server)
        counter[0] += fuzz.sent
    finally:
        fuzz.close()


def _fuzz(tmp_path_factory, examples: int, min_messages: int, max_messages: int) -> int:
    """Run `examples` sessions of `min_messages` to `max_messages` hostile messages; the number sent."""
    counter = [0]

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(batch=st.lists(HOSTILE_MESSAGE, min_size=min_messages, max_size=max_messages))
    def one(batch):
        asyncio.run(_run(tmp_path_factory.mktemp("fuzz"), batch, counter))

    one()
    return counter[0]


def test_hostile_messages_never_disturb_well_behaved_subscribers(tmp_path_factory):
    sent = _fuzz(tmp_path_factory, examples=150, min_messages=1, max_messages=20)
    assert sent >= 150


@pytest.mark.fuzz
def test_isolation_holds_over_a_hundred_thousand_hostile_messages(tmp_path_factory):
    sent = _fuzz(tmp_path_factory, examples=10_000, min_messages=10, max_messages=14)
    print(f"isolation fuzz: {sent} hostile messages, 0 crashes, 0 disturbed sessions")
    assert sent >= 100_000


def test_the_watcher_notices_a_disturbed_session(tmp_path_factory):
    """The invariant's own check can fail: a frame with a lone surrogate reaching a watcher is caught."""
    async def corrupt():
        fuzz = Fuzz(tmp_path_factory.mktemp("corrupt"))
        try:
            fuzz.server.start_live()
            watcher = await fuzz.watch(Role.VIEWER)
            fuzz.server.fanout.publish("shop", '{"op": "presence", "twin": "shop", "mode": "\ud800"}')
            with pytest.raises(UnicodeEncodeError):
                watcher.check(fuzz.server)
            stale = copy.deepcopy(watcher.document)
            fuzz.server.hub.heads["shop"] = (watcher.revision + 1, stale)
            with pytest.raises(AssertionError):
                watcher.check(fuzz.server)
        finally:
            fuzz.close()
    asyncio.run(corrupt())


def test_a_grant_sees_what_it_may(tmp_path_factory):
    """The fuzz's tokens are real store tokens: each role is welcomed with its own rights."""
    async def roles():
        fuzz = Fuzz(tmp_path_factory.mktemp("roles"))
        try:
            fuzz.server.start_live()
            for role in ROLES[1:]:
                session = await fuzz.session(role)
                assert session.connection.grant == Grant(f"{role.label}-1", role, ALL_TWINS)
        finally:
            fuzz.close()
    asyncio.run(roles())
