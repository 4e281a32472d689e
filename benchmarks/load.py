"""Load on `twin serve` over loopback: many viewers, a planner editing, machine states, tiles.

For each viewer count N, a real `twin serve` process is started on a fresh database, then this
process opens N viewer connections (subscribed to the twin), a planner that sends edits at
--edits-per-second, a machine that sends states at --states-per-second, and --tile-clients
clients that fetch tiles as fast as they are answered. It reports, per N:

- edit-to-receipt latency at every viewer (from sending the edit to a viewer reading its
  delta; one clock, this process), p50 / p99 / max over every (viewer, revision) pair;
- whether every viewer saw every revision, in order, none skipped;
- tiles per second served to the tile clients while all this goes on;
- CPU used by the server process and by this (client) process, and the machine's load average
  (other work on the same cores shows up as latency: read the figures with it).

The viewers are minimal WebSocket clients written on asyncio.Protocol (a frame parser that
only decodes deltas), so that the Python client side costs far less than the server it loads:
browsers do not share the server's two cores, but here they do. Loopback only.

With --setups, the same load runs on several deployments in one run (docs/deploy.md): `single`
(one process, SQLite), `redis` (two processes on one SQLite file, Redis between them), `postgres`
(two processes on PostgreSQL, Redis between them); the viewers are split across the processes,
the planner edits through the first and the machine sends through the second, so that most
frames cross from one process to the other. Redis and PostgreSQL are real servers started for
the run (tests/scaleout/engines.py). After the table, a cost model: what 50,000 viewers need,
from the measured server CPU per viewer.

    python benchmarks/load.py                      # 100, 500 and 1,000 viewers, 10 s each
    python benchmarks/load.py --setups single redis postgres --viewers 1000 2000
    python benchmarks/load.py --viewers 500 --seconds 20 --twin scans/sample_workshop
    setsid python benchmarks/load.py --nice -10    # on a machine busy with other work
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import re
import resource
import secrets
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Benchmarks run as scripts and share helpers with the tests; tests/ is no package (the tests get
# them from pytest and conftest), so a script can only reach them by this path.
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "scaleout"))

from engines import PostgresServer, RedisServer  # noqa: E402
from twin_folder import write_twin_folder  # noqa: E402

from twin.scaleout.cluster import open_store  # noqa: E402
from twin.scaleout.postgres_store import migrate  # noqa: E402
from twin.serve.access import ALL_TWINS, Role, new_token  # noqa: E402
from twin.serve.messages import decode_asset  # noqa: E402
from twin.serve.protocol import Limits  # noqa: E402

GOAL_VIEWERS, GOAL_P99_MS = 500, 100.0
SETUPS = {"single": (1, False, False), "redis": (2, True, False), "postgres": (2, True, True)}  # processes, Redis, PG
MODEL_VIEWERS = 50_000
MODEL_BUSY = 0.6  # a process kept at this share of its core leaves room for bursts and reconnect storms
_DELTA = b'{"op":"delta"'
_REVISION = re.compile(rb'"revision":(\d+)')


def _client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked client frame; the all-zero mask is a valid mask and spares the XOR."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return header + b"\0\0\0\0" + payload


@dataclass
class Viewer(asyncio.Protocol):
    """A subscribed viewer that records when each delta arrived."""

    host: str
    token: str
    twin: str
    received: list = field(default_factory=list)  # (revision, arrival time)
    snapshot_revision: int | None = None
    closed_with: str | None = None
    frames: int = 0

    def __post_init__(self):
        self.subscribed = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._upgraded = False

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        transport.write((f"GET /ws HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        hello = {"op": "hello", "id": 1, "protocol": 1, "token": self.token}
        transport.write(_client_frame(json.dumps(hello).encode()))
        transport.write(_client_frame(json.dumps({"op": "subscribe", "id": 2, "twin": self.twin}).encode()))

    def data_received(self, data: bytes):
        now = time.monotonic()
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._fail(f"handshake refused: {bytes(buffer[:80])!r}")
                return
            del buffer[:end + 4]
            self._upgraded = True
        offset = 0
        while len(buffer) - offset >= 2:
            opcode, size = buffer[offset] & 0x0F, buffer[offset + 1] & 0x7F
            start = offset + 2
            if size == 126:
                if len(buffer) - start < 2:
                    break
                size, start = struct.unpack_from("!H", buffer, start)[0], start + 2
            elif size == 127:
                if len(buffer) - start < 8:
                    break
                size, start = struct.unpack_from("!Q", buffer, start)[0], start + 8
            if len(buffer) - start < size:
                break
            payload = bytes(buffer[start:start + size])
            offset = start + size
            self._frame(opcode, payload, now)
        del buffer[:offset]

    def _frame(self, opcode: int, payload: bytes, now: float):
        self.frames += 1
        if opcode == 0x1:
            if payload.startswith(_DELTA):
                self.received.append((int(_REVISION.search(payload).group(1)), now))
            elif self.snapshot_revision is None and payload.startswith(b'{"op":"snapshot"'):
                self.snapshot_revision = int(_REVISION.search(payload).group(1))
                self.subscribed.set_result(True)
            elif payload.startswith(b'{"op":"error"'):
                self._fail(payload.decode()[:200])
        elif opcode == 0x9:
            self.transport.write(_client_frame(payload, opcode=0xA))
        elif opcode == 0x8:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
            self._fail(f"closed by the server: {code} {payload[2:].decode(errors='replace')}")

    def _fail(self, reason: str):
        if self.closed_with is None:
            self.closed_with = reason
        if not self.subscribed.done():
            self.subscribed.set_exception(RuntimeError(reason))

    def connection_lost(self, exc):
        self._fail(f"connection lost: {exc}")


@dataclass
class RunResult:
    viewers: int
    connected: int
    edits_sent: int
    edits_acked: int
    states_sent: int
    latencies_ms: list
    complete_in_order: int
    disconnected: int
    tiles: int
    tile_bytes: int
    frames: int  # frames the viewers received during the run (deltas, machine states, ...)
    seconds: float  # the load phase
    window_s: float  # the load phase and the wait until every viewer had the last revision
    server_cpu_s: float
    client_cpu_s: float


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _json_client(port: int, token: str):
    from websockets.asyncio.client import connect
    socket = await connect(f"ws://127.0.0.1:{port}/ws", max_size=None)
    await socket.send(json.dumps({"op": "hello", "id": 1, "protocol": 1, "token": token}))
    welcome = json.loads(await socket.recv())
    assert welcome["op"] == "welcome", welcome
    return socket


async def _planner(port: int, token: str, twin: str, rate: float, until: float, sent_at: dict, counts: dict):
    socket = await _json_client(port, token)
    await socket.send(json.dumps({"op": "subscribe", "id": 2, "twin": twin}))
    revision = None
    while revision is None:
        message = json.loads(await socket.recv())
        if message.get("op") == "snapshot":
            revision = message["revision"]
    next_time, n = time.monotonic(), 0
    while next_time < until:
        await asyncio.sleep(max(0.0, next_time - time.monotonic()))
        n += 1
        patch = [{"op": "replace", "path": "/machines/0/pose/translation", "value": [n * 0.001, 0.0, 0.0]}]
        started = time.monotonic()
        await socket.send(json.dumps({"op": "edit", "id": 1000 + n, "twin": twin, "base_revision": revision,
                                      "patch": patch}))
        counts["edits_sent"] += 1
        async with asyncio.timeout(30):
            while True:
                message = json.loads(await socket.recv())
                if message.get("id") == 1000 + n:
                    break
        if message["op"] != "ack":
            raise RuntimeError(f"the planner's edit was refused: {message}")
        revision = message["revision"]
        sent_at[revision] = started
        counts["edits_acked"] += 1
        next_time += 1.0 / rate
    await socket.close()


async def _machine(port: int, token: str, twin: str, machine: str, rate: float, until: float, counts: dict):
    socket = await _json_client(port, token)
    next_time, n = time.monotonic(), 0
    while next_time < until:
        await asyncio.sleep(max(0.0, next_time - time.monotonic()))
        n += 1
        await socket.send(json.dumps({"op": "machine_state", "twin": twin, "machine": machine,
                                      "properties": {"spindle_rpm": n % 12000, "running": n % 2 == 0}}))
        counts["states_sent"] += 1
        next_time += 1.0 / rate
    await socket.close()


async def _tile_client(port: int, token: str, twin: str, tiles: list[str], rate: float, until: float, counts: dict):
    """Fetch tiles one after another, no faster than `rate` (the server's per-connection limit)."""
    socket = await _json_client(port, token)
    next_time, n = time.monotonic(), 0
    while next_time < until:
        await asyncio.sleep(max(0.0, next_time - time.monotonic()))
        next_time += 1.0 / rate
        n += 1
        await socket.send(json.dumps({"op": "get_asset", "id": n, "twin": twin, "path": tiles[n % len(tiles)]}))
        async with asyncio.timeout(30):
            while True:
                frame = await socket.recv()
                if isinstance(frame, bytes) and decode_asset(frame)[0] == n:
                    counts["tiles"] += 1
                    counts["tile_bytes"] += len(frame) - 5
                    break
                if isinstance(frame, str) and json.loads(frame).get("id") == n:
                    raise RuntimeError(f"tile {tiles[n % len(tiles)]} was refused: {frame}")
    await socket.close()


async def _connect_viewers(port: int | list[int], token: str, twin: str, count: int,
                           kind: type = Viewer) -> list[Viewer]:
    """`count` viewers, spread evenly over the processes at `port` (one or a list)."""
    ports = port if isinstance(port, list) else [port]
    loop = asyncio.get_running_loop()
    viewers: list[Viewer] = []
    batch = 50  # stay under the listen backlog
    for start in range(0, count, batch):
        made = await asyncio.gather(*(loop.create_connection(lambda: kind("127.0.0.1", token, twin),
                                                             "127.0.0.1", ports[n % len(ports)])
                                      for n in range(start, min(start + batch, count))))
        batch_viewers = [protocol for _, protocol in made]
        await asyncio.wait_for(asyncio.gather(*(v.subscribed for v in batch_viewers)), 60)
        viewers += batch_viewers
    return viewers


async def _load(ports: list[int], tokens: dict, twin: str, machine: str, tiles: list[str], args, viewers_n: int,
                server_pids: list[int]) -> RunResult:
    viewers = await _connect_viewers(ports, tokens[Role.VIEWER], twin, viewers_n)
    counts = dict(edits_sent=0, edits_acked=0, states_sent=0, tiles=0, tile_bytes=0)
    gc.disable()  # as timeit does: the clients' own collector pauses are not the server's latency
    sent_at: dict[int, float] = {}
    cpu_server, cpu_client, started = sum(map(_cpu_seconds, server_pids)), _own_cpu_seconds(), time.monotonic()
    frames_before = sum(v.frames for v in viewers)
    until = started + args.seconds
    await asyncio.gather(
        _planner(ports[0], tokens[Role.PLANNER], twin, args.edits_per_second, until, sent_at, counts),
        _machine(ports[-1], tokens[Role.ARTISAN], twin, machine, args.states_per_second, until, counts),
        *(_tile_client(ports[n % len(ports)], tokens[Role.VIEWER], twin, tiles, 0.9 * Limits().messages_per_second,
                       until, counts) for n in range(args.tile_clients)))
    elapsed = time.monotonic() - started
    print(f"    load phase {elapsed:.1f} s (asked for {args.seconds:g} s)", file=sys.stderr)
    last = max(sent_at) if sent_at else 0
    drain_until = time.monotonic() + 30
    while time.monotonic() < drain_until and any(
            v.closed_with is None and (not v.received or v.received[-1][0] < last) for v in viewers):
        await asyncio.sleep(0.05)
    cpu_server, cpu_client = sum(map(_cpu_seconds, server_pids)) - cpu_server, _own_cpu_seconds() - cpu_client
    frames = sum(v.frames for v in viewers) - frames_before
    window = time.monotonic() - started
    gc.enable()
    latencies, complete = [], 0
    for viewer in viewers:
        revisions = [r for r, _ in viewer.received]
        if revisions == list(range(viewer.snapshot_revision + 1, last + 1)):
            complete += 1
        latencies += [(at - sent_at[r]) * 1000.0 for r, at in viewer.received if r in sent_at]
    for viewer in viewers:
        viewer.transport.close()
    return RunResult(viewers=viewers_n, connected=len(viewers), edits_sent=counts["edits_sent"],
                     edits_acked=counts["edits_acked"], states_sent=counts["states_sent"], latencies_ms=latencies,
                     complete_in_order=complete, disconnected=sum(v.closed_with is not None for v in viewers),
                     tiles=counts["tiles"], tile_bytes=counts["tile_bytes"], frames=frames, seconds=elapsed, window_s=window,
                     server_cpu_s=cpu_server, client_cpu_s=cpu_client)


def _start_server(folder: Path, db: str, args, fanout: str | None) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen([sys.executable, "-m", "twin", "serve", str(folder), "--port", "0", "--db", db,
                               "--no-admin-link", "--durability", args.durability,
                               *(["--fanout", fanout] if fanout else [])],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in server.stdout:
        found = re.match(r"open http://127\.0\.0\.1:(\d+)/", line)
        if found:
            return server, int(found.group(1))
    raise RuntimeError("twin serve did not start")


def run_once(folder: Path, viewers_n: int, args, setup: str = "single") -> RunResult:
    processes, with_redis, with_postgres = SETUPS[setup]
    with tempfile.TemporaryDirectory(prefix="twin-load-") as tmp:
        redis = postgres = None
        servers: list[subprocess.Popen] = []
        try:
            if with_redis:
                redis = RedisServer(Path(tmp))
                redis.start()
            if with_postgres:
                postgres = PostgresServer()
                postgres.start()
                migrate(postgres.url)
            db = postgres.url if postgres else str(Path(tmp) / "twin.db")
            store = open_store(db, args.durability)
            tokens = {}
            for role in (Role.VIEWER, Role.ARTISAN, Role.PLANNER):
                tokens[role] = new_token()
                store.add_token(tokens[role], f"load-{role.label}", role, ALL_TWINS)
            store.close()
            document = json.loads((folder / "twin.json").read_text())
            machine = document["machines"][0]["id"]
            tiles = sorted(str(p.relative_to(folder)) for p in (folder / "tiles").rglob("*") if p.is_file())
            ports = []
            for _ in range(processes):
                server, port = _start_server(folder, db, args, redis.url if redis else None)
                servers.append(server)
                ports.append(port)
            return asyncio.run(_load(ports, tokens, folder.resolve().name, machine, tiles, args, viewers_n,
                                     [server.pid for server in servers]))
        finally:
            for server in servers:
                server.terminate()
                server.wait(30)
            if redis:
                redis.stop()
            if postgres:
                postgres.remove()


def _set_niceness(parser, nice: int) -> None:
    """Run this process and the server it starts at `nice`.

    With Linux autogroup scheduling, CPU is shared between sessions first, so a niceness only
    counts once it is also the session's: hence a session of our own (setsid).
    """
    os.setpriority(os.PRIO_PROCESS, 0, nice)  # the server process inherits it
    autogroup = Path("/proc/self/autogroup")
    if autogroup.exists():
        if os.getsid(0) != os.getpid():
            parser.error("--nice needs a session of its own here (autogroup scheduling): "
                         "run `setsid python benchmarks/load.py --nice ...`")
        autogroup.write_text(str(nice))


def _sample_document() -> dict | None:
    """The sample workshop's twin document (machines, procedures, tours), if this checkout has it."""
    source = ROOT / "scans" / "sample_workshop.twin.yaml"
    if not source.is_file():
        return None
    from twin import document
    return document.to_dict(document.load(source))


def _percentile(values: list, q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--setups", nargs="+", choices=list(SETUPS), default=["single"],
                        help="deployments to compare in this run: single (1 process), redis (2 processes + Redis), "
                             "postgres (2 processes + Redis + PostgreSQL)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each load phase lasts")
    parser.add_argument("--edits-per-second", type=float, default=20.0)
    parser.add_argument("--states-per-second", type=float, default=50.0)
    parser.add_argument("--tile-clients", type=int, default=4,
                        help="clients fetching tiles, each at 90%% of the per-connection rate limit")
    parser.add_argument("--durability", choices=["full", "process"], default="full",
                        help="the server's --durability (full: every edit waits for the disk's fsync)")
    parser.add_argument("--twin", type=Path,
                        help="a scan folder to serve (default: the sample workshop's document with small generated "
                             "GLB and tiles)")
    parser.add_argument("--nice", type=int, default=0,
                        help="run the server and the clients at this niceness (negative needs root): on a machine "
                             "busy with other work, measures the server rather than its neighbours")
    args = parser.parse_args(argv)
    if args.nice:
        _set_niceness(parser, args.nice)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1]),) * 2)
    with tempfile.TemporaryDirectory(prefix="twin-load-twin-") as tmp:
        folder = args.twin or write_twin_folder(Path(tmp) / "sample", tiles=16, document=_sample_document())
        print(f"twin serve load, loopback, {os.cpu_count()} cores: {args.edits_per_second:g} edits/s, "
              f"{args.states_per_second:g} machine states/s, {args.tile_clients} tile clients (each at most "
              f"{0.9 * Limits().messages_per_second:g} requests/s, under the per-connection limit), {args.seconds:g} s per run, "
              f"durability {args.durability}, niceness {os.getpriority(os.PRIO_PROCESS, 0)}")
        header = ("viewers", "connected", "edits acked", "p50 ms", "p99 ms", "max ms", "all revisions in order",
                  "cut off", "tiles/s", "tile MB/s", "frames/s to viewers", "server CPU", "server µs/frame", "client CPU",
                  "load avg", "goal", "setup", "server CPU µs/s per viewer")
        print(" | ".join(header))
        print(" | ".join("---" for _ in header))
        costs: dict[str, list] = {}  # setup -> [(viewers, server CPU seconds per second)]
        for setup, viewers_n in ((setup, n) for setup in args.setups for n in args.viewers):
            result = run_once(folder, viewers_n, args, setup)
            per_viewer = result.server_cpu_s / result.window_s / max(result.connected, 1)
            costs.setdefault(setup, []).append((result.connected, result.server_cpu_s / result.window_s))
            p50, p99 = _percentile(result.latencies_ms, 50), _percentile(result.latencies_ms, 99)
            goal = ""
            if viewers_n >= GOAL_VIEWERS:
                ok = p99 <= GOAL_P99_MS and result.complete_in_order == viewers_n
                goal = f"{'met' if ok else 'MISSED'} (p99 <= {GOAL_P99_MS:g} ms, nothing lost)"
            print(" | ".join(str(c) for c in (
                viewers_n, result.connected, f"{result.edits_acked}/{result.edits_sent}", f"{p50:.1f}", f"{p99:.1f}",
                f"{max(result.latencies_ms, default=float('nan')):.1f}", f"{result.complete_in_order}/{viewers_n}",
                result.disconnected, f"{result.tiles / result.seconds:.0f}",
                f"{result.tile_bytes / result.seconds / 1e6:.1f}", f"{result.frames / result.window_s:.0f}",
                f"{result.server_cpu_s / result.window_s:.0%}", f"{result.server_cpu_s / max(result.frames, 1) * 1e6:.1f}",
                f"{result.client_cpu_s / result.window_s:.0%}",
                f"{os.getloadavg()[0]:.1f}", goal, setup, f"{per_viewer * 1e6:.0f}")),
                flush=True)
        _print_cost_model(costs, args)
    return 0


def _print_cost_model(costs: dict[str, list], args) -> None:
    """What MODEL_VIEWERS viewers need, from the server CPU per viewer of each setup's largest run.

    All of a run's CPU is counted per viewer, the cost of the load itself (edits and states that
    every process of a fan-out handles whatever its viewers) included: an upper bound that is
    close at hundreds of viewers per process. (A line through several runs was tried: once a
    process saturates its core the line flattens and its slope means nothing.)"""
    print(f"\ncost model for {MODEL_VIEWERS:,} viewers at this run's load ({args.edits_per_second:g} edits/s, "
          f"{args.states_per_second:g} machine states/s), each process on one core kept at {MODEL_BUSY:.0%}:")
    for setup, points in costs.items():
        viewers, cpu = max(points)
        per_viewer = cpu / viewers
        capacity = MODEL_BUSY / per_viewer
        processes = int(np.ceil(MODEL_VIEWERS / capacity))
        print(f"  {setup}: {per_viewer * 1e6:.0f} µs/s of server CPU per viewer (at {viewers} viewers) -> "
              f"{capacity:,.0f} viewers per process, {processes} processes ({int(np.ceil(processes / 8))} machines "
              f"of 8 cores)")


if __name__ == "__main__":
    sys.exit(main())
