"""PCD files (PCL's point cloud format) read straight into numpy, so that a file holding fewer points
than its header promises is refused as cut short: Open3D fills the rest of an ASCII file with
whatever memory held. Open3D reads only the LZF-compressed kind, checked against the header's count."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.library_stderr import captured_stderr
from twin.scanfolder.text_table import read_number_rows

_KEYS = ("VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA")
_DATA = ("ascii", "binary", "binary_compressed")


@dataclass(frozen=True)
class PcdHeader:
    fields: list[tuple[str, str, int]]
    """(name, numpy type, count) of each field, in the order of a record."""
    points: int
    data: str
    data_offset: int
    lines: int


def read_pcd_cloud(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, 3) float64, colours (n, 3) uint8 or floats in [0, 1], or None) of a PCD file."""
    header = _read_header(path)
    names = [name for name, _, _ in header.fields]
    if not {"x", "y", "z"} <= set(names):
        raise ValueError(f"{path}: the PCD's fields are {names}; a cloud needs x, y and z")
    if header.data == "binary_compressed":
        return _read_with_open3d(path, header.points)
    if header.data == "ascii":
        width = sum(count for _, _, count in header.fields)
        rows = (read_number_rows(path, "a point row", columns=width, skip_lines=header.lines, rows=header.points)
                if header.points else np.zeros((0, width)))
        starts = np.cumsum([0] + [count for _, _, count in header.fields])
        column = {name: rows[:, start] for (name, _, _), start in zip(header.fields, starts)}
        read = len(rows)
    else:
        dtype = np.dtype([(f"{name}_{k}" if names.count(name) > 1 else name, "<" + code, (count,) if count > 1 else ())
                          for k, (name, code, count) in enumerate(header.fields)])
        data = np.fromfile(path, dtype=dtype, count=header.points, offset=header.data_offset)
        column = {name: data[name] if data[name].ndim == 1 else data[name][:, 0] for name in dtype.names}
        read = len(data)
    if read < header.points:
        raise ValueError(f"{path}: the PCD promises {header.points} points but holds {read}; the file is cut short")
    points = np.stack([column["x"], column["y"], column["z"]], axis=1).astype(np.float64)
    packed = next((name for name in ("rgb", "rgba") if name in column), None)
    if packed is None:
        return points, None
    return points, _unpacked(column[packed], next(code for name, code, _ in header.fields if name == packed), path)


def _read_header(path: Path) -> PcdHeader:
    values: dict[str, list[str]] = {}
    lines = 0
    with open(path, "rb") as file:
        while "DATA" not in values:
            line = file.readline()
            lines += 1
            if not line:
                raise ValueError(f"{path}: the PCD header has no DATA line; the file is cut short or not a PCD cloud")
            words = line.decode("ascii", errors="replace").split()
            if not words or words[0].startswith("#"):
                continue
            if words[0] not in _KEYS or len(words) < 2:
                raise ValueError(f"{path}: line {lines} ({' '.join(words)[:60]!r}) is not a PCD header line; "
                                 "the file is damaged or not a PCD cloud")
            values[words[0]] = words[1:]
        offset = file.tell()
    fields = values.get("FIELDS", [])
    sizes, types = values.get("SIZE", []), values.get("TYPE", [])
    counts = values.get("COUNT", ["1"] * len(fields))
    for key, listed in (("SIZE", sizes), ("TYPE", types), ("COUNT", counts)):
        if len(listed) != len(fields):
            raise ValueError(f"{path}: the PCD header lists {len(fields)} FIELDS but {len(listed)} {key} "
                             "values; the file is damaged")
    codes = []
    for name, size, kind, count in zip(fields, sizes, types, counts):
        if kind not in ("F", "U", "I") or size not in ("1", "2", "4", "8") or not count.isdigit() or count == "0":
            raise ValueError(f"{path}: the PCD field {name} has SIZE {size}, TYPE {kind}, COUNT {count}; "
                             "expected a size of 1, 2, 4 or 8 bytes of type F, U or I, counted at least once")
        codes.append((name, {"F": "f", "U": "u", "I": "i"}[kind] + size, int(count)))
    data = values["DATA"][0]
    if data not in _DATA:
        raise ValueError(f"{path}: the PCD data is {data!r}; expected one of {', '.join(_DATA)}")
    return PcdHeader(codes, _point_count(path, values), data, offset, lines)


def _point_count(path: Path, values: dict[str, list[str]]) -> int:
    """POINTS, or WIDTH x HEIGHT in files from before POINTS existed."""
    words = values.get("POINTS") or [str(_whole(path, values, "WIDTH") * _whole(path, values, "HEIGHT"))]
    if not words[0].isdigit():
        raise ValueError(f"{path}: the PCD header's POINTS {words[0]!r} is not a whole number; the file is damaged")
    return int(words[0])


def _whole(path: Path, values: dict[str, list[str]], key: str) -> int:
    word = values.get(key, ["1"])[0]
    if not word.isdigit():
        raise ValueError(f"{path}: the PCD header's {key} {word!r} is not a whole number; the file is damaged")
    return int(word)


def _unpacked(values: np.ndarray, code: str, path: Path) -> np.ndarray:
    """PCL packs 8-bit red, green, blue into one 32-bit field (as a float's bits, or as an integer)."""
    if code == "f4":
        bits = np.asarray(values, np.float32).view(np.uint32)
    elif np.all((values >= 0) & (values < 2 ** 32)):
        bits = np.asarray(values).astype(np.uint32)
    else:
        raise ValueError(f"{path}: the PCD's rgb values are not packed 8-bit colours; the file is damaged")
    return np.stack([(bits >> 16) & 255, (bits >> 8) & 255, bits & 255], axis=1).astype(np.uint8)


def _read_with_open3d(path: Path, expected: int) -> tuple[np.ndarray, np.ndarray | None]:
    import open3d as o3d  # slow to import: only for the compressed kind

    with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error), captured_stderr() as said:
        cloud = o3d.io.read_point_cloud(str(path), format="pcd")
    points = np.asarray(cloud.points, dtype=np.float64)
    if len(points) != expected:
        raise ValueError(f"{path}: the PCD promises {expected} points but holds {len(points)}"
                         f"{' (' + '; '.join(said) + ')' if said else ''}; the file is cut short or damaged")
    return points, np.asarray(cloud.colors) if cloud.has_colors() else None
