"""Open3D/Redwood `.log` trajectories: per frame a line `i j n`, then a 4x4 camera-to-world matrix."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def read_trajectory_log(path: Path) -> list[np.ndarray]:
    """The 4x4 poses of a .log file, in file order; ValueError if the layout is not the .log one."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    if len(rows) % 5:
        raise ValueError(f"{path} has {len(rows)} non-empty lines; a .log trajectory has 5 per frame "
                         "(a line 'i j n' then 4 matrix rows)")
    poses = []
    for start in range(0, len(rows), 5):
        try:
            matrix = np.array([[float(v) for v in row] for row in rows[start + 1:start + 5]])
        except ValueError:
            raise ValueError(f"{path}: the matrix after line {start + 1} has a value that is not a number") from None
        if matrix.shape != (4, 4):
            raise ValueError(f"{path}: the matrix after line {start + 1} is not 4x4")
        poses.append(matrix)
    return poses


def write_trajectory_log(path: Path, poses: list[np.ndarray]) -> None:
    lines = []
    for index, pose in enumerate(poses):
        lines.append(f"{index} {index} {index + 1}")
        lines.extend(" ".join(f"{v:.8f}" for v in row) for row in np.asarray(pose))
    Path(path).write_text("\n".join(lines) + "\n")
