"""JSON files of a scan folder (report.json, stages.json, work/*.json, and the layouts built on them)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from twin.scanfolder.atomic import atomic_write


def write_json(path: str | Path, data: Any, *, indent: int = 2) -> None:
    """Atomically; numpy arrays and numbers and paths are written as JSON lists, numbers and strings."""
    with atomic_write(path) as partial:
        partial.write_text(json.dumps(data, indent=indent, default=_jsonable), encoding="utf-8")


def read_json(path: str | Path, what: str, remedy: str = "reconstruct the scan again or delete the file") -> Any:
    """The parsed file; ValueError naming it (and `what` it should hold, and the `remedy`) when it cannot
    be read or parsed."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read {what} ({error.strerror})") from None
    except ValueError as error:  # bad JSON, or bytes that are not UTF-8
        raise ValueError(f"{path}: not valid JSON ({error}); {remedy}") from None


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
