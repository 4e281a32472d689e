"""Manufacturers' models (glTF, GLB, OBJ, STL) as machine meshes in the machine's own frame.

The model's own origin and axes are taken as the machine frame (origin at the centre of the
footprint, z up, front facing -y); `scale` converts its units to metres (0.001 for a model in
millimetres). glTF models are y-up with their front facing +z by the glTF convention, so they are
turned into that frame; STL, OBJ and PLY have no convention and are taken as z-up. Place the
machine with its pose in the document, e.g. as `twin locate` found it.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

from twin.geometry import T_ZUP_YUP
from twin.scanfolder import TriangleMesh, read_mesh

SUFFIXES = (".gltf", ".glb", ".obj", ".stl", ".ply")
_GLTF_SUFFIXES = (".gltf", ".glb")


def import_model(path: str | Path, scale: float = 1.0) -> TriangleMesh:
    """Reads a model file into a TriangleMesh in metres."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"{path}: a machine model must be one of {', '.join(SUFFIXES)}; convert it first")
    if not path.is_file():
        raise ValueError(f"{path}: the machine model file does not exist; check the model's uri in the document")
    if not scale > 0:
        raise ValueError(f"{path}: the model scale must be positive (metres per model unit), got {scale}")
    if path.suffix.lower() in _GLTF_SUFFIXES:
        _check_gltf_extensions(path)
    mesh = read_mesh(path)
    if len(mesh.triangles) == 0:
        raise ValueError(f"{path}: the model has no triangles (or its format could not be read); "
                         "export it again as STL, OBJ or GLB")
    vertices = mesh.vertices * scale
    if path.suffix.lower() in _GLTF_SUFFIXES:
        # glTF (x, y up, z front) -> machine frame (x, z up, -y front): (x, y, z) -> (x, -z, y).
        vertices = vertices @ T_ZUP_YUP[:3, :3].T
    return TriangleMesh(vertices, mesh.triangles, mesh.colors)


_UNREADABLE_EXTENSIONS = ("KHR_mesh_quantization", "EXT_meshopt_compression", "KHR_meshopt_compression",
                          "KHR_draco_mesh_compression")


def _check_gltf_extensions(path: Path) -> None:
    """Refuses glTF files whose required extensions the model reader would misread."""
    data = path.read_bytes()
    if data[:4] == b"glTF":
        length, = struct.unpack_from("<I", data, 12)
        data = data[20:20 + length]
    try:
        required = json.loads(data).get("extensionsRequired", [])
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable glTF file ({error}); export the model again") from error
    unreadable = [name for name in required if name in _UNREADABLE_EXTENSIONS]
    if unreadable:
        raise ValueError(f"{path}: the model uses {', '.join(unreadable)}, which the importer cannot read; "
                         "export it without compression or quantisation (e.g. gltf-transform or Blender)")
