"""Live values over time, downsampled as they arrive: one row per property per time bucket.

The server keeps the history of what bridges bring in (docs/live.md, "History"). A flood of values
must not become a flood of rows, so values are aggregated into buckets of `resolution_s` (10 s by
default: a week of one property is 60,480 rows): a number keeps its mean, minimum, maximum and
count over the bucket; any other value (a state text, a flag) keeps the last one. Only good and
stale values are history; offline ones repeat the last known value and are left out. This module
holds no I/O: the server drains closed buckets into its store.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_RESOLUTION_S = 10.0
DEFAULT_RETENTION_S = 7 * 24 * 3600.0
MAX_OPEN_BUCKETS = 100_000
"""Bounded memory: buckets beyond this many (properties x open times) are dropped, counted."""


@dataclass
class HistoryRow:
    """One property of one machine over one bucket [t_s, t_s + resolution)."""

    twin: str
    machine: str
    property: str
    t_s: float
    numeric: bool
    count: int = 0
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    last: object = None
    """The last value in the bucket, for values that are not numbers (None for numbers)."""
    unit: str | None = None
    touched_s: float = 0.0
    """When it last took a value (the server's clock): a source whose clock runs ahead must not keep it open."""

    def add(self, value: object) -> None:
        if self.numeric:
            self.mean = value if self.count == 0 else self.mean + (value - self.mean) / (self.count + 1)
            self.low = value if self.low is None else min(self.low, value)
            self.high = value if self.high is None else max(self.high, value)
        else:
            self.last = value
        self.count += 1


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class HistoryBuffer:
    """The open buckets of every property that had values lately."""

    def __init__(self, resolution_s: float = DEFAULT_RESOLUTION_S):
        if not resolution_s > 0:
            raise ValueError("the history resolution must be a positive number of seconds")
        self.resolution_s = resolution_s
        self._open: dict[tuple[str, str, str, float], HistoryRow] = {}
        self.dropped = 0

    def offer(self, twin: str, machine: str, properties: dict[str, dict], now_s: float) -> None:
        """Take a bridge's update ({property: {"value", "unit"?, "source_time_s", "quality"}}) at `now_s`."""
        for name, live in properties.items():
            if live["quality"] == "offline":
                continue
            value = live["value"]
            if not _is_number(value) and not isinstance(value, (str, bool)):
                continue  # objects and lists are shown live, not charted
            t_s = math.floor(live["source_time_s"] / self.resolution_s) * self.resolution_s
            key = (twin, machine, name, t_s)
            row = self._open.get(key)
            if row is None:
                if len(self._open) >= MAX_OPEN_BUCKETS:
                    self.dropped += 1
                    continue
                row = self._open[key] = HistoryRow(twin, machine, name, t_s, _is_number(value), unit=live.get("unit"))
            if _is_number(value) != row.numeric:
                continue  # a property that turns from number to text keeps its bucket's first kind
            row.add(value)
            row.touched_s = now_s

    def drain(self, now_s: float | None = None) -> list[HistoryRow]:
        """Buckets that have ended by `now_s`, or took nothing for a bucket's time (all of them when None,
        e.g. at shutdown), taken out. The store merges a bucket that comes again."""
        closed = [key for key, row in self._open.items()
                  if now_s is None or min(key[3], row.touched_s) + self.resolution_s <= now_s]
        return [self._open.pop(key) for key in closed]
