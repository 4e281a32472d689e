"""All of a simulated workshop for one twin document: its machines on MQTT and OPC UA, and the
`sources` (with status rules) a twin document needs to read them.

Mills and lathes are served over OPC UA (as machine tools are, OPC 40501 / umati); printers and
laser cutters publish over MQTT to a Mosquitto of the simulation's own where Mosquitto is installed,
or to the broker given. Without any broker they are served over OPC UA too (said in `notes`).
`run()` runs it on the caller's event loop; `running_in_thread()` on a thread of its own beside
a server that owns the main loop (`twin demo`).
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
import time
from urllib.parse import urlsplit

from twin.simulator.broker import MosquittoBroker, find_mosquitto, free_port
from twin.simulator.machines import PROPERTIES, STATUS_RULES, SimulatedMachine
from twin.simulator.protocols import mqtt_topic, opcua_node, publish_mqtt, serve_opcua

OPCUA_KINDS = ("cnc_mill", "lathe")
SOURCE_IDS = {"mqtt": "simulated-mqtt", "opcua": "simulated-opcua"}
START_TIMEOUT_S = 20.0


class SimulatedWorkshop:
    """The simulated machines of `document` (its machines of kinds the simulator knows)."""

    def __init__(self, document: dict, *, opcua_port: int | None = None, mqtt_url: str | None = None,
                 own_broker: bool = True, interval_s: float = 0.5, seed: int = 0):
        machines = [SimulatedMachine(m["id"], m["kind"], seed) for m in document.get("machines", [])
                    if m.get("kind") in PROPERTIES]
        if not machines:
            kinds = sorted({m.get("kind") for m in document.get("machines", [])})
            raise ValueError(f"the twin has no machine of a simulated kind ({', '.join(PROPERTIES)}); "
                             f"its kinds: {', '.join(kinds) or 'none'}")
        self.notes: list[str] = []
        self.broker: MosquittoBroker | None = None
        if mqtt_url is None and own_broker:
            if find_mosquitto() is None:
                self.notes.append("Mosquitto is not installed: printers and lasers are simulated over OPC UA too "
                                  "(apt install mosquitto for MQTT)")
            else:
                self.broker = MosquittoBroker()
                mqtt_url = self.broker.url
        self.mqtt_url = mqtt_url
        over_opcua = (lambda m: True) if mqtt_url is None else (lambda m: m.kind in OPCUA_KINDS)
        self.opcua_machines = [m for m in machines if over_opcua(m)]
        self.mqtt_machines = [m for m in machines if not over_opcua(m)]
        self.opcua_port = opcua_port or free_port()
        self.interval_s = interval_s
        self._started = time.monotonic()

    @property
    def opcua_url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.opcua_port}/twin-simulator/"

    def machines(self) -> list[SimulatedMachine]:
        return self.opcua_machines + self.mqtt_machines

    def sources(self) -> list[dict]:
        """The twin document's `sources` that read this simulation."""
        sources = []
        if self.opcua_machines:
            sources.append({"id": SOURCE_IDS["opcua"], "kind": "opcua", "url": self.opcua_url, "machines": {
                m.id: {"nodes": {p.name: ({"node": opcua_node(m.id, p.name), "unit": p.unit} if p.unit
                                          else opcua_node(m.id, p.name)) for p in PROPERTIES[m.kind]}}
                for m in self.opcua_machines}})
        if self.mqtt_machines:
            sources.append({"id": SOURCE_IDS["mqtt"], "kind": "mqtt", "url": self.mqtt_url, "machines": {
                m.id: {"topic": mqtt_topic(m.id),
                       "properties": {p.name: {"path": f"/{p.name}", **({"unit": p.unit} if p.unit else {})}
                                      for p in PROPERTIES[m.kind]}}
                for m in self.mqtt_machines}})
        return sources

    def document_with_sources(self, document: dict) -> dict:
        """`document` reading this simulation: its earlier simulated sources replaced, status rules
        added to simulated machines that have none."""
        updated = copy.deepcopy(document)
        updated["sources"] = [s for s in updated.get("sources", []) if s.get("id") not in SOURCE_IDS.values()]
        updated["sources"] += self.sources()
        simulated = {m.id for m in self.machines()}
        for machine in updated.get("machines", []):
            if machine["id"] in simulated and not machine.get("status_rules"):
                machine["status_rules"] = dict(STATUS_RULES[machine["kind"]])
        return updated

    def clock(self) -> float:
        """Seconds since the simulation started."""
        return time.monotonic() - self._started

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Run until cancelled; `ready` is set once the OPC UA server listens and the broker is up."""
        opcua_ready = asyncio.Event()
        tasks = []
        try:
            if self.broker is not None:
                await asyncio.to_thread(self.broker.start)
            if self.mqtt_machines:
                parts = urlsplit(self.mqtt_url)
                tasks.append(asyncio.create_task(publish_mqtt(parts.hostname or "127.0.0.1", parts.port or 1883,
                                                              self.mqtt_machines, self.clock, self.interval_s)))
            if self.opcua_machines:
                tasks.append(asyncio.create_task(serve_opcua(self.opcua_port, self.opcua_machines, self.clock,
                                                             self.interval_s, opcua_ready)))
                await _first_of(opcua_ready.wait(), tasks)
            if ready is not None:
                ready.set()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.broker is not None:
                self.broker.close()

    @contextlib.contextmanager
    def running_in_thread(self):
        """Run on a thread of its own while the block runs (the caller's loop stays free)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[Exception] = []

        async def main():
            started = asyncio.Event()
            task = asyncio.create_task(self.run(started))
            waiter = asyncio.create_task(started.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            ready.set()
            await task

        def thread_main():
            try:
                loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            except Exception as error:  # reported to the caller, who started us
                failure.append(error)
                ready.set()

        thread = threading.Thread(target=thread_main, name="twin-simulator", daemon=True)
        thread.start()
        if not ready.wait(START_TIMEOUT_S) or failure:
            raise RuntimeError(f"the simulated workshop did not start: {failure[0] if failure else 'timed out'}")
        try:
            yield self
        finally:
            for task in asyncio.all_tasks(loop):
                loop.call_soon_threadsafe(task.cancel)
            thread.join(START_TIMEOUT_S)


async def _first_of(awaitable, tasks: list[asyncio.Task]) -> None:
    """Wait for `awaitable`, or raise what a task died of before it."""
    waiter = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({waiter, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter:
            waiter.cancel()
            task.result()  # raises what it died of
            raise RuntimeError("a part of the simulation ended before it was ready")
