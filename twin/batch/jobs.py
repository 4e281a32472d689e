"""One capture as one cluster task: `twin.reconstruct.reconstruct` into its scan folder, on a worker.

The task never raises for a bad capture: it returns a failed `BatchJob` with the library's sentence,
so one broken capture never stops the others. Outputs are as safe as `twin reconstruct`'s: every
stage writes its files under temporary names and renames them when it finishes, so a worker that
dies mid-task leaves only complete files, and the retry (or a rerun) skips the finished stages.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from twin.reconstruct import reconstruct

Status = Literal["done", "failed", "skipped"]


@dataclass(frozen=True)
class BatchCapture:
    """What one task reconstructs: `capture` into the scan folder `output` with `reconstruct`'s keyword `options`."""

    capture: Path
    output: Path
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchJob:
    """What became of one capture: "skipped" when every stage had finished before (nothing redone)."""

    capture: Path
    output: Path
    status: Status
    seconds: float
    reason: str | None = None

    def as_report(self) -> dict[str, Any]:
        report = {"capture": str(self.capture), "output": str(self.output), "status": self.status}
        if self.reason is not None:
            report["reason"] = self.reason
        report["seconds"] = round(self.seconds, 3)
        return report


def scan_folders(captures: Sequence[Path], out_dir: Path) -> list[Path]:
    """One scan folder under `out_dir` per capture, named after it (bench.r3d -> out_dir/bench)."""
    outputs = [Path(out_dir) / Path(capture).stem for capture in captures]
    by_name: dict[Path, Path] = {}
    for capture, output in zip(captures, outputs):
        if output in by_name:
            raise ValueError(f"{by_name[output]} and {capture} would both be reconstructed into {output}; "
                             "rename one of the captures or run them in separate batches")
        by_name[output] = Path(capture)
    return outputs


def reconstruct_capture(job: BatchCapture, on_stage: Callable[[str], None] | None = None) -> BatchJob:
    """Runs on a worker: reconstructs `job`, calling `on_stage(stage)` each time a new stage starts."""
    start = time.perf_counter()
    current = {"stage": None}

    def progress(stage: str, done: int, total: int) -> None:
        if on_stage is not None and stage != current["stage"]:
            current["stage"] = stage
            on_stage(stage)

    try:
        result = reconstruct(job.capture, job.output, progress=progress, **job.options)
    except (ValueError, RuntimeError, OSError) as error:
        # Bad input and failed stages are sentences for the user; anything else is a bug and propagates.
        return BatchJob(job.capture, job.output, "failed", time.perf_counter() - start, str(error))
    status: Status = "skipped" if all(t.reused for t in result.stages.values()) else "done"
    return BatchJob(job.capture, job.output, status, time.perf_counter() - start)
