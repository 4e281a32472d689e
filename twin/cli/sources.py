"""`twin sources`: try a twin's live sources (MQTT, OPC UA) and see what arrives per machine."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from twin.document import validate
from twin.live.bridge import Backoff
from twin.live.sources import bridges, sources_of
from twin.serve.server import read_twin_folder

COMMAND = "sources"
HELP = "check a twin's live sources: connect for a few seconds and print what arrives per machine"
DESCRIPTION = """Check the live sources of a twin document (its top-level `sources` list), so you can set
the mapping up before `twin serve` shows the values. Read only: nothing is sent to the machines.

`check` connects to every source of scans/NAME/twin.json for --seconds, prints each update as
`source  machine  property = value unit  [quality]`, then a summary per source: whether it
connected, how many messages arrived and how many were malformed (not JSON, or values that are
not finite numbers within +-2^53 or not valid UTF-8 text), and the last error.

A source in the document (see docs/live.md):

  "sources": [
    {"id": "shop-mqtt", "kind": "mqtt", "url": "mqtt://127.0.0.1:1883",
     "username_env": "SHOP_MQTT_USER", "password_env": "SHOP_MQTT_PASSWORD",
     "machines": {
       "printer-1": {"topic": "fablab/printer-1/state"},
       "laser-1": {"topic": "fablab/laser/+", "properties": {"power": {"path": "/power_w", "unit": "W"}}}}},
    {"id": "mill", "kind": "opcua", "url": "opc.tcp://192.168.1.20:4840",
     "machines": {"cnc-1": {"nodes": {"spindle_rpm": "ns=2;s=Spindle.Speed"}}}}
  ]

MQTT: without `properties` each top-level key of the JSON payload is a property; with them, each
takes the value at its JSON pointer ('' for a bare value). Retained messages arrive at once.
OPC UA: property name -> node id; the server pushes changes (a subscription, no polling).
Credentials are never written in the document: *_env name environment variables.
OctoPrint sources are accepted in the document but not bridged yet.

examples:
  twin sources check scans/sample_workshop
  SHOP_MQTT_PASSWORD=... twin sources check scans/sample_workshop --seconds 10
"""


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="connect to each source for a few seconds and print what arrives")
    check.add_argument("folder", type=Path, metavar="SCAN_FOLDER", help="the scan folder, e.g. scans/NAME")
    check.add_argument("--seconds", type=float, default=5.0, help="how long to listen (default 5)")
    check.add_argument("--json", action="store_true", help="print each update as one JSON line instead")


def run(args) -> int:
    if args.seconds <= 0:
        raise ValueError("--seconds must be a positive number of seconds, e.g. 5")
    document = read_twin_folder(args.folder)
    validate(document, str(args.folder / "twin.json"))
    if not sources_of(document):
        raise ValueError(f"{args.folder / 'twin.json'} has no `sources`; add some (see `twin sources --help` "
                         "and docs/live.md)")
    return asyncio.run(_check(document, args.seconds, args.json))


async def _check(document: dict, seconds: float, as_json: bool) -> int:
    running = []

    def printer(source_id: str):
        def show(machine: str, properties: dict) -> None:
            for name, live in properties.items():
                if as_json:
                    print(json.dumps({"source": source_id, "machine": machine, "property": name, **live},
                                     ensure_ascii=False), flush=True)
                else:
                    unit = f" {live['unit']}" if "unit" in live else ""
                    print(f"{source_id}  {machine}  {name} = {json.dumps(live['value'], ensure_ascii=False)}{unit}"
                          f"  [{live['quality']}]", flush=True)
        return show

    for source in sources_of(document):
        single = {**document, "sources": [s for s in document["sources"] if s["id"] == source.id]}
        made = bridges(single, printer(source.id), backoff=Backoff(first_s=0.5, max_s=2.0))
        if not made:
            print(f"{source.id}: {source.kind} sources are not bridged yet; skipped")
        running += made
    tasks = [asyncio.create_task(bridge.run()) for bridge in running]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    failed = 0
    print()
    for bridge in running:
        stats, source = bridge.stats, bridge.source
        state = "connected" if stats.connects else "never connected"
        failed += not stats.connects
        line = (f"{source.id} ({source.kind}, {source.url}): {state}; {stats.messages} message(s), "
                f"{stats.malformed} malformed")
        if stats.last_malformed:
            line += f" (last: {stats.last_malformed})"
        if stats.last_error and (not stats.connects or stats.failures > 1):
            line += f"; last error: {stats.last_error}"
        print(line)
        silent = sorted(set(source.machines) - set(bridge.state.latest))
        if stats.connects and silent:
            print(f"  no values arrived for: {', '.join(silent)} (check their topics / node ids)")
    return 1 if failed else 0
