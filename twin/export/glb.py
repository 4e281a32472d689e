"""A small GLB builder on pygltflib: typed buffer views (optionally meshopt-compressed), accessors,
meshes, nodes, and the binary container.

The container is packed here rather than by pygltflib's `save_to_bytes`, which folds every buffer
into one and so would break EXT_meshopt_compression's fallback buffer.
"""
from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pygltflib as gl

GENERATOR = "twin"

_COMPONENT_TYPES = {
    np.dtype(np.int8): gl.BYTE, np.dtype(np.uint8): gl.UNSIGNED_BYTE, np.dtype(np.int16): gl.SHORT,
    np.dtype(np.uint16): gl.UNSIGNED_SHORT, np.dtype(np.uint32): gl.UNSIGNED_INT, np.dtype(np.float32): gl.FLOAT,
}
_TYPES = {1: gl.SCALAR, 2: gl.VEC2, 3: gl.VEC3, 4: gl.VEC4}
_MESHOPT = "EXT_meshopt_compression"
_GLB_MAGIC, _JSON_CHUNK, _BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942


def meshopt_available() -> bool:
    """Whether the meshopt encoder (meshoptimizer's, via the `meshopt` package) can be imported."""
    try:
        import meshopt  # noqa: F401
    except ImportError:
        return False
    return True


