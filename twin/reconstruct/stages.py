"""Running a reconstruction as named stages that write files, so reruns skip what is done.

A stage declares its output files (relative to the scan folder) and a function that writes them.
The function gets temporary paths (`twin.scanfolder.atomic_write`: same suffix, so writers that go
by extension still work) and the runner renames them into place only when the function returns: a
file with its final name is always complete. `stages.json` in the scan folder records, per stage, the settings it ran
with and how long it took. A stage is skipped when it finished before with the same settings,
its outputs are all there, and no stage before it ran again in this run.

    runner = StageRunner(out_dir, progress=progress)
    runner.run("track", ["work/odometry.json"], settings, lambda paths, report: ...)
"""
from __future__ import annotations

import hashlib
import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Sequence

from twin.progress import Progress
from twin.scanfolder import atomic_write, read_json, write_json

STATE_FILE = "stages.json"

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

        self._state.pop(name, None)
        self._save_state()
        start = time.perf_counter()
        self._report(name, 0, 1)
        with ExitStack() as staged:
            partials = {output: staged.enter_context(atomic_write(path)) for output, path in finals.items()}
            work(partials, lambda done, total: self._report(name, done, total))
            missing = [str(path) for path in partials.values() if not path.is_file()]
            if missing:
                raise RuntimeError(f"stage {name} did not write {', '.join(missing)}")
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
        """{} where there is no readable state: every stage then runs again."""
        try:
            state = read_json(self.out_dir / STATE_FILE, "the finished stages")
        except ValueError:
            return {}
        return state if isinstance(state, dict) else {}

    def _save_state(self) -> None:
        write_json(self.out_dir / STATE_FILE, self._state)


def _fingerprint(settings: dict) -> str:
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
