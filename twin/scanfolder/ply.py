"""PLY files read straight into numpy: the header's elements, and the vertex element as a cloud.

Binary or ASCII, the vertex element's plain-number properties: 8-bit colours stay 8-bit, ten million
points read in a fraction of what a general reader takes, and a file that holds fewer vertices than
its header promises is refused as cut short (where Open3D fills in the rest and carries on).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twin.scanfolder.text_table import read_number_rows

_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
              "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
              "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}
_FORMATS = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": None}


@dataclass(frozen=True)
class PlyElement:
    name: str
    count: int
    properties: list[list[str]] = field(default_factory=list)
    """Each property line's words after `property`: ["float", "x"] or ["list", "uchar", "int", "vertex_indices"]."""


@dataclass(frozen=True)
class PlyHeader:
    format: str
    elements: list[PlyElement]
    data_offset: int
    """Bytes before the body."""
    lines: int
    """Lines before the body (the ASCII body's first row is the next)."""

    def count(self, element: str) -> int:
        return next((e.count for e in self.elements if e.name == element), 0)


def read_ply_header(path: Path) -> PlyHeader:
    with open(path, "rb") as file:
        if file.readline().strip() != b"ply":
            raise ValueError(f"{path}: not a PLY file (it must start with 'ply'); export the cloud as PLY")
        fmt, elements, lines = None, [], 1
        while True:
            line = file.readline()
            lines += 1
            if not line:
                raise ValueError(f"{path}: the PLY header has no end_header line; the file is cut short or damaged")
            words = line.decode("ascii", errors="replace").split()
            if not words or words[0] in ("comment", "obj_info"):
                continue
            if words[0] == "end_header":
                break
            if words[0] == "format" and len(words) == 3:
                fmt = words[1]
            elif words[0] == "element" and len(words) == 3 and words[2].isdigit():
                elements.append(PlyElement(words[1], int(words[2])))
            elif words[0] == "property" and elements and len(words) >= 3:
                elements[-1].properties.append(words[1:])
            else:
                raise ValueError(f"{path}: the PLY header's line {lines} ({' '.join(words)[:60]!r}) is not a "
                                 "format, element, property or comment line; the file is damaged")
        if fmt not in _FORMATS:
            raise ValueError(f"{path}: unknown PLY format {fmt!r}; expected one of {', '.join(_FORMATS)}")
        return PlyHeader(fmt, elements, file.tell(), lines)


def read_ply_cloud(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, 3) float64, colours (n, 3) uint8 or floats in [0, 1], or None) of the PLY's first
    element, `vertex`."""
    header = read_ply_header(path)
    vertex = header.elements[0] if header.elements else PlyElement("none", 0)
    if vertex.name != "vertex":
        raise ValueError(f"{path}: the PLY's first element is {vertex.name!r}, not 'vertex'; write the points first")
    properties = []
    for words in vertex.properties:
        if len(words) != 2 or words[0] not in _PLY_TYPES:
            raise ValueError(f"{path}: vertex property {' '.join(words)!r} is not a plain number; "
                             "write x, y, z (and red, green, blue) as numbers")
        properties.append((words[1], _PLY_TYPES[words[0]]))
    names = [name for name, _ in properties]
    if not {"x", "y", "z"} <= set(names):
        raise ValueError(f"{path}: the PLY vertices have no x, y, z properties (they have {names})")
    if len(set(names)) < len(names):
        raise ValueError(f"{path}: the PLY lists a vertex property twice ({names}); the file is damaged")
    if header.format == "ascii":
        rows = (read_number_rows(path, "a vertex row", columns=len(names), skip_lines=header.lines, rows=vertex.count)
                if vertex.count else np.zeros((0, len(names))))
        read = len(rows)
        column = {name: rows[:, i] for i, name in enumerate(names)}
    else:
        dtype = np.dtype([(name, _FORMATS[header.format] + code) for name, code in properties])
        data = np.fromfile(path, dtype=dtype, count=vertex.count, offset=header.data_offset)
        read = len(data)
        column = {name: data[name] for name in names}
    if read < vertex.count:
        raise ValueError(f"{path}: the PLY promises {vertex.count} points but holds {read}; the file is cut short")
    points = np.stack([column["x"], column["y"], column["z"]], axis=1).astype(np.float64)
    colors = None
    if {"red", "green", "blue"} <= set(names):
        colors = np.stack([column["red"], column["green"], column["blue"]], axis=1)
        if colors.dtype != np.uint8 and dict(properties)["red"][0] in "iu":
            colors = colors.astype(np.float64) / 255.0  # integer channels (read as text, or wider) count 0..255
    return points, colors
