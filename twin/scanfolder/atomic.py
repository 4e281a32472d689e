"""The one atomic write: a file or folder is written under a temporary name beside its final one and
renamed into place only when complete, so a file with its final name is always whole (an interrupted
run, a failed stage or a failed export leaves the previous file, never half of a new one)."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PARTIAL = ".partial"


def partial_path(path: Path) -> Path:
    """`mesh.ply` -> `mesh.partial.ply`: the suffix stays, for writers that go by extension."""
    return path.with_name(f"{path.stem}{PARTIAL}{path.suffix}")


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yields the temporary path to write a file or a folder at (its folder exists, the path does
    not); renames it to `path` when the block ends, or removes it when the block raises."""
    path = Path(path)
    partial = partial_path(path)
    _remove(partial)  # left behind by a run that was killed
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield partial
    except BaseException:
        _remove(partial)
        raise
    if partial.is_dir() and path.is_dir():
        # A rename cannot replace a folder that has files in it: the old one steps aside first.
        previous = path.with_name(f"{path.stem}.previous{path.suffix}")
        _remove(previous)
        os.replace(path, previous)
        os.replace(partial, path)
        _remove(previous)
    else:
        os.replace(partial, path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
