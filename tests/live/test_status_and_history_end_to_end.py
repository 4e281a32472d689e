"""A machine's status from its rules and the history of its values, end to end: values published to
a real Mosquitto reach a viewer with the status they imply, and a visitor's chart asks the server
for their history over a real websocket."""
from __future__ import annotations

import asyncio
import json
import time

from live_harness import LiveHarness, live, live_document, machine_properties, wait_merged

from twin.serve.access import Role


def rules_document(port: int) -> dict:
    document = live_document(port)
    printer = next(m for m in document["machines"] if m["id"] == "printer-1")
    printer["status_rules"] = {"alarm": "nozzle_temp > 265", "running": "state == 'Printing'"}
    return document


def test_status_follows_the_rules_and_a_visitors_chart_gets_the_history(tmp_path, write_twin_folder, mosquitto):
    harness = LiveHarness(tmp_path, write_twin_folder, rules_document(mosquitto.port), history_resolution_s=0.2)
    started_s = time.time()

    async def publish(**values):
        await mosquitto.publish("fablab/printer-1/state", json.dumps(values))

    async def scenario():
        async with harness.running(), harness.client(Role.VIEWER) as viewer, harness.client() as visitor:
            await publish(state="Operational", nozzle_temp=25.0)
            await wait_merged(viewer, "printer-1", status=("idle", "good"))
            await publish(state="Printing", nozzle_temp=210.0)
            await wait_merged(viewer, "printer-1", status=("running", "good"))
            await publish(nozzle_temp=270.0)
            alarm = await viewer.wait(live("printer-1", "status", "alarm"))
            # The value and its consequence together.
            assert machine_properties(alarm, "printer-1")["nozzle_temp"]["value"] == 270.0
            await mosquitto.publish("fablab/laser/status", json.dumps({"power_w": 40}))
            await viewer.wait(live("laser-1", "power", 40))
            await asyncio.sleep(0.6)  # the buckets close and are stored

            chart = await visitor.request({"op": "history", "twin": "shop", "machine": "printer-1",
                                           "property": "nozzle_temp"})
            assert chart["op"] == "history" and chart["to_s"] - chart["from_s"] == 3600
            values = [point[1:] for point in chart["points"]]
            assert all(len(p) == 3 for p in values)
            assert min(low for _, low, _ in values) == 25.0 and max(high for _, _, high in values) == 270.0
            assert all(started_s - 1 <= point[0] <= time.time() for point in chart["points"])
            states = await visitor.request({"op": "history", "twin": "shop", "machine": "printer-1",
                                            "property": "status", "max_points": 10})
            assert [p[1] for p in states["points"]][-1] == "alarm" and len(states["points"][0]) == 2
            power = await visitor.request({"op": "history", "twin": "shop", "machine": "laser-1",
                                           "property": "power", "from_s": started_s - 10, "to_s": time.time() + 1})
            assert power["unit"] == "W" and power["points"][-1][1] == 40

            # A range with nothing in it is empty, not an error; bad requests are refused with a sentence.
            empty = await visitor.request({"op": "history", "twin": "shop", "machine": "printer-1",
                                           "property": "nozzle_temp", "from_s": 0, "to_s": 1000})
            assert empty["points"] == []
            for bad, code in (({"machine": "nope", "property": "x"}, "bad_message"),
                              ({"machine": "printer-1", "property": "x", "max_points": 0}, "bad_message"),
                              ({"machine": "printer-1", "property": "x", "from_s": 10, "to_s": 5}, "bad_message"),
                              ({"machine": "printer-1", "property": "x", "from_s": True}, "bad_message")):
                refused = await visitor.request({"op": "history", "twin": "shop", **bad})
                assert refused["op"] == "error" and refused["code"] == code, refused
            await publish(nozzle_temp=240.0)
            await viewer.wait(live("printer-1", "nozzle_temp", 240.0))
        # Stopped: what was still in an open bucket was stored too.
        kept = harness.store.history("shop", "printer-1", "nozzle_temp", started_s - 1, time.time() + 1, 1000)
        assert [p[1] for p in kept.points][-1] == 240.0

    try:
        asyncio.run(scenario())
    finally:
        harness.close()
