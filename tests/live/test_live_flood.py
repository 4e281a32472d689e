"""A flood through a real Mosquitto (50,000 MQTT messages from `mosquitto_pub -l`, which sends well
over the issue's 10,000/s) is throttled: a viewer gets at most a frame per live interval, ending with
the newest value, the machine's state stays the payload's properties, and the other twin is served."""
from __future__ import annotations

import asyncio
import json
import shutil
import time

import pytest
from live_harness import LiveHarness, live, live_document, machine_properties

from twin.serve.access import Role
from twin.serve.server import MACHINE_STATES_INTERVAL_S

FLOOD = 50_000
MOSQUITTO_PUB = shutil.which("mosquitto_pub")


@pytest.mark.skipif(MOSQUITTO_PUB is None, reason="mosquitto_pub is not installed (scripts/setup.sh --test "
                                                   "installs mosquitto-clients)")
def test_a_flood_is_throttled_to_the_newest_value_per_interval_and_serving_goes_on(
        tmp_path, write_twin_folder, mosquitto):
    harness = LiveHarness(tmp_path, write_twin_folder, live_document(mosquitto.port))

    async def scenario():
        async with harness.running(), harness.client(Role.VIEWER) as viewer, harness.client(twin="other") as other:
            await mosquitto.publish("fablab/printer-1/state", json.dumps({"seq": -1, "nozzle_temp": 20.0}))
            await viewer.wait(live("printer-1", "seq", -1))
            lines = "".join(json.dumps({"seq": seq, "nozzle_temp": 210.0}) + "\n" for seq in range(FLOOD)).encode()
            started = time.monotonic()
            sender = await asyncio.create_subprocess_exec(
                MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(mosquitto.port), "-t", "fablab/printer-1/state", "-l",
                stdin=asyncio.subprocess.PIPE)
            await sender.communicate(lines)
            sent_s = time.monotonic() - started
            assert (await other.request({"op": "unsubscribe", "twin": "other"}))["op"] == "ack"  # served meanwhile
            frames, merged = 0, {}
            while merged.get("seq", {}).get("value") != FLOOD - 1:
                merged.update(machine_properties(await viewer.wait(lambda m: machine_properties(m, "printer-1")),
                                                 "printer-1"))
                frames += 1
            print(f"flood: {FLOOD:,} messages sent in {sent_s:.2f} s ({FLOOD / sent_s:,.0f}/s), {frames} frames")
            return merged, time.monotonic() - started, frames, harness.server.bridges["shop"][0].stats

    try:
        merged, seconds, frames, stats = asyncio.run(scenario())
    finally:
        harness.close()
    assert set(merged) == {"seq", "nozzle_temp"} and merged["nozzle_temp"]["quality"] == "good"
    assert stats.messages > FLOOD / 10, "the bridge read the flood (aiomqtt drops only past its bounded queue)"
    assert frames <= seconds / MACHINE_STATES_INTERVAL_S + 5, f"{frames} frames in {seconds:.1f} s: not throttled"
    assert frames < FLOOD / 10
