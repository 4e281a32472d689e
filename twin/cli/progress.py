"""Progress bars for long library work: the library calls back, the CLI draws."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from tqdm import tqdm

from twin.progress import Progress


@contextmanager
def stage_progress(description: str, total: int | None = None):
    """Yields a callback `report(done, total=None)` that updates one bar on stderr."""
    bar = tqdm(total=total, desc=description, unit="step", file=sys.stderr,
               disable=None, leave=True, dynamic_ncols=True)

    def report(done: int, total: int | None = None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield report
    finally:
        bar.close()


@contextmanager
def stage_bars() -> Iterator[Progress]:
    """Yields the library's `progress(stage, done, total)` callback, drawing one bar per stage.

    A stage's bar opens when the stage first reports and closes when the next stage starts.
    """
    current: dict = {"stage": None, "bar": None, "report": None}

    def progress(stage: str, done: int, total: int) -> None:
        if stage != current["stage"]:
            if current["bar"] is not None:
                current["bar"].__exit__(None, None, None)
            current["stage"] = stage
            current["bar"] = stage_progress(stage, total)
            current["report"] = current["bar"].__enter__()
        current["report"](done, total)

    try:
        yield progress
    finally:
        if current["bar"] is not None:
            current["bar"].__exit__(None, None, None)
