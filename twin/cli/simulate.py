"""`twin simulate`: the machines of a twin, simulated, speaking MQTT and OPC UA like real ones."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

COMMAND = "simulate"
HELP = "simulate a twin's machines over MQTT and OPC UA (no hardware needed), for twin serve to read"
DESCRIPTION = """Simulate the machines of a twin (3D printers, CNC mills, lathes, laser cutters) with realistic,
changing values over the real protocols, until Ctrl-C: mills and lathes on an OPC UA server,
printers and lasers on MQTT (a Mosquitto of its own where installed, or the broker you give;
without one, on OPC UA too). A print heats up, progresses to 100 % and cools down; every third
one overheats for a few seconds (an alarm); spindles start and stop.

It prints the `sources` the twin document needs to read it; --write-sources puts them (and
status rules for the simulated machines) into SCAN/twin.json, so that `twin serve` shows them.
`twin demo` runs the same simulation beside its server.

examples:
  twin simulate scans/sample_workshop --write-sources     # then, in another terminal:
  twin serve scans/sample_workshop
  twin simulate scans/sample_workshop --mqtt mqtt://192.168.1.5:1883 --opcua-port 4840
"""


def add_arguments(parser) -> None:
    parser.add_argument("folder", type=Path, metavar="SCAN_FOLDER", help="the scan folder whose twin.json names the machines")
    parser.add_argument("--opcua-port", type=int, default=4841, help="port of the OPC UA server (default 4841)")
    parser.add_argument("--mqtt", metavar="URL", help="publish to this broker (mqtt://HOST:PORT) instead of a "
                                                      "Mosquitto of the simulation's own")
    parser.add_argument("--interval", type=float, default=0.5, metavar="SECONDS",
                        help="how often each machine sends its values (default 0.5)")
    parser.add_argument("--write-sources", action="store_true",
                        help="write the sources (and status rules) into SCAN_FOLDER/twin.json")


def run(args) -> int:
    from twin.scanfolder import write_json
    from twin.serve.server import read_twin_folder
    from twin.simulator import SimulatedWorkshop

    if not args.interval > 0:
        raise ValueError("--interval must be a positive number of seconds")
    document = read_twin_folder(args.folder)
    workshop = SimulatedWorkshop(document, opcua_port=args.opcua_port, mqtt_url=args.mqtt,
                                 interval_s=args.interval)
    describe(workshop)
    if args.write_sources:
        write_json(args.folder / "twin.json", workshop.document_with_sources(document))
        print(f"wrote the sources and status rules into {args.folder / 'twin.json'}")
    else:
        print("sources for the twin document (or rerun with --write-sources):")
        print(json.dumps(workshop.sources(), indent=2, ensure_ascii=False))

    async def simulate():
        ready = asyncio.Event()
        running = asyncio.create_task(workshop.run(ready))
        await asyncio.wait({running, asyncio.create_task(ready.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if ready.is_set():
            print("simulating; Ctrl-C to stop", flush=True)
        await running

    try:
        asyncio.run(simulate())
    except KeyboardInterrupt:
        print("stopped")
    return 0


def describe(workshop) -> None:
    """Say where each simulated machine can be read."""
    if workshop.opcua_machines:
        print(f"OPC UA  {workshop.opcua_url}  {', '.join(m.id for m in workshop.opcua_machines)}")
    if workshop.mqtt_machines:
        broker = " (Mosquitto of its own)" if workshop.broker is not None else ""
        print(f"MQTT    {workshop.mqtt_url}{broker}  {', '.join(m.id for m in workshop.mqtt_machines)}")
    for note in workshop.notes:
        print(f"note: {note}")
