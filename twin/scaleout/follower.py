"""Keeps one process's hub in step with a store that other `twin serve` processes commit to.

The store is the truth: every revision is committed there first, by whichever process. What the
others publish arrives here as frames (`receive`); a delta that is the next revision is applied
to the hub and delivered to this process's clients at once. A delta further ahead means some
revisions are missing here (Redis lost them, or they crossed on the way): they are read from the
store's edit log and delivered in order, so a viewer sees every revision, in order, whichever
process committed it. The same catch-up runs every `poll_interval_s` (a process that died
between its commit and its publish, or Redis down) and when Redis comes back.

Presence, machine states and steps of other processes go into the hub (for late subscribers)
and to the local clients as they come; they are latest-value-wins, so none waits for order.
A process not heard from for `SILENT_AFTER_S` (not even its heartbeat) is taken for dead: the
poses of its clients end here as if they had left.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Callable

from twin.serve.access import Role
from twin.serve.fanout import Frame, Latest
from twin.serve.hub import CheckedEdit, topic, topics
from twin.serve.json_patch import JsonPatchError, apply_patch
from twin.serve.messages import ProtocolError
from twin.serve.server import TwinServer
from twin.serve.store import StepEvent, StoreError

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0
SILENT_AFTER_S = 3 * 2.0  # three of the fan-out's heartbeats missed


def is_relayed(topic_name: str) -> bool:
    """Whether other processes need a topic's frames: visitors' views they derive themselves."""
    return not topic_name.endswith("/visitor")


class StoreFollower:
    def __init__(self, server: TwinServer, deliver: Callable[[str, Frame | Latest, int | None], None],
                 poll_interval_s: float = POLL_INTERVAL_S, clock: Callable[[], float] | None = None):
        self.server = server
        self._deliver = deliver  # to this process's clients only
        self.poll_interval_s = poll_interval_s
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._deltas: dict[str, asyncio.Queue] = {}
        self._appliers: dict[str, asyncio.Task] = {}
        self.replayed = 0  # revisions read from the store instead of arriving in order
        self._heard: dict[str, float] = {}  # origin -> when it last published (the loop's clock)
        self._posing: dict[str, set[tuple[str, int]]] = {}  # origin -> (twin, client) with a pose here

    # What other processes published.

    def receive(self, topic_name: str, text: str, origin: str = "") -> None:
        self._heard[origin] = self._clock()
        message = json.loads(text)
        twin = message.get("twin")
        if twin not in self.server.folders or topic_name != topic(twin, Role.VIEWER):
            return
        handler = _HANDLERS.get(message.get("op"))
        if handler is None:
            return
        if message.get("op") == "presence":
            posing = self._posing.setdefault(origin, set())
            (posing.discard if message.get("left") else posing.add)((twin, message["client"]))
        try:
            handler(self, twin, message)
        except ProtocolError as error:  # e.g. a machine this process's head no longer has
            log.warning("twin %s: another process's %s was not applied here: %s", twin, message.get("op"), error)

    def _on_delta(self, twin: str, message: dict) -> None:
        queue = self._deltas.get(twin)
        if queue is None:
            queue = self._deltas[twin] = asyncio.Queue()
            self._appliers[twin] = asyncio.create_task(self._apply_in_order(twin, queue),
                                                       name=f"twin-follow-{twin}")
        queue.put_nowait(message)

    async def _apply_in_order(self, twin: str, queue: asyncio.Queue) -> None:
        while True:
            message = await queue.get()
            async with self.server.twin_lock(twin):
                head = self.server.hub.revision(twin)
                revision = message["revision"]
                if revision <= head:
                    continue  # already here (caught up from the store before it arrived)
                if revision == head + 1:
                    try:
                        self._apply(twin, revision, message["patch"], message["author"], message["client"])
                        continue
                    except JsonPatchError as error:
                        log.error("twin %s: revision %d does not apply to revision %d here (%s); reading the "
                                  "store", twin, revision, head, error)
                try:
                    await self._replay(twin)
                except (StoreError, OSError) as error:  # the periodic catch-up tries again
                    log.warning("twin %s: could not read the store to catch up: %s", twin, error)

    def _on_presence(self, twin: str, message: dict) -> None:
        if message.get("left"):
            latest = self.server.hub.leave(twin, message["client"])
        else:
            latest = self.server.hub.presence(twin, message["client"], message["name"], message["pose"],
                                              message["mode"])
        if latest is not None:
            self._to_topics(twin, latest)

    def _on_machine_states(self, twin: str, message: dict) -> None:
        for machine, properties in message["machines"].items():
            self._to_topics(twin, self.server.hub.machine_state(twin, machine, properties))

    def _on_step(self, twin: str, message: dict) -> None:
        event = StepEvent(message["procedure"], message["step"], message["done"], message["author"],
                          message["revision"])
        for publish in self.server.hub.record_step(twin, event, message["client"]):
            self._deliver(publish.topic, publish.frame, publish.exclude)

    def _to_topics(self, twin: str, latest: Latest) -> None:
        for name in topics(twin):
            self._deliver(name, latest, None)

    # Catching up from the store.

    def _apply(self, twin: str, revision: int, patch: list, author: str, client: int) -> None:
        """Revision `revision` (the next one) into the hub, and its frames to the local clients."""
        base, document = self.server.hub.heads[twin]
        edit = CheckedEdit(twin, base, patch, apply_patch(document, patch))
        for publish in self.server.hub.commit_edit(edit, revision, author, client):
            self._deliver(publish.topic, publish.frame, publish.exclude)

    async def _replay(self, twin: str) -> None:
        """Apply what the store holds beyond the hub's head, in order (the twin's lock held)."""
        head = self.server.hub.revision(twin)
        for edit in await self.server.store_call(self.server.store.edits, twin, head):
            self._apply(twin, edit.revision, edit.patch, edit.author, 0)
            self.replayed += 1

    async def catch_up(self) -> None:
        """Every twin up to the store's head (Redis is back, or the periodic check)."""
        for twin in self.server.folders:
            head = self.server.hub.revision(twin)
            if not await self.server.store_call(self.server.store.edits, twin, head):
                continue  # nothing new: no need to hold up this twin's edits
            async with self.server.twin_lock(twin):
                await self._replay(twin)

    async def resync(self) -> None:
        """After an outage of the fan-out: the edits, and the latest event of every step, from the
        store (steps recorded elsewhere meanwhile; re-sending an unchanged one is harmless)."""
        await self.catch_up()
        for twin in self.server.folders:
            latest = {}
            for event in await self.server.store_call(self.server.store.steps, twin):
                latest[(event.procedure, json.dumps(event.step))] = event
            for event in latest.values():
                for publish in self.server.hub.record_step(twin, event, 0):
                    self._deliver(publish.topic, publish.frame, publish.exclude)

    def forget_silent(self, now: float) -> None:
        """End the poses of the clients of processes not heard from for `SILENT_AFTER_S` before `now`."""
        for origin, heard in list(self._heard.items()):
            if now - heard < SILENT_AFTER_S:
                continue
            del self._heard[origin]
            for twin, client in self._posing.pop(origin, ()):
                left = self.server.hub.leave(twin, client)
                if left is not None:
                    self._to_topics(twin, left)

    async def poll(self) -> None:
        """Catch up every `poll_interval_s` (until cancelled); a failing store is retried."""
        while True:
            await asyncio.sleep(self.poll_interval_s)
            self.forget_silent(self._clock())
            try:
                await self.catch_up()
            except (StoreError, OSError) as error:
                log.warning("could not read the store to catch up with other processes: %s", error)

    async def stop(self) -> None:
        tasks = list(self._appliers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


_HANDLERS = {"delta": StoreFollower._on_delta, "presence": StoreFollower._on_presence,
             "machine_states": StoreFollower._on_machine_states, "step": StoreFollower._on_step}
