"""Live machine state under load: MQTT messages through a real Mosquitto, `twin serve`'s bridge, to many viewers.

A real Mosquitto (the simulator's broker) and a real `twin serve` process with one MQTT source of
--machines machines; this process publishes --rate messages per second spread over the machines
(each payload carries a sequence number and its send time), holds --viewers subscribed viewers
(minimal WebSocket clients, benchmarks/load.py's) and, as the floor, a plain MQTT subscriber
(aiomqtt) of the same topics. It reports:

- latency from publish to arrival, p50 / p99 / max, at the viewers (every (viewer, message) that
  arrived) and at the plain subscriber, and their difference (what twin adds: the bridge, the
  throttle, the fan-out). The throttle sends each twin's machine states as one frame per interval
  (10 ms): every machine that changed in it, each property's latest value, so a viewer sees the
  latest value of each machine, not every message; the figures count what arrived;
- messages delivered per viewer, CPU seconds of the server per 1,000 published messages, the
  server's resident memory at the start and end of the load (flat or not), the load average.

    python benchmarks/live.py                                 # 200 viewers, 50 machines, 1,000 msg/s, 60 s
    python benchmarks/live.py --seconds 300                   # the issue's five minutes, memory over time
    python benchmarks/live.py --viewers 20 --seconds 10       # a quick check
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' helpers (see benchmarks/load.py)

from load import Viewer, _connect_viewers, _cpu_seconds  # noqa: E402
from twin_folder import sample_document, write_twin_folder  # noqa: E402

from twin.serve.access import ALL_TWINS, Role, new_token  # noqa: E402
from twin.serve.sqlite_store import SqliteStore  # noqa: E402
from twin.simulator.broker import MosquittoBroker  # noqa: E402

GOAL_P99_MS, GOAL_ABOVE_FLOOR_MS = 100.0, 20.0
_STATES = b'{"op":"machine_states"'
_SEQ = re.compile(rb'"seq":\{"value":(\d+)')
_SENT = re.compile(rb'"sent":\{"value":([0-9.e+]+)')


class LiveViewer(Viewer):
    """A subscribed viewer that records, for each machine's state it reads, when it was sent and arrived
    (if it `measures`; the others only count frames, so that this process keeps up with the server)."""

    measures = True

    def _frame(self, opcode: int, payload: bytes, now: float):
        if opcode == 0x1 and payload.startswith(_STATES):
            self.frames += 1
            if self.measures:
                self.received += [(float(sent.group(1)), now) for sent in _SENT.finditer(payload)]
            return
        super()._frame(opcode, payload, now)


def live_document(name: str, machines: int, broker_url: str) -> dict:
    """The tests' sample document with `machines` machines in all (copies of its first), one MQTT topic each."""
    document = sample_document(name)
    template = document["machines"][0]
    for index in range(1, machines):
        machine = copy.deepcopy(template)
        machine.update(id=f"m-{index}", name=f"machine {index}", node=f"node-m-{index}")
        document["machines"].append(machine)
    document["sources"] = [{"id": "bench", "kind": "mqtt", "url": broker_url, "machines": {
        m["id"]: {"topic": f"bench/{i}"} for i, m in enumerate(document["machines"][:machines])}}]
    return document


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _plain_subscriber(port: int, machines: int, arrivals: list, ready: asyncio.Event, stop: asyncio.Event):
    async with aiomqtt.Client("127.0.0.1", port, max_queued_incoming_messages=100_000) as client:
        await client.subscribe("bench/#")
        ready.set()
        async for message in client.messages:
            arrivals.append((json.loads(message.payload)["sent"], time.monotonic()))
            if stop.is_set():
                return


async def _publisher(port: int, machines: int, rate: float, seconds: float) -> int:
    sent = 0
    async with aiomqtt.Client("127.0.0.1", port) as client:
        started = time.monotonic()
        while (now := time.monotonic()) - started < seconds:
            due = int((now - started) * rate)
            while sent < due:
                payload = {"seq": sent, "sent": time.monotonic(), "nozzle_temp": 200 + sent % 20}
                await client.publish(f"bench/{sent % machines}", json.dumps(payload))
                sent += 1
            await asyncio.sleep(0.002)
    return sent


