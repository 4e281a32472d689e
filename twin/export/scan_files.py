"""Reading a scan folder's cloud and mesh (PLY, as reconstruction writes them), checked for export.

Clouds are read straight into numpy (binary or ASCII PLY, the vertex element's x, y, z and
red, green, blue): 8-bit colours stay 8-bit, and ten million points read in a fraction of what a
general reader takes. Meshes go through Open3D.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.export.mesh import TriangleMesh

_PLY_TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
              "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
              "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}
_FORMATS = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": None}


def _colors_uint8(colors: np.ndarray) -> np.ndarray:
    """Colours as 8-bit: integer channels as they are, float channels (0..1) scaled."""
    if colors.dtype == np.uint8:
        return colors
    if np.issubdtype(colors.dtype, np.integer):
        return np.clip(colors, 0, 255).astype(np.uint8)
    return np.rint(np.clip(colors, 0.0, 1.0) * 255).astype(np.uint8)


def _ply_vertex_layout(path: Path) -> tuple[str, int, list[tuple[str, str]], int, int]:
    """(format, vertex count, [(property, numpy type)], header bytes, header lines) of a PLY whose
    first element is `vertex`."""
    with open(path, "rb") as file:
        if file.readline().strip() != b"ply":
            raise ValueError(f"{path}: not a PLY file (it must start with 'ply'); export the cloud as PLY")
        fmt, count, properties, element, lines = None, 0, [], None, 1
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
            if words[0] == "format":
                fmt = words[1]
            elif words[0] == "element":
                if element is None and words[1] != "vertex":
                    raise ValueError(f"{path}: the PLY's first element is {words[1]!r}, not 'vertex'; write the points first")
                element = words[1]
                if element == "vertex":
                    count = int(words[2])
            elif words[0] == "property" and element == "vertex":
                if words[1] == "list" or words[1] not in _PLY_TYPES:
                    raise ValueError(f"{path}: vertex property {' '.join(words[1:])!r} is not a plain number; "
                                     "write x, y, z (and red, green, blue) as numbers")
                properties.append((words[2], _PLY_TYPES[words[1]]))
        if fmt not in _FORMATS:
            raise ValueError(f"{path}: unknown PLY format {fmt!r}; expected one of {', '.join(_FORMATS)}")
        return fmt, count, properties, file.tell(), lines


def read_cloud(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(points (n, 3) float64, colours (n, 3) uint8 or None); ValueError if empty or not finite."""
    fmt, count, properties, header_bytes, header_lines = _ply_vertex_layout(path)
    names = [name for name, _ in properties]
    if not {"x", "y", "z"} <= set(names):
        raise ValueError(f"{path}: the PLY vertices have no x, y, z properties (they have {names})")
    if fmt == "ascii":
        rows = (np.loadtxt(path, skiprows=header_lines, max_rows=count, ndmin=2, dtype=np.float64)
                if count else np.zeros((0, len(names))))
        column = {name: rows[:, i].astype(code) for i, (name, code) in enumerate(properties)}
    else:
        dtype = np.dtype([(name, _FORMATS[fmt] + code) for name, code in properties])
        data = np.fromfile(path, dtype=dtype, count=count, offset=header_bytes)
        if len(data) < count:
            raise ValueError(f"{path}: the PLY promises {count} points but holds {len(data)}; the file is cut short")
        column = {name: data[name] for name in names}
    points = np.stack([column["x"], column["y"], column["z"]], axis=1).astype(np.float64)
    colors = None
    if {"red", "green", "blue"} <= set(names):
        colors = _colors_uint8(np.stack([column["red"], column["green"], column["blue"]], axis=1))
    check_cloud(points, str(path))
    return points, colors


def check_cloud(points: np.ndarray, source: str) -> None:
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f"{source}: the cloud is empty (or not a readable point cloud); "
                         "run the reconstruction again or check the file")
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        raise ValueError(f"{source}: {int(bad.sum())} of {len(points)} points are NaN or infinite; "
                         "remove them (e.g. with Open3D's remove_non_finite_points) and export again")


def read_mesh(path: Path) -> TriangleMesh:
    """The scan mesh with vertex colours where it has them; ValueError if it has NaNs or bad indices."""
    import open3d as o3d

    raw = o3d.io.read_triangle_mesh(str(path))
    mesh = TriangleMesh(np.asarray(raw.vertices, dtype=np.float64).reshape(-1, 3),
                        np.asarray(raw.triangles, dtype=np.int64).reshape(-1, 3),
                        _colors_uint8(np.asarray(raw.vertex_colors)) if raw.has_vertex_colors() else None)
    mesh.check(str(path))
    if len(mesh.triangles) == 0:
        raise ValueError(f"{path}: the mesh has no triangles; delete it to export the cloud alone, or reconstruct it again")
    return mesh
