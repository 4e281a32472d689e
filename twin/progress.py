"""The progress callback that long library work takes: `progress(stage, done, total)`.

One definition for every room (registration, reconstruct, export, synth, cli). It lives on its own,
not in `twin.geometry`, because it is not geometry; it imports only the standard library, so any
room may use it. Library code calls it back; only `twin.cli.progress` draws bars from it.
"""
from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
"""Called as `progress(stage, done, total)`: `stage` names the step, `done` of `total` units are finished."""
