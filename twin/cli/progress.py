"""Progress bars for long library work: the library calls back, the CLI draws."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm


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
