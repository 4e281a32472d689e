"""Live state end to end with real components started here on loopback: Debian's Mosquitto and
asyncua's own OPC UA server; values reach a viewer subscribed over a real websocket of `twin serve`."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import aiomqtt
import pytest
from protocol_client import Client
from twin_folder import sample_document
from websockets.asyncio.client import connect

from twin.cli import sources as sources_cli
from twin.live.bridge import Backoff
from twin.serve.access import Role, new_token
from twin.serve.run import run_server
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore

TIMEOUT = 10
FAST_RETRY = Backoff(first_s=0.1, max_s=0.5)
MOSQUITTO = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if Path(p).is_file()), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mosquitto:
    """A real broker on 127.0.0.1:port, stopped and started again at will."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(TIMEOUT)
            self.process = None

    async def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        async with aiomqtt.Client("127.0.0.1", self.port) as client:
            await client.publish(topic, payload, qos=1, retain=retain)


@pytest.fixture
def mosquitto(tmp_path):
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh --test installs it)")
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


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
    def __init__(self, tmp_path: Path, write_twin_folder, document: dict):
        folder = write_twin_folder(tmp_path / "shop", document=document)
        self.other = write_twin_folder(tmp_path / "other")  # a twin without sources, served beside it
        self.store = SqliteStore(tmp_path / "twin.db")
        self.server = TwinServer([folder, self.other], self.store, published=("shop", "other"))
        self.server.live_backoff = FAST_RETRY
        self.tokens = {role: new_token() for role in (Role.VIEWER, Role.ARTISAN)}
        for role, token in self.tokens.items():
            self.store.add_token(token, role.label, role, "*")

    @contextlib.asynccontextmanager
    async def running(self):
        ready = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        task = asyncio.create_task(run_server(self.server, "127.0.0.1", 0, on_ready=ready.set_result, stop=stop))
        info = await asyncio.wait_for(ready, TIMEOUT)
        self.ws_url = info.url.replace("http://", "ws://") + "ws"
        try:
            yield self
        finally:
            stop.set()
            await task
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


def live(machine: str, prop: str, value=None, quality: str = "good"):
    """Matches a pushed machine_state that carries `prop` of `machine` with `value` (any if None) and `quality`."""
    def match(message) -> bool:
        if not (isinstance(message, dict) and message.get("op") == "machine_state" and message["machine"] == machine):
            return False
        got = message["properties"].get(prop)
        return (isinstance(got, dict) and got.get("quality") == quality
                and (value is None or got.get("value") == value))
    return match


async def wait_merged(client: Client, machine: str, **expected) -> dict:
    """Wait until the machine's state merged over the pushed messages has each `name=(value, quality)`."""
    merged = client.__dict__.setdefault("merged", {}).setdefault(machine, {})

    def match(message) -> bool:
        if isinstance(message, dict) and message.get("op") == "machine_state" and message["machine"] == machine:
            merged.update(message["properties"])
        return all(name in merged and (merged[name]["value"], merged[name]["quality"]) == want
                   for name, want in expected.items())

    for message in list(client.received):  # what already arrived counts too
        match(message)
    await client.wait(match)
    return merged


def test_mqtt_values_reach_a_viewer_malformed_ones_never_and_a_broker_restart_goes_offline_then_good(
        tmp_path, write_twin_folder, mosquitto):
    harness = LiveHarness(tmp_path, write_twin_folder, live_document(mosquitto.port))

    async def scenario():
        # Retained before the server starts: the bridge gets it on subscribing.
        await mosquitto.publish("fablab/printer-1/state", json.dumps({"nozzle_temp": 212.5, "job": "benchy"}),
                                retain=True)
        async with harness.running(), harness.client(Role.VIEWER) as viewer, harness.client(twin="other") as other:
            seen = [await viewer.wait(live("printer-1", "nozzle_temp", 212.5))]
            assert seen[0]["client"] == 0 and seen[0]["properties"]["job"]["value"] == "benchy"
            assert isinstance(seen[0]["properties"]["nozzle_temp"]["source_time_s"], float)

            # A wildcard topic and a property read by JSON pointer, with its unit.
            await mosquitto.publish("fablab/laser/status", json.dumps({"power_w": 40, "ignored": 1}))
            power = await viewer.wait(live("laser-1", "power", 40))
            assert power["properties"]["power"]["unit"] == "W" and "ignored" not in power["properties"]

            # Malformed payloads are counted and ignored; a lone surrogate or a huge integer never arrives.
            bridge = harness.server.bridges["shop"][0]
            for payload in (b"not json", b'{"nozzle_temp": NaN}', b'{"label": "\\ud800"}',
                            b'{"nozzle_temp": 9007199254740993}', b"[1, 2]"):
                await mosquitto.publish("fablab/printer-1/state", payload)
            await mosquitto.publish("fablab/printer-1/state", b'{"label": "\\ud800", "nozzle_temp": 214}')
            seen.append(await viewer.wait(live("printer-1", "nozzle_temp", 214)))
            assert bridge.stats.malformed == 6

            # Visitors cannot send machine state (the protocol refuses before the hub).
            async with harness.client() as visitor:
                refused = await visitor.request({"op": "machine_state", "twin": "shop", "machine": "printer-1",
                                                 "properties": {"nozzle_temp": 999}})
                assert refused["op"] == "error" and refused["code"] == "forbidden"

            # The broker goes away: the viewer sees the last values offline; it comes back: good again.
            mosquitto.stop()
            seen.append(await viewer.wait(live("printer-1", "nozzle_temp", 214, quality="offline")))
            # The other twin is served as before while the source is down.
            assert (await other.request({"op": "unsubscribe", "twin": "other"}))["op"] == "ack"
            mosquitto.start()
            async with asyncio.timeout(TIMEOUT):
                while bridge.stats.connects < 2:
                    await asyncio.sleep(0.05)
            await mosquitto.publish("fablab/printer-1/state", json.dumps({"nozzle_temp": 220}))
            seen.append(await viewer.wait(live("printer-1", "nozzle_temp", 220)))
            seen += viewer.received
        assert not any("label" in m.get("properties", {}) for m in seen if isinstance(m, dict))
        assert not any(m.get("properties", {}).get("nozzle_temp", {}).get("value") == 999
                       for m in seen if isinstance(m, dict))

    try:
        asyncio.run(scenario())
    finally:
        harness.close()


