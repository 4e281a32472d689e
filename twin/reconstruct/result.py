"""What both pipelines' results hold: the time each stage took this run, or that it was reused.

The results themselves (`RgbdResult`, `PhotoResult`) live beside their pipelines; each has
`as_report()`, the dict written as the scan folder's report.json.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StageTiming:
    """One stage of a run: its seconds (those of the run that did it, when reused) and whether it was reused."""

    seconds: float
    reused: bool

    def as_report(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "reused": self.reused}


def stage_timings(timings: Mapping[str, Mapping[str, Any]], digits: int | None = None) -> dict[str, StageTiming]:
    """`StageRunner.timings` as `StageTiming`s in stage order, seconds rounded to `digits` where given."""
    return {name: StageTiming(round(t["seconds"], digits) if digits is not None else t["seconds"], t["reused"])
            for name, t in timings.items()}


def stages_report(stages: Mapping[str, StageTiming]) -> dict[str, dict[str, Any]]:
    return {name: timing.as_report() for name, timing in stages.items()}
