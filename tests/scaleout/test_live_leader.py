"""Two `twin serve` processes with Redis and a twin with a real MQTT source: the source is read by
one process only (its history is stored once), viewers of both get its values, and when a process
is killed -9 the values keep coming to the viewers of the other."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3

import pytest
from live_harness import live_document
from processes import TWIN, TIMEOUT_S, hello, start_serving

from twin.scaleout.cluster import open_store
from twin.serve.access import Role, new_token


async def subscribed(url: str, token: str):
    socket, _ = await hello(url, token)
    await socket.send(json.dumps({"op": "subscribe", "id": 2, "twin": TWIN}))
    return socket


async def until_value(socket, publish, value: float) -> None:
    """Publish `value` until a machine_states frame with it arrives at `socket`."""
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            await publish(value)
            try:
                async with asyncio.timeout(0.5):
                    while True:
                        message = json.loads(await socket.recv())
                        printer = message.get("machines", {}).get("printer-1", {}) if message["op"] == "machine_states" else {}
                        if printer.get("nozzle_temp", {}).get("value") == value:
                            return
            except TimeoutError:
                continue


@pytest.mark.slow
def test_a_live_source_is_read_by_one_process_and_survives_its_kill(tmp_path, write_twin_folder, mosquitto,
                                                                     redis_server):
    folder = write_twin_folder(tmp_path / TWIN, document=live_document(mqtt_port=mosquitto.port))
    db = tmp_path / "twin.db"
    token = new_token()
    store = open_store(str(db), "process")
    store.add_token(token, "viewer", Role.VIEWER, TWIN)
    store.close()
    processes = [start_serving(folder, str(db), tmp_path / f"serve{n}.log", "--fanout", redis_server.url,
                               "--history-resolution", "1") for n in range(2)]
    published = 0

    async def publish(value: float) -> None:
        nonlocal published
        await mosquitto.publish("fablab/printer-1/state", json.dumps({"nozzle_temp": value}))
        published += 1

    async def scenario():
        sockets = [await subscribed(p.url, token) for p in processes]
        for n, socket in enumerate(sockets):
            await until_value(socket, publish, 100.0 + n)  # the leader's values reach both processes' viewers
        for value in range(20):
            await publish(200.0 + value)
        await until_value(sockets[1], publish, 300.0)
        await asyncio.sleep(2.5)  # the leader stores its closed one-second buckets
        os.kill(processes[0].process.pid, signal.SIGKILL)
        await until_value(sockets[1], publish, 400.0)  # read by whichever process leads now
        for socket in sockets[1:]:
            await socket.close()

    try:
        asyncio.run(scenario())
        processes[1].stop()  # stores its open history buckets
    finally:
        for process in processes:
            process.stop()
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT SUM(n) FROM history WHERE machine = 'printer-1' AND "
                                    "property = 'nozzle_temp'").fetchone()[0]
    # Each message at most once (two bridges would store about twice as many); a few may be missed
    # while a bridge subscribes, and the killed process's open bucket is lost.
    assert 20 <= stored <= published