async def _run(port: int, broker_port: int, token: str, twin: str, args, server_pid: int) -> dict:
    viewers = await _connect_viewers(port, token, twin, args.viewers, LiveViewer)
    for index, viewer in enumerate(viewers):
        viewer.measures = index < args.measured
    floor, ready, stop = [], asyncio.Event(), asyncio.Event()
    subscriber = asyncio.create_task(_plain_subscriber(broker_port, args.machines, floor, ready, stop))
    await ready.wait()
    await asyncio.sleep(1.0)  # the server's bridge is subscribed since it started
    gc.disable()
    memory = [_rss_mb(server_pid)]
    cpu, started = _cpu_seconds(server_pid), time.monotonic()

    async def sample_memory():
        while True:
            await asyncio.sleep(max(1.0, args.seconds / 10))
            memory.append(_rss_mb(server_pid))

    sampler = asyncio.create_task(sample_memory())
    published = await _publisher(broker_port, args.machines, args.rate, args.seconds)
    await asyncio.sleep(1.0)  # what is in flight arrives
    sampler.cancel()
    cpu = _cpu_seconds(server_pid) - cpu
    memory.append(_rss_mb(server_pid))
    stop.set()
    subscriber.cancel()
    gc.enable()
    latencies = np.array([(arrived - sent) * 1000 for v in viewers for sent, arrived in v.received if sent >= 0])
    floor_ms = np.array([(arrived - sent) * 1000 for sent, arrived in floor])
    for viewer in viewers:
        viewer.transport.close()
    return {"published": published, "seconds": time.monotonic() - started, "latencies": latencies, "floor": floor_ms,
            "delivered_per_viewer": float(np.mean([len(v.received) for v in viewers if v.measures])),
            "frames_per_viewer": float(np.mean([v.frames for v in viewers])),
            "disconnected": sum(v.closed_with is not None for v in viewers), "cpu_s": cpu, "memory_mb": memory}


def run(args) -> dict:
    broker = MosquittoBroker()
    broker.start()
    try:
        with tempfile.TemporaryDirectory(prefix="twin-live-bench-") as tmp:
            folder = write_twin_folder(Path(tmp) / "bench", document=live_document("bench", args.machines, broker.url))
            db = Path(tmp) / "twin.db"
            store = SqliteStore(db)
            token = new_token()
            store.add_token(token, "bench-viewer", Role.VIEWER, ALL_TWINS)
            store.close()
            server = subprocess.Popen([sys.executable, "-m", "twin", "serve", str(folder), "--port", "0",
                                       "--db", str(db), "--no-admin-link"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                port = next((int(m.group(1)) for line in server.stdout
                             if (m := re.match(r"open http://127\.0\.0\.1:(\d+)/", line))), None)
                if port is None:
                    raise RuntimeError("twin serve did not start")
                return asyncio.run(_run(port, broker.port, token, "bench", args, server.pid))
            finally:
                server.terminate()
                server.wait(30)
    finally:
        broker.close()


def _ms(values: np.ndarray, q: float) -> str:
    return f"{np.percentile(values, q):7.1f}" if len(values) else "      -"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--machines", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1000.0, help="MQTT messages per second (default 1000)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--measured", type=int, default=20, metavar="N",
                        help="viewers whose latencies are taken (default 20; all receive everything: reading "
                             "every value at 200 viewers would make this process, not the server, the bottleneck)")
    args = parser.parse_args(argv)
    result = run(args)
    lat, floor = result["latencies"], result["floor"]
    print(f"live: {args.viewers} viewers, {args.machines} machines, {result['published']:,} MQTT messages in "
          f"{result['seconds']:.0f} s ({result['published'] / args.seconds:,.0f}/s asked {args.rate:,.0f}/s); "
          f"load average {os.getloadavg()[0]:.1f}")
    print("                          p50 ms   p99 ms   max ms   messages")
    print(f"  plain MQTT subscriber  {_ms(floor, 50)}  {_ms(floor, 99)}  {_ms(floor, 100)}   {len(floor):,}")
    print(f"  twin viewers           {_ms(lat, 50)}  {_ms(lat, 99)}  {_ms(lat, 100)}   {len(lat):,} "
          f"({min(args.measured, args.viewers)} viewers read: {result['delivered_per_viewer']:,.0f} machine values "
          f"each; {result['frames_per_viewer']:,.0f} frames per viewer; the throttle merges a machine's updates within "
          "an interval)")
    if len(lat) and len(floor):
        above = np.percentile(lat, 99) - np.percentile(floor, 99)
        print(f"  p99 above the floor: {above:.1f} ms (goal <= {GOAL_ABOVE_FLOOR_MS:g}); "
              f"p99 {np.percentile(lat, 99):.1f} ms (goal <= {GOAL_P99_MS:g})")
    print(f"  server CPU: {result['cpu_s']:.1f} s, {1000 * result['cpu_s'] / max(result['published'], 1):.2f} s per "
          f"1,000 messages; viewers disconnected: {result['disconnected']}")
    memory = result["memory_mb"]
    print(f"  server memory (RSS, MB) over the run: {' '.join(f'{m:.0f}' for m in memory)} "
          f"(first {memory[0]:.0f}, last {memory[-1]:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
