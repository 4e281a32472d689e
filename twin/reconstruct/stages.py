"""Running a reconstruction as named stages that write files, so reruns skip what is done.

A stage declares its output files (relative to the scan folder) and a function that writes them.
The function gets temporary paths (same suffix, so writers that go by extension still work) and
the runner renames them into place only when the function returns: a file with its final name
is always complete. `stages.json` in the scan folder records, per stage, the settings it ran
with and how long it took. A stage is skipped when it finished before with the same settings,
its outputs are all there, and no stage before it ran again in this run.

    runner = StageRunner(out_dir, progress=progress)
    runner.run("track", ["work/odometry.json"], settings, lambda paths, report: ...)
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from twin.progress import Progress

STATE_FILE = "stages.json"
PARTIAL = ".partial"

StageWork = Callable[[dict[str, Path], Callable[[int, int], None]], Any]


class StageRunner:
    def __init__(self, out_dir: Path, *, progress: Progress | None = None):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._progress = progress
        self._state = self._load_state()
        self._upstream_ran = False
        self.timings: dict[str, dict[str, Any]] = {}

    def run(self, name: str, outputs: Sequence[str], settings: dict, work: StageWork) -> bool:
        """Runs `work(partial_paths, report)` unless the stage is already done; True if it ran.

        `partial_paths` maps each output (as given) to the temporary path to write;
        `report(done, total)` forwards progress as `progress(name, done, total)`.
        """
        fingerprint = _fingerprint(settings)
        finals = {output: self.out_dir / output for output in outputs}
        previous = self._state.get(name)
        if (not self._upstream_ran and previous and previous.get("fingerprint") == fingerprint
                and all(path.is_file() for path in finals.values())):
            self.timings[name] = {"seconds": previous["seconds"], "reused": True}
            self._report(name, 1, 1)
            return False

        partials = {output: _partial_path(path) for output, path in finals.items()}
        for path in partials.values():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
        self._state.pop(name, None)
        self._save_state()
        start = time.perf_counter()
        self._report(name, 0, 1)
        try:
            work(partials, lambda done, total: self._report(name, done, total))
            missing = [str(path) for path in partials.values() if not path.is_file()]
            if missing:
                raise RuntimeError(f"stage {name} did not write {', '.join(missing)}")
        except BaseException:
            for path in partials.values():
                path.unlink(missing_ok=True)
            raise
        for output, path in partials.items():
            os.replace(path, finals[output])
        seconds = time.perf_counter() - start
        self._upstream_ran = True
        self._state[name] = {"fingerprint": fingerprint, "seconds": seconds}
        self._save_state()
        self.timings[name] = {"seconds": seconds, "reused": False}
        return True

    def _report(self, name: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(name, done, total)

    def _load_state(self) -> dict:
        try:
            state = json.loads((self.out_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _save_state(self) -> None:
        publish(self.out_dir / STATE_FILE, lambda partial: partial.write_text(json.dumps(self._state, indent=2)))


def publish(path: Path, write: Callable[[Path], Any]) -> None:
    """Writes a file that is not a stage's output (e.g. a report) under a partial name, then renames it."""
    partial = _partial_path(Path(path))
    try:
        write(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def _partial_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}{PARTIAL}{path.suffix}")


def _fingerprint(settings: dict) -> str:
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