async def opcua_server(port: int):
    from asyncua import Server, ua

    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/twin-test/")
    index = await server.register_namespace("urn:twin:test")
    assert index == 2
    machine = await server.nodes.objects.add_object(index, "Mill")
    speed = await machine.add_variable(ua.NodeId("Spindle.Speed", index), "Spindle.Speed", 0.0)
    state = await machine.add_variable(ua.NodeId("Machine.State", index), "Machine.State", "idle")
    return server, speed, state


def test_opcua_changes_reach_a_viewer_by_subscription_and_a_lost_server_shows_offline(tmp_path, write_twin_folder):
    port = free_port()
    harness = LiveHarness(tmp_path, write_twin_folder, live_document(opcua_url=f"opc.tcp://127.0.0.1:{port}/twin-test/"))

    async def scenario():
        server, speed, state = await opcua_server(port)
        async with server:
            async with harness.running(), harness.client(Role.VIEWER) as viewer:
                first = await viewer.wait(live("cnc-1", "spindle_rpm", 0.0))
                assert first["properties"]["spindle_rpm"]["unit"] == "rpm"
                await speed.write_value(12000.0)  # the test's own server changes; the bridge only reads
                await state.write_value("running")
                changed = await wait_merged(viewer, "cnc-1", spindle_rpm=(12000.0, "good"), status=("running", "good"))
                assert abs(changed["spindle_rpm"]["source_time_s"] - time.time()) < 60
                # Invalid UTF-8 on the wire (asyncua sends "\udcff" as the byte 0xff and decodes it back to
                # that lone surrogate, as it would from a faulty device) never reaches viewers.
                await state.write_value("\udcff")
                await speed.write_value(11000.0)
                await wait_merged(viewer, "cnc-1", spindle_rpm=(11000.0, "good"))
                bridge = harness.server.bridges["shop"][0]
                async with asyncio.timeout(TIMEOUT):
                    while bridge.stats.malformed < 1:
                        await asyncio.sleep(0.05)
                await server.stop()
                final = await wait_merged(viewer, "cnc-1", spindle_rpm=(11000.0, "offline"),
                                          status=("running", "offline"))
                assert final["status"]["value"] == "running"  # the lone surrogate never replaced it

    try:
        asyncio.run(scenario())
    finally:
        harness.close()


def test_sources_check_prints_what_arrives_per_machine(tmp_path, write_twin_folder, mosquitto, capsys):
    async def publish_retained():
        await mosquitto.publish("fablab/printer-1/state", json.dumps({"nozzle_temp": 205}), retain=True)
        await mosquitto.publish("fablab/laser/x", b"not json", retain=True)

    asyncio.run(publish_retained())
    folder = write_twin_folder(tmp_path / "shop", document=live_document(mosquitto.port))
    # The command module itself (in process: the test needs no other command of `twin` to import).
    parser = argparse.ArgumentParser()
    sources_cli.add_arguments(parser)
    assert sources_cli.run(parser.parse_args(["check", str(folder), "--seconds", "1.5"])) == 0
    printed = capsys.readouterr().out
    assert "shop-mqtt  printer-1  nozzle_temp = 205  [good]" in printed
    assert "connected; 2 message(s), 1 malformed" in printed
    assert "no values arrived for: laser-1" in printed
