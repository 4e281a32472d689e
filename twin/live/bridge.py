"""One bridge: a source's connection kept up, its values checked, and updates handed on.

A bridge is an async task (`Bridge.run`) around a kind's `stream` coroutine (`twin.live.mqtt`,
`twin.live.opcua`, `twin.live.octoprint`), which connects, calls `connected`, hands each value in
through `emit` and returns or raises when the connection ends. The bridge then marks the source's values `offline`,
waits (exponential backoff with jitter, reset after each successful connection) and connects
again, forever, until cancelled. Payloads that break the edge rule are counted (`stats.malformed`)
and logged, never fatal; an exception in a stream is a connection fault, never the caller's.
Bridges only read: no stream writes to a machine.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Mapping

from twin.document import Source
from twin.live.state import LiveValue, SourceState

log = logging.getLogger(__name__)

OnUpdate = Callable[[str, dict[str, dict]], None]
"""Called with (machine id, {property: {"value", "unit"?, "source_time_s", "quality"}}) for each update."""
Stream = Callable[["Bridge"], Awaitable[None]]
_LOG_EVERY = 100  # after the first few, one log line per this many malformed payloads


@dataclass(frozen=True)
class Backoff:
    """Waits between reconnection attempts: `first_s`, doubling up to `max_s`, each +-`jitter`."""

    first_s: float = 0.5
    max_s: float = 30.0
    jitter: float = 0.2

    def wait_s(self, attempt: int) -> float:
        base = min(self.max_s, self.first_s * 2 ** min(attempt, 30))
        return base * (1 + random.uniform(-self.jitter, self.jitter))


@dataclass
class BridgeStats:
    messages: int = 0
    malformed: int = 0
    connects: int = 0
    failures: int = 0
    last_error: str | None = None
    last_malformed: str | None = None
    malformed_by_machine: dict[str, int] = field(default_factory=dict)


class Bridge:
    """The bridge of one source: its latest values, counters and connection state."""

    def __init__(self, source: Source, stream: Stream, on_update: OnUpdate, *, backoff: Backoff = Backoff(),
                 env: Mapping[str, str] | None = None, clock: Callable[[], float] = time.time):
        self.source = source
        self._stream = stream
        self._on_update = on_update
        self.backoff = backoff
        self.env = os.environ if env is None else env
        self.clock = clock
        self.state = SourceState(source.stale_after_s)
        self.stats = BridgeStats()
        self.online = False

    # What streams call.

    def secret(self, env_name: str | None) -> str | None:
        """The value of the environment variable `env_name` (None: the source names none)."""
        if env_name is None:
            return None
        value = self.env.get(env_name)
        if value is None:
            raise ConnectionError(f"source {self.source.id!r} needs the environment variable {env_name}, which is "
                                  "not set; set it where `twin serve` runs")
        return value

    def connected(self) -> None:
        self.online = True
        self.stats.connects += 1
        log.info("source %s (%s) connected", self.source.id, self.source.kind)

    def emit(self, machine: str, values: dict[str, LiveValue]) -> None:
        if values:
            self._hand_on(machine, self.state.update(machine, values))

    def emit_checked(self, machine: str, values: dict[str, LiveValue], problems: list[str]) -> None:
        """Hand on the values of one payload that passed, and count the payload malformed if some did not."""
        if problems:
            self.malformed(machine, "; ".join(problems[:3]))
        self.emit(machine, values)

    def malformed(self, machine: str | None, why: str) -> None:
        """A payload or value refused by the edge rule or the mapping: counted, logged, dropped."""
        stats = self.stats
        stats.malformed += 1
        stats.last_malformed = why
        if machine is not None:
            stats.malformed_by_machine[machine] = stats.malformed_by_machine.get(machine, 0) + 1
        if stats.malformed <= 3 or stats.malformed % _LOG_EVERY == 0:
            log.warning("source %s: ignored a malformed payload%s (%d so far): %s", self.source.id,
                        f" for machine {machine}" if machine else "", stats.malformed, why)

    def value(self, value: object, unit: str | None, source_time_s: float | None = None) -> LiveValue:
        now = self.clock()
        return LiveValue(value, now if source_time_s is None else source_time_s, unit=unit, received_s=now)

    # Running.

    async def run(self) -> None:
        """Keep the source connected until cancelled; never raises but CancelledError."""
        attempt = 0
        watcher = asyncio.create_task(self._watch_stale()) if self.source.stale_after_s else None
        try:
            while True:
                try:
                    await self._stream(self)
                    error_text = "the connection ended"
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # any fault of a stream is a fault of this source only
                    error_text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                self.stats.failures += 1
                self.stats.last_error = error_text
                if self.online:
                    attempt = 0
                self.online = False
                for machine, values in self.state.offline().items():
                    self._hand_on(machine, values)
                wait_s = self.backoff.wait_s(attempt)
                attempt += 1
                log.warning("source %s (%s, %s) is offline (%s); retrying in %.1f s", self.source.id,
                            self.source.kind, self.source.url, error_text, wait_s)
                await asyncio.sleep(wait_s)
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _watch_stale(self) -> None:
        period_s = min(1.0, self.source.stale_after_s / 4)
        while True:
            await asyncio.sleep(period_s)
            for machine, values in self.state.stale(self.clock()).items():
                self._hand_on(machine, values)

    def _hand_on(self, machine: str, values: dict[str, LiveValue]) -> None:
        try:
            self._on_update(machine, {name: value.as_json() for name, value in values.items()})
        except Exception:  # the receiver's fault must not stop this bridge
            log.exception("source %s: the update of machine %s could not be handed on", self.source.id, machine)
