"""Cheap captures for the batch tests: an Open3D/Redwood capture cut into slices of its frames
(symlinks to the frames, the intrinsics copied, the device trajectory cut alongside)."""
from __future__ import annotations

import shutil
from pathlib import Path

from twin.capture.trajectory_log import read_trajectory_log, write_trajectory_log


def write_slice(capture: Path, out: Path, start: int, stop: int) -> Path:
    """Frames [start, stop) of the Redwood-layout `capture` as a capture folder `out`."""
    for folder in ("image", "depth"):
        frames = sorted((capture / folder).iterdir())[start:stop]
        (out / folder).mkdir(parents=True)
        for frame in frames:
            (out / folder / frame.name).symlink_to(frame.resolve())
    if (capture / "intrinsic.json").is_file():
        shutil.copy(capture / "intrinsic.json", out / "intrinsic.json")
    trajectory = capture / "device_trajectory.log"
    if trajectory.is_file():
        write_trajectory_log(out / trajectory.name, read_trajectory_log(trajectory)[start:stop])
    return out


def write_slices(capture: Path, out_dir: Path, count: int, frames: int, overlap: int) -> list[Path]:
    """`count` slices of `frames` frames each, consecutive ones sharing `overlap` frames."""
    step = frames - overlap
    return [write_slice(capture, out_dir / f"part{k + 1}", k * step, k * step + frames) for k in range(count)]
