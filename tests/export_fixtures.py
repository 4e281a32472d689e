"""Helpers of the export tests: small scan folders made at test time, GLB reading, the Khronos validator."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from twin.document import TwinDocument

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VALIDATOR_SCRIPT = PROJECT_ROOT / "tests" / "export" / "tools" / "validate_gltf.mjs"
VALIDATOR_PACKAGE = PROJECT_ROOT / "viewer-web" / "node_modules" / "gltf-validator"
SAMPLE_DOCUMENT = PROJECT_ROOT / "scans" / "sample_workshop.twin.yaml"

_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def box_mesh(lo, hi, T: np.ndarray, subdivisions: int = 2):
    """An open3d box mesh spanning [lo, hi] in a frame placed by T, subdivided for more triangles."""
    import open3d as o3d

    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    box = o3d.geometry.TriangleMesh.create_box(*(hi - lo)).translate(lo)
    return box.subdivide_midpoint(subdivisions).transform(T)


def make_scan(folder: Path, document: TwinDocument, n_points: int, *, seed: int = 0) -> Path:
    """A scan folder like reconstruction writes: a floor plus each machine as a box slightly inside
    its bounds (mesh.ply with vertex colours) and a cloud of n_points sampled from it (cloud.ply)."""
    import open3d as o3d

    folder.mkdir(parents=True, exist_ok=True)
    mesh = box_mesh((-0.5, -0.5, -0.02), (6.5, 6.5, 0.0), np.eye(4), subdivisions=3)
    for machine in document.machines:
        mesh += box_mesh(np.add(machine.bounds.min, 0.02), np.subtract(machine.bounds.max, 0.02), machine.pose.matrix())
    vertices = np.asarray(mesh.vertices)
    mesh.vertex_colors = o3d.utility.Vector3dVector(np.clip((vertices + 0.5) / 7.0, 0, 1))
    o3d.io.write_triangle_mesh(str(folder / "mesh.ply"), mesh)
    o3d.utility.random.seed(seed)
    o3d.io.write_point_cloud(str(folder / "cloud.ply"), mesh.sample_points_uniformly(n_points))
    return folder


def write_cloud(path: Path, points: np.ndarray, colors: np.ndarray | None = None) -> None:
    import open3d as o3d

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if colors is not None:
        cloud.colors = o3d.utility.Vector3dVector(colors)
    o3d.io.write_point_cloud(str(path), cloud)


def validate(paths: list[Path]) -> dict[str, dict]:
    """The Khronos glTF Validator's report of each file (skips where node or the validator is absent)."""
    node = shutil.which("node")
    if node is None or not VALIDATOR_PACKAGE.is_dir():
        pytest.skip("the Khronos glTF validator needs node and viewer-web/node_modules/gltf-validator (npm install)")
    out = subprocess.run([node, str(VALIDATOR_SCRIPT), *map(str, paths)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def assert_valid(paths: list[Path]) -> None:
    """Every file validates with 0 errors (and no warnings: nothing we write should be doubtful)."""
    for path, report in validate(paths).items():
        issues = report["issues"]
        assert issues["numErrors"] == 0, f"{path}: {issues['messages']}"
        assert issues["numWarnings"] == 0, f"{path}: {issues['messages']}"


def read_glb(path: Path) -> tuple[dict, bytes]:
    """(the glTF JSON, the binary chunk) of a GLB file."""
    data = Path(path).read_bytes()
    magic, version, total = struct.unpack_from("<III", data)
    assert (magic, version, total) == (0x46546C67, 2, len(data))
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A
    gltf = json.loads(data[20:20 + json_length])
    rest = 20 + json_length
    if rest == len(data):
        return gltf, b""
    bin_length, bin_type = struct.unpack_from("<II", data, rest)
    assert bin_type == 0x004E4942
    return gltf, data[rest + 8:rest + 8 + bin_length]


def accessor(gltf: dict, blob: bytes, index: int) -> np.ndarray:
    """The values of an accessor (count, width), decoding EXT_meshopt_compression where used."""
    acc = gltf["accessors"][index]
    view = gltf["bufferViews"][acc["bufferView"]]
    dtype = np.dtype(_DTYPES[acc["componentType"]])
    width = _WIDTHS[acc["type"]]
    stride = view.get("byteStride", dtype.itemsize * width)
    compressed = view.get("extensions", {}).get("EXT_meshopt_compression")
    if compressed:
        import meshopt

        raw = blob[compressed["byteOffset"]:compressed["byteOffset"] + compressed["byteLength"]]
        decoded = np.asarray(meshopt.decode_gltf_buffer(raw, compressed["count"], compressed["byteStride"], compressed["mode"]))
        rows = decoded.view(np.uint8).reshape(compressed["count"], compressed["byteStride"])
    else:
        start = view.get("byteOffset", 0)
        rows = np.frombuffer(blob[start:start + view["byteLength"]], dtype=np.uint8).reshape(-1, stride)
    rows = rows[:acc["count"], acc.get("byteOffset", 0):acc.get("byteOffset", 0) + dtype.itemsize * width]
    return np.ascontiguousarray(rows).view(dtype).reshape(acc["count"], width)


def node_named(gltf: dict, name: str) -> dict:
    matches = [n for n in gltf["nodes"] if n.get("name") == name]
    assert len(matches) == 1, f"expected one node named {name!r}, found {len(matches)}"
    return matches[0]


def points_of(gltf: dict, blob: bytes, node: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """The dequantised positions (in the node's parent frame) and 8-bit colours of a POINTS node."""
    primitive = gltf["meshes"][node["mesh"]]["primitives"][0]
    assert primitive["mode"] == 0
    steps = accessor(gltf, blob, primitive["attributes"]["POSITION"]).astype(np.float64)
    positions = steps * np.asarray(node.get("scale", [1, 1, 1])) + np.asarray(node.get("translation", [0, 0, 0]))
    colors = primitive["attributes"].get("COLOR_0")
    return positions, None if colors is None else accessor(gltf, blob, colors)
