"""Live values as viewers get them: value, unit, source time and quality, per property of a machine.

A property in a bridge's `machine_state` is `{"value", "unit"?, "source_time_s", "quality"}`:
`source_time_s` is when the source measured it (Unix seconds; the arrival time where the source
does not say), `quality` is `good`, `stale` (no update for the source's `stale_after_s`) or
`offline` (the source is down; the value is the last one known). `SourceState` keeps the latest
values of one source and makes the updates that mark them stale or offline.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class Quality(str, Enum):
    GOOD = "good"
    STALE = "stale"
    OFFLINE = "offline"


@dataclass(frozen=True)
class LiveValue:
    value: object
    source_time_s: float
    """When the source measured the value (Unix seconds); the arrival time where the source does not say."""
    quality: Quality = Quality.GOOD
    unit: str | None = None
    received_s: float = 0.0
    """When the bridge received it (its clock), for staleness."""

    def as_json(self) -> dict:
        plain = {"value": self.value, "source_time_s": self.source_time_s, "quality": self.quality.value}
        if self.unit is not None:
            plain["unit"] = self.unit
        return plain


Updates = dict[str, dict[str, LiveValue]]
"""machine id -> property name -> its new value."""


class SourceState:
    """The latest value of each property of each machine of one source."""

    def __init__(self, stale_after_s: float | None = None):
        self.stale_after_s = stale_after_s
        self.latest: Updates = {}

    def update(self, machine: str, values: dict[str, LiveValue]) -> dict[str, LiveValue]:
        self.latest.setdefault(machine, {}).update(values)
        return values

    def offline(self) -> Updates:
        """Every known value marked offline (those already offline left out)."""
        return self._mark(Quality.OFFLINE, lambda value: value.quality is not Quality.OFFLINE)

    def stale(self, now_s: float) -> Updates:
        """Good values older than `stale_after_s` marked stale (none if the source sets no such time)."""
        if self.stale_after_s is None:
            return {}
        return self._mark(Quality.STALE, lambda value: value.quality is Quality.GOOD
                          and now_s - value.received_s > self.stale_after_s)

    def _mark(self, quality: Quality, which) -> Updates:
        marked: Updates = {}
        for machine, values in self.latest.items():
            changed = {name: replace(value, quality=quality) for name, value in values.items() if which(value)}
            if changed:
                values.update(changed)
                marked[machine] = changed
        return marked
