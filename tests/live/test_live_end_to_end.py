"""Live state end to end with real components started here on loopback: Debian's Mosquitto and
asyncua's own OPC UA server; values reach a viewer subscribed over a real websocket of `twin serve`."""
from __future__ import annotations

import argparse
import asyncio
import json
import time

from live_harness import TIMEOUT, LiveHarness, free_port, live, live_document, machine_properties, wait_merged

from twin.cli import sources as sources_cli
from twin.serve.access import Role


def test_mqtt_values_reach_a_viewer_malformed_ones_never_and_a_broker_restart_goes_offline_then_good(
        tmp_path, write_twin_folder, mosquitto):
    harness = LiveHarness(tmp_path, write_twin_folder, live_document(mosquitto.port))

    async def scenario():
        # Retained before the server starts: the bridge gets it on subscribing.
        await mosquitto.publish("fablab/printer-1/state", json.dumps({"nozzle_temp": 212.5, "job": "benchy"}),
                                retain=True)
        async with harness.running(), harness.client(Role.VIEWER) as viewer, harness.client(twin="other") as other:
            seen = [await viewer.wait(live("printer-1", "nozzle_temp", 212.5))]
            printer = machine_properties(seen[0], "printer-1")
            assert printer["job"]["value"] == "benchy" and isinstance(printer["nozzle_temp"]["source_time_s"], float)

            # A wildcard topic and a property read by JSON pointer, with its unit.
            await mosquitto.publish("fablab/laser/status", json.dumps({"power_w": 40, "ignored": 1}))
            power = await viewer.wait(live("laser-1", "power", 40))
            laser = machine_properties(power, "laser-1")
            assert laser["power"]["unit"] == "W" and "ignored" not in laser

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
        printer = [machine_properties(m, "printer-1") for m in seen]
        assert not any("label" in properties for properties in printer)
        assert not any(properties.get("nozzle_temp", {}).get("value") == 999 for properties in printer)

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


def test_opcua_changes_reach_a_viewer_by_subscription_a_lost_server_shows_offline_and_its_return_good(tmp_path, write_twin_folder):
    port = free_port()
    harness = LiveHarness(tmp_path, write_twin_folder, live_document(opcua_url=f"opc.tcp://127.0.0.1:{port}/twin-test/"))

    async def scenario():
        server, speed, state = await opcua_server(port)
        async with server, harness.running(), harness.client(Role.VIEWER) as viewer:
            first = await viewer.wait(live("cnc-1", "spindle_rpm", 0.0))
            assert machine_properties(first, "cnc-1")["spindle_rpm"]["unit"] == "rpm"
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

            # The server comes back (a restarted machine, fresh values): the bridge resubscribes by itself.
            restarted, speed, _ = await opcua_server(port)
            async with restarted:
                await wait_merged(viewer, "cnc-1", spindle_rpm=(0.0, "good"), status=("idle", "good"))
                await speed.write_value(500.0)
                await wait_merged(viewer, "cnc-1", spindle_rpm=(500.0, "good"))
            assert bridge.stats.connects >= 2

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
