"""Clouds as text, one point a line: XYZ (x y z, further columns ignored), XYZN (x y z nx ny nz),
XYZRGB (x y z r g b, colours 0..1) and PTS (a first line with the count, then x y z, x y z i,
x y z r g b or x y z i r g b, colours 0..255), read as Open3D reads them but refusing a damaged line
(where Open3D skips it) and a PTS file shorter than its count."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.scanfolder.text_table import read_number_rows

_COLUMNS = {".xyz": "x y z", ".xyzn": "x y z nx ny nz", ".xyzrgb": "x y z r g b"}
_PTS_COLOURS = {6: 3, 7: 4}  # columns of a PTS row -> where its r g b start


def read_text_cloud(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, 3) float64, colours (n, 3) floats in [0, 1], or None)."""
    suffix = path.suffix.lower()
    if suffix == ".pts":
        return _read_pts(path)
    layout = _COLUMNS[suffix]
    rows = read_number_rows(path, f"a point row ({layout})", columns=None if suffix == ".xyz" else len(layout.split()))
    if rows.size and rows.shape[1] < 3:
        raise ValueError(f"{path}: the rows hold {rows.shape[1]} numbers; an XYZ cloud needs x y z on every line")
    return rows[:, :3], rows[:, 3:6] if suffix == ".xyzrgb" else None


def _read_pts(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    with open(path, "rb") as file:
        first = file.readline().decode("ascii", errors="replace").strip()
    if not first.isdigit():
        raise ValueError(f"{path}: the first line of a PTS file is the number of points, not {first[:40]!r}")
    count = int(first)
    rows = read_number_rows(path, "a point row (x y z [i] [r g b])", skip_lines=1, rows=count)
    if len(rows) < count:
        raise ValueError(f"{path}: the PTS file promises {count} points but holds {len(rows)}; the file is cut short")
    if rows.size and rows.shape[1] not in (3, 4, *_PTS_COLOURS):
        raise ValueError(f"{path}: the rows hold {rows.shape[1]} numbers; a PTS row is x y z [i] [r g b]")
    start = _PTS_COLOURS.get(rows.shape[1])
    return rows[:, :3], None if start is None else rows[:, start:start + 3] / 255.0
