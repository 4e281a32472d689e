"""Live state with real components on loopback, shared by the live tests: Debian's Mosquitto,
a twin server with live sources, and viewers that wait for what arrives."""
from __future__ import annotations

import asyncio
import contextlib
import copy
from pathlib import Path

import aiomqtt
from loopback_server import serving
from protocol_client import Client
from twin_folder import sample_document
from websockets.asyncio.client import connect

from twin.live.bridge import Backoff
from twin.serve.access import Role, new_token
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore
from twin.simulator.broker import MosquittoBroker, free_port  # noqa: F401 (free_port: for the tests)

TIMEOUT = 10
FAST_RETRY = Backoff(first_s=0.1, max_s=0.5)


class Mosquitto(MosquittoBroker):
    """The simulator's broker, with a way for tests to publish as a machine would."""

    async def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        async with aiomqtt.Client("127.0.0.1", self.port) as client:
            await client.publish(topic, payload, qos=1, retain=retain)


def live_document(mqtt_port: int | None = None, opcua_url: str | None = None) -> dict:
    document = sample_document("shop")
    laser = copy.deepcopy(document["machines"][0])
    laser.update(id="laser-1", name="Laser", kind="laser_cutter", node="laser")
    mill = copy.deepcopy(document["machines"][0])
    mill.update(id="cnc-1", name="Mill", kind="cnc_mill", node="mill")
    document["machines"] += [laser, mill]
    document["sources"] = []
    if mqtt_port is not None:
        document["sources"].append(
            {"id": "shop-mqtt", "kind": "mqtt", "url": f"mqtt://127.0.0.1:{mqtt_port}", "machines": {
                "printer-1": {"topic": "fablab/printer-1/state"},
                "laser-1": {"topic": "fablab/laser/+", "properties": {"power": {"path": "/power_w", "unit": "W"}}}}})
    if opcua_url is not None:
        document["sources"].append({"id": "mill", "kind": "opcua", "url": opcua_url, "machines": {
            "cnc-1": {"nodes": {"spindle_rpm": {"node": "ns=2;s=Spindle.Speed", "unit": "rpm"},
                                "status": "ns=2;s=Machine.State"}}}})
    return document


class LiveHarness:
    def __init__(self, tmp_path: Path, write_twin_folder, document: dict, **server_options):
        folder = write_twin_folder(tmp_path / "shop", document=document)
        self.other = write_twin_folder(tmp_path / "other")  # a twin without sources, served beside it
        self.store = SqliteStore(tmp_path / "twin.db")
        self.server = TwinServer([folder, self.other], self.store, published=("shop", "other"), **server_options)
        self.server.live_backoff = FAST_RETRY
        self.tokens = {role: new_token() for role in (Role.VIEWER, Role.ARTISAN)}
        for role, token in self.tokens.items():
            self.store.add_token(token, role.label, role, "*")

    @contextlib.asynccontextmanager
    async def running(self):
        async with serving(self.server) as info:
            self.ws_url = info.url.replace("http://", "ws://") + "ws"
            yield self
        assert not self.server._bridge_tasks  # stopped with the server

    @contextlib.asynccontextmanager
    async def client(self, role: Role | None = None, twin: str = "shop"):
        async with connect(self.ws_url) as socket:
            client = Client(socket)
            hello = {"op": "hello", "protocol": 1, **({"token": self.tokens[role]} if role else {})}
            assert (await client.request(hello))["op"] == "welcome"
            assert (await client.request({"op": "subscribe", "twin": twin}))["op"] == "snapshot"
            yield client

    def close(self):
        self.server.close()
        self.store.close()


def machine_properties(message, machine: str) -> dict:
    """The properties of `machine` that a pushed message carries (none unless it is a machine_states)."""
    if isinstance(message, dict) and message.get("op") == "machine_states":
        return message["machines"].get(machine, {})
    return {}


def live(machine: str, prop: str, value=None, quality: str = "good"):
    """Matches a pushed machine_states that carries `prop` of `machine` with `value` (any if None) and `quality`."""
    def match(message) -> bool:
        got = machine_properties(message, machine).get(prop)
        return (isinstance(got, dict) and got.get("quality") == quality
                and (value is None or got.get("value") == value))
    return match


async def wait_merged(client: Client, machine: str, **expected) -> dict:
    """Wait until the machine's state merged over the pushed messages has each `name=(value, quality)`.

    Each machine_states message of `machine` is merged once, in arrival order, and consumed: one
    merged twice would bring back older values over newer ones and could match a past state.
    """
    merged = client.__dict__.setdefault("merged", {}).setdefault(machine, {})

    def reached() -> bool:
        return all(name in merged and (merged[name]["value"], merged[name]["quality"]) == want
                   for name, want in expected.items())

    for message in [m for m in client.received if machine_properties(m, machine)]:  # what already arrived
        client.received.remove(message)
        merged.update(machine_properties(message, machine))
    async with asyncio.timeout(TIMEOUT):
        while not reached():
            message = await client.wait(lambda m: bool(machine_properties(m, machine)))
            merged.update(machine_properties(message, machine))
    return merged
