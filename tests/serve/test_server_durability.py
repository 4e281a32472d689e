"""A real `kill -9` of a `twin serve` process in the middle of acknowledged edits loses nothing."""
from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

from websockets.asyncio.client import connect

from twin.serve.sqlite_store import SqliteStore

TIMEOUT = 20


def twin_command(*args: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "twin", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **options)


def start_server(folder: Path, db: Path) -> tuple[subprocess.Popen, int]:
    server = twin_command("serve", str(folder), "--port", "0", "--db", str(db), "--no-admin-link")
    for line in server.stdout:
        found = re.match(r"open http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return server, int(found.group(1))
    raise AssertionError(f"twin serve did not start: {server.stderr.read()}")


async def edit_until_killed(port: int, token: str, base: int, kill_after: int, server: subprocess.Popen) -> dict[int, float]:
    """Send edits one after another; right after sending edit `kill_after`, kill -9 the server.

    Returns {acknowledged revision: the value that edit wrote}.
    """
    acknowledged = {}
    async with connect(f"ws://127.0.0.1:{port}/ws") as socket:
        await socket.send(json.dumps({"op": "hello", "id": 1, "protocol": 1, "token": token}))
        assert json.loads(await socket.recv())["op"] == "welcome"
        for n in range(kill_after + 1):
            value = base + n + random.random()
            patch = [{"op": "replace", "path": "/machines/0/pose/translation", "value": [value, 0.0, 0.0]}]
            await socket.send(json.dumps({"op": "edit", "id": 10 + n, "twin": "shop", "base_revision": base + n,
                                          "patch": patch}))
            if n == kill_after:
                os.kill(server.pid, signal.SIGKILL)
                break
            ack = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
            assert ack == {"op": "ack", "id": 10 + n, "twin": "shop", "revision": base + n + 1}
            acknowledged[ack["revision"]] = value
    return acknowledged


def test_kill_9_in_the_middle_of_edits_loses_no_acknowledged_edit(tmp_path, write_twin_folder):
    folder = write_twin_folder(tmp_path / "shop")
    db = tmp_path / "twin.db"
    made = twin_command("token", "create", "--twin", "shop", "--role", "admin", "--name", "robot", "--db", str(db))
    token = made.communicate(timeout=TIMEOUT)[0].strip()
    assert made.returncode == 0 and len(token) >= 40

    acknowledged: dict[int, float] = {}
    head = 0
    for cycle in range(3):
        server, port = start_server(folder, db)
        try:
            acknowledged.update(asyncio.run(edit_until_killed(port, token, head, random.randint(15, 40), server)))
        finally:
            server.kill()
            server.wait(TIMEOUT)
        assert server.returncode == -signal.SIGKILL
        store = SqliteStore(db)
        head, document = store.head("shop")
        log = {edit.revision: edit.patch[0]["value"][0] for edit in store.edits("shop")}
        store.close()
        # Every acknowledged edit is there, as written; at most the one in flight was added after them.
        last_acked = max(acknowledged)
        assert all(log[revision] == value for revision, value in acknowledged.items())
        assert head in (last_acked, last_acked + 1)
        assert sorted(log) == list(range(1, head + 1))
        assert document["machines"][0]["pose"]["translation"][0] == log[head]

    # The restarted server serves the head it finds in the file.
    server, port = start_server(folder, db)

    async def subscribe():
        async with connect(f"ws://127.0.0.1:{port}/ws") as socket:
            await socket.send(json.dumps({"op": "hello", "id": 1, "protocol": 1, "token": token}))
            await socket.recv()
            await socket.send(json.dumps({"op": "subscribe", "id": 2, "twin": "shop"}))
            return json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))

    try:
        snapshot = asyncio.run(subscribe())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(TIMEOUT)
    assert snapshot["revision"] == head
    assert snapshot["document"]["machines"][0]["pose"]["translation"][0] == log[head]
    assert server.returncode == 0
