"""The twin's GLB: room mesh, point cloud, machines (as movable nodes) and anchors, with the document.

Layout: one root node `twin` turns the z-up world into glTF's y-up; under it, in world
coordinates, the room mesh (the scan without the machines), the cloud, one node per machine named
by its id (pose as its transform, its document fields in `extras`, its mesh in its own frame) with
its anchors as empty child nodes (its geometry in a child node `_mesh_<id>`: no id starts with '_',
so it never clashes with one), and the room's anchors. An anchor node's rotation is the anchor's
(a marker's axes) where it has one. The scene's `extras.twin` carries the document's procedures,
tours, layouts and measurements, and `media`: the files its steps refer to (paths in the scan
folder), so that whoever copies the GLB knows what to copy with it.
"""
from __future__ import annotations

import numpy as np

from twin.document import GLB_NODES, TwinDocument, to_dict
from twin.export.glb import GlbBuilder
from twin.export.media_refs import referenced_media
from twin.export.mesh import add_mesh
from twin.export.point_cloud import add_points
from twin.geometry import QUATERNION_YUP_ZUP
from twin.scanfolder import TriangleMesh

ROOT_NODE, ROOM_NODE, CLOUD_NODE = GLB_NODES


def build_twin_glb(document: TwinDocument, *, room: TriangleMesh | None, machine_meshes: dict[str, TriangleMesh],
                   cloud_points: np.ndarray | None, cloud_colors: np.ndarray | None,
                   precision_m: float, compress: bool) -> bytes:
    """The GLB bytes; `machine_meshes` are in each machine's own frame, `cloud_points` spatially sorted."""
    builder = GlbBuilder(compress=compress)
    surface = builder.material("vertex-colour", unlit=False)
    root = builder.node(ROOT_NODE, rotation=QUATERNION_YUP_ZUP)
    if room is not None and len(room.triangles):
        builder.add_child(root, add_mesh(builder, ROOM_NODE, room, surface, precision_m=precision_m))
    if cloud_points is not None and len(cloud_points):
        points = builder.material("points", unlit=True)
        builder.add_child(root, add_points(builder, CLOUD_NODE, cloud_points, cloud_colors,
                                           precision_m=precision_m, material=points))
    machine_nodes = {}
    for machine in document.machines:
        node = builder.node(machine.node_name, translation=machine.pose.translation, rotation=machine.pose.rotation,
                            extras={"machine": to_dict(machine)})
        mesh = machine_meshes.get(machine.id)
        if mesh is not None and len(mesh.triangles):
            # The geometry is a child: the machine node's transform is its pose, the child's dequantises.
            builder.add_child(node, add_mesh(builder, f"_mesh_{machine.id}", mesh, surface, precision_m=precision_m))
        machine_nodes[machine.id] = node
        builder.add_child(root, node)
    for anchor in document.anchors:
        node = builder.node(anchor.id, translation=anchor.position, rotation=anchor.rotation,
                            extras={"anchor": to_dict(anchor)})
        builder.add_child(machine_nodes[anchor.machine] if anchor.machine else root, node)
    data = to_dict(document)
    twin = {key: data[key]
            for key in ("version", "name", "languages", "procedures", "tours", "layouts", "measurements")}
    builder.scene([root], extras={"twin": {**twin, "media": list(referenced_media(document))}})
    return builder.to_bytes()
