"""Several real `twin serve` processes on loopback sharing one store, and the clients the scale-out
tests drive them with: viewers that record every delta, editors that rebase on `stale_revision`
the way docs/protocol.md tells clients to."""
from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import connect

TIMEOUT_S = 30
TWIN = "shop"


@dataclass
class ServeProcess:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_serving(folder: Path, db: str, log: Path, *options: str) -> ServeProcess:
    """`twin serve FOLDER --db DB` on a free port (its log, with -v, in `log`)."""
    with open(log, "w") as errors:
        process = subprocess.Popen([sys.executable, "-m", "twin", "-v", "serve", str(folder), "--port", "0",
                                    "--db", db, "--no-admin-link", *options],
                                   stdout=subprocess.PIPE, stderr=errors, text=True)
    for line in process.stdout:
        found = re.match(r"open http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return ServeProcess(process, int(found.group(1)), log)
    process.wait(TIMEOUT_S)
    raise AssertionError(f"twin serve did not start: {log.read_text()}")


async def hello(url: str, token: str):
    socket = await connect(url)
    await socket.send(json.dumps({"op": "hello", "id": 1, "protocol": 1, "token": token}))
    welcome = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT_S))
    assert welcome["op"] == "welcome", welcome
    return socket, welcome


@dataclass
class Viewer:
    """A subscriber that records the revision of every delta it gets, and fails on a gap."""

    url: str
    token: str
    revisions: list[int] = field(default_factory=list)
    snapshot_revision: int = -1
    _task: asyncio.Task | None = None

    async def start(self) -> None:
        self.socket, self.welcome = await hello(self.url, self.token)
        await self.socket.send(json.dumps({"op": "subscribe", "id": 2, "twin": TWIN}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), TIMEOUT_S))
            if message["op"] == "snapshot":
                self.snapshot_revision = message["revision"]
                break
        self._task = asyncio.create_task(self._read())

    @property
    def head(self) -> int:
        return self.revisions[-1] if self.revisions else self.snapshot_revision

    async def _read(self) -> None:
        async for frame in self.socket:
            message = json.loads(frame)
            if message["op"] == "delta":
                self.revisions.append(message["revision"])

    async def until(self, revision: int) -> None:
        async with asyncio.timeout(TIMEOUT_S):
            while self.head < revision:
                if self._task.done():
                    raise AssertionError(f"viewer of {self.url} lost its connection at revision {self.head}")
                await asyncio.sleep(0.02)

    def in_order_from_snapshot(self) -> bool:
        return self.revisions == list(range(self.snapshot_revision + 1, self.head + 1))

    async def close(self) -> None:
        self._task.cancel()
        await self.socket.close()


def pose_patch(value: float) -> list:
    return [{"op": "replace", "path": "/machines/0/pose/translation", "value": [value, 0.0, 0.0]}]


class Editor:
    """Sends edits one after another, each on the newest revision it has seen; on `stale_revision`
    it waits for that revision's delta and resends (the protocol's rebase)."""

    def __init__(self, url: str, token: str):
        self.url = url
        self.token = token
        self.acknowledged: dict[int, float] = {}  # revision -> the value that edit wrote
        self.errors: list[dict] = []
        self.stale = 0

    async def __aenter__(self):
        self.viewer = Viewer(self.url, self.token)
        await self.viewer.start()
        self._answers: asyncio.Queue = asyncio.Queue()
        self.viewer._task.cancel()
        self.viewer._task = asyncio.create_task(self._read())
        self._next_id = 10
        return self

    async def __aexit__(self, *exc):
        await self.viewer.close()

    async def _read(self) -> None:
        async for frame in self.viewer.socket:
            message = json.loads(frame)
            if message["op"] == "delta":
                self.viewer.revisions.append(message["revision"])
            elif "id" in message:
                self._answers.put_nowait(message)

    async def edit(self, value: float, retry_stale: bool = True) -> dict:
        """One edit, resent on stale revisions; the ack, or the error that is not `stale_revision`."""
        while True:
            self._next_id += 1
            await self.viewer.socket.send(json.dumps({"op": "edit", "id": self._next_id, "twin": TWIN,
                                                      "base_revision": self.viewer.head, "patch": pose_patch(value)}))
            answer = await asyncio.wait_for(self._answers.get(), TIMEOUT_S)
            if answer["op"] == "ack":
                self.acknowledged[answer["revision"]] = value
                return answer
            if answer.get("code") == "stale_revision" and retry_stale:
                self.stale += 1
                await self.viewer.until(answer["revision"])
                continue
            self.errors.append(answer)
            return answer