class GlbBuilder:
    """Collects glTF objects and binary data; `to_bytes()` gives the GLB.

    With `compress=True` every vertex attribute and triangle index buffer view is stored with
    EXT_meshopt_compression (modes ATTRIBUTES and TRIANGLES) and the uncompressed layout lives in a
    data-less fallback buffer, as the extension prescribes.
    """

    def __init__(self, *, compress: bool = False):
        self.gltf = gl.GLTF2(asset=gl.Asset(generator=GENERATOR, version="2.0"), scene=0)
        self._blob = bytearray()
        self._fallback_bytes = 0
        # Extras are kept aside: pygltflib's JSON writer drops empty lists and objects even inside
        # extras, which would change the document we carry.
        self._extras: dict[tuple[str, int], dict[str, Any]] = {}
        self._compress = compress
        if compress:
            import meshopt  # imported here: only compressed output needs it

            self._meshopt = meshopt

    @property
    def compress(self) -> bool:
        return self._compress

    # --- data -------------------------------------------------------------------------------

    def vertex_attribute(self, values: np.ndarray, *, normalized: bool = False, bounds: bool = False) -> int:
        """An accessor over rows of `values` (n, k); rows are padded to 4 bytes as glTF requires."""
        values = np.ascontiguousarray(values)
        count, width = values.shape
        row_bytes = width * values.itemsize
        stride = -(-row_bytes // 4) * 4
        rows = np.zeros((count, stride), dtype=np.uint8)
        rows[:, :row_bytes] = values.view(np.uint8).reshape(count, row_bytes)
        view = self._vertex_view(rows)
        return self._accessor(view, values, normalized, bounds)

    def indices(self, indices: np.ndarray) -> int:
        """A triangle index accessor (uint16 where the vertices allow, else uint32)."""
        flat = np.ascontiguousarray(indices, dtype=np.uint16 if indices.max(initial=0) < 65535 else np.uint32).ravel()
        if not self._compress:
            view = self._plain_view(flat.tobytes(), gl.ELEMENT_ARRAY_BUFFER)
        else:
            view = self._compressed_view(self._meshopt.encode_gltf_buffer(flat, "TRIANGLES"), flat.nbytes,
                                         flat.itemsize, flat.size, "TRIANGLES", gl.ELEMENT_ARRAY_BUFFER)
        return self._accessor(view, flat.reshape(-1, 1), False, False)

    def _accessor(self, view: int, values: np.ndarray, normalized: bool, bounds: bool) -> int:
        accessor = gl.Accessor(bufferView=view, componentType=_COMPONENT_TYPES[values.dtype],
                               count=len(values), type=_TYPES[values.shape[1]], normalized=normalized or None)
        if bounds:
            accessor.min = values.min(axis=0).tolist()
            accessor.max = values.max(axis=0).tolist()
        self.gltf.accessors.append(accessor)
        return len(self.gltf.accessors) - 1

    def _plain_view(self, data: bytes, target: int, stride: int | None = None) -> int:
        offset = self._append(data)
        self.gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=offset, byteLength=len(data),
                                                   byteStride=stride, target=target))
        return len(self.gltf.bufferViews) - 1

    def _vertex_view(self, rows: np.ndarray) -> int:
        count, stride = rows.shape
        if not self._compress:
            return self._plain_view(rows.tobytes(), gl.ARRAY_BUFFER, stride)
        return self._compressed_view(self._meshopt.encode_gltf_buffer(rows, "ATTRIBUTES"), rows.nbytes, stride, count,
                                     "ATTRIBUTES", gl.ARRAY_BUFFER)

    def _compressed_view(self, encoded: bytes, plain_bytes: int, stride: int, count: int, mode: str, target: int) -> int:
        """A buffer view whose data lives meshopt-encoded in the GLB and decoded in the fallback buffer."""
        offset = self._append(encoded)
        self.gltf.bufferViews.append(gl.BufferView(
            buffer=1, byteOffset=self._fallback_bytes, byteLength=plain_bytes,
            byteStride=stride if mode == "ATTRIBUTES" else None, target=target,
            extensions={_MESHOPT: {"buffer": 0, "byteOffset": offset, "byteLength": len(encoded),
                                   "byteStride": stride, "count": count, "mode": mode}}))
        # Views in the fallback buffer keep glTF's 4-byte alignment too.
        self._fallback_bytes += -(-plain_bytes // 4) * 4
        return len(self.gltf.bufferViews) - 1

    def _append(self, data: bytes) -> int:
        self._blob += bytes(-len(self._blob) % 4)
        offset = len(self._blob)
        self._blob += data
        return offset

    # --- scene ------------------------------------------------------------------------------

    def material(self, name: str, *, unlit: bool) -> int:
        """A white, non-metallic material that shows vertex colours (unlit for points)."""
        material = gl.Material(name=name, pbrMetallicRoughness=gl.PbrMetallicRoughness(
            baseColorFactor=[1, 1, 1, 1], metallicFactor=0.0, roughnessFactor=1.0))
        if unlit:
            material.extensions = {"KHR_materials_unlit": {}}
            self.use_extension("KHR_materials_unlit", required=False)
        self.gltf.materials.append(material)
        return len(self.gltf.materials) - 1

    def mesh(self, name: str, attributes: dict[str, int], *, mode: int, indices: int | None = None,
             material: int | None = None) -> int:
        primitive = gl.Primitive(attributes=gl.Attributes(**attributes), mode=mode, indices=indices,
                                 material=material)
        self.gltf.meshes.append(gl.Mesh(name=name, primitives=[primitive]))
        return len(self.gltf.meshes) - 1

    def node(self, name: str, *, mesh: int | None = None, translation=None, rotation=None, scale=None,
             extras: dict[str, Any] | None = None, children: list[int] | None = None) -> int:
        self.gltf.nodes.append(gl.Node(
            name=name, mesh=mesh, children=children or [],
            translation=None if translation is None else [float(v) for v in translation],
            rotation=None if rotation is None else [float(v) for v in rotation],
            scale=None if scale is None else [float(v) for v in scale]))
        if extras:
            self._extras[("nodes", len(self.gltf.nodes) - 1)] = extras
        return len(self.gltf.nodes) - 1

    def add_child(self, parent: int, child: int) -> None:
        self.gltf.nodes[parent].children.append(child)

    def scene(self, roots: list[int], extras: dict[str, Any] | None = None) -> None:
        self.gltf.scenes = [gl.Scene(nodes=roots)]
        if extras:
            self._extras[("scenes", 0)] = extras

    def use_extension(self, name: str, *, required: bool) -> None:
        if name not in self.gltf.extensionsUsed:
            self.gltf.extensionsUsed.append(name)
        if required and name not in self.gltf.extensionsRequired:
            self.gltf.extensionsRequired.append(name)

    # --- output -----------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        self.gltf.buffers = [gl.Buffer(byteLength=len(self._blob))]
        if self._fallback_bytes:
            self.use_extension(_MESHOPT, required=True)
            self.gltf.buffers.append(gl.Buffer(byteLength=self._fallback_bytes, extensions={_MESHOPT: {"fallback": True}}))
        gltf = json.loads(self.gltf.to_json())
        for (kind, index), extras in self._extras.items():
            gltf[kind][index]["extras"] = extras
        document = json.dumps(gltf, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        document += b" " * (-len(document) % 4)
        blob = bytes(self._blob) + bytes(-len(self._blob) % 4)
        total = 12 + 8 + len(document) + 8 + len(blob)
        return b"".join([struct.pack("<III", _GLB_MAGIC, 2, total),
                         struct.pack("<II", len(document), _JSON_CHUNK), document,
                         struct.pack("<II", len(blob), _BIN_CHUNK), blob])
