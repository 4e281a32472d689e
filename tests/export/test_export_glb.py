"""Pieces of the twin GLB: machines cut out of the scan mesh, imported models, the mesh primitive."""
from __future__ import annotations

import numpy as np
import pygltflib
import pytest
import yaml
from export_fixtures import SAMPLE_DOCUMENT, accessor, assert_valid, box_mesh, make_scan, node_named, read_glb

from twin import document
from twin.document import Box, Machine, Model, Pose
from twin.export import export_scan
from twin.export.glb import GlbBuilder
from twin.export.machine_split import MARGIN_M, split_machines
from twin.export.mesh import add_mesh
from twin.export.model_import import import_model
from twin.scanfolder import TriangleMesh


def as_mesh(o3d_mesh) -> TriangleMesh:
    return TriangleMesh(np.asarray(o3d_mesh.vertices).copy(), np.asarray(o3d_mesh.triangles).astype(np.int64))


def machine(machine_id: str, pose: Pose, lo, hi, model: Model = Model("scan")) -> Machine:
    return Machine(id=machine_id, name=machine_id, kind="test", pose=pose, bounds=Box(tuple(lo), tuple(hi)), model=model)


def test_split_cuts_each_machine_out_into_its_own_frame():
    yaw = Pose((2.0, 1.0, 0.0), (0.0, 0.0, np.sin(np.pi / 8), np.cos(np.pi / 8)))  # 45 degrees about z
    a = machine("a", yaw, (-0.4, -0.3, 0.0), (0.4, 0.3, 1.0))
    b = machine("b", Pose((-1.0, -1.0, 0.0), (0.0, 0.0, 0.0, 1.0)), (-0.2, -0.2, 0.0), (0.2, 0.2, 0.5))
    floor = box_mesh((-3, -3, -0.05), (4, 4, -0.01), np.eye(4), subdivisions=4)
    scene = floor + box_mesh((-0.38, -0.28, 0.01), (0.38, 0.28, 0.98), a.pose.matrix()) \
        + box_mesh((-0.18, -0.18, 0.01), (0.18, 0.18, 0.48), b.pose.matrix())
    room = as_mesh(scene)
    rest, parts = split_machines(room, [a, b])
    assert len(rest.triangles) + sum(len(p.triangles) for p in parts.values()) == len(room.triangles)
    assert len(rest.triangles) == len(floor.triangles)
    for m in (a, b):
        part = parts[m.id]
        assert len(part.triangles) == 12 * 16  # a box subdivided twice
        assert np.all(part.vertices >= np.asarray(m.bounds.min) - MARGIN_M)
        assert np.all(part.vertices <= np.asarray(m.bounds.max) + MARGIN_M)
        # Moved back by its pose, each of the machine's vertices is where the scan had it.
        world = part.transformed(m.pose.matrix()).vertices
        scanned = {tuple(v) for v in np.round(room.vertices, 9)}
        assert all(tuple(v) in scanned for v in np.round(world, 9))


def test_vertex_normals_are_unit_length():
    mesh = as_mesh(box_mesh((0, 0, 0), (1, 2, 3), np.eye(4)))
    normals = mesh.vertex_normals()
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    # On a box's top face the normal points up.
    top = mesh.vertices[:, 2] == 3
    middle = top & (mesh.vertices[:, 0] > 0) & (mesh.vertices[:, 0] < 1) & (mesh.vertices[:, 1] > 0) & (mesh.vertices[:, 1] < 2)
    np.testing.assert_allclose(normals[middle], [[0, 0, 1]] * middle.sum(), atol=1e-12)


def test_mesh_check_refuses_nans_and_bad_indices():
    with pytest.raises(ValueError, match="NaN or infinite"):
        TriangleMesh(np.array([[0, 0, 0], [np.inf, 0, 0], [0, 1, 0.0]]), np.array([[0, 1, 2]])).check("m.ply")
    with pytest.raises(ValueError, match="do not exist"):
        TriangleMesh(np.zeros((3, 3)), np.array([[0, 1, 3]])).check("m.ply")


@pytest.fixture()
def stl_in_millimetres(tmp_path):
    import open3d as o3d

    model = box_mesh((-200, -250, 0), (200, 250, 550), np.eye(4), subdivisions=1)
    model.compute_triangle_normals()
    path = tmp_path / "models" / "printer.stl"
    path.parent.mkdir()
    o3d.io.write_triangle_mesh(str(path), model)
    return path, len(model.triangles)


def test_import_model_scales_to_metres(stl_in_millimetres):
    path, triangles = stl_in_millimetres
    model = import_model(path, scale=0.001)
    assert len(model.triangles) == triangles
    np.testing.assert_allclose(model.vertices.min(axis=0), [-0.2, -0.25, 0.0], atol=1e-6)
    np.testing.assert_allclose(model.vertices.max(axis=0), [0.2, 0.25, 0.55], atol=1e-6)


def test_import_model_refuses_bad_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        import_model(tmp_path / "missing.stl")
    (tmp_path / "model.step").write_text("not a mesh")
    with pytest.raises(ValueError, match="must be one of"):
        import_model(tmp_path / "model.step")
    with pytest.raises(ValueError, match="scale must be positive"):
        (tmp_path / "x.stl").write_text("solid x\nendsolid x\n")
        import_model(tmp_path / "x.stl", scale=0)


def test_export_places_a_manufacturer_model(tmp_path, stl_in_millimetres):
    path, triangles = stl_in_millimetres
    data = document.to_dict(document.load(SAMPLE_DOCUMENT))
    data["machines"][0]["model"] = {"source": "file", "uri": "models/printer.stl", "scale": 0.001}
    doc_path = tmp_path / "workshop.twin.yaml"
    doc_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    scan = make_scan(tmp_path / "workshop", document.load(doc_path), 5000)
    result = export_scan(scan, compress=False)  # finds workshop.twin.yaml beside the folder
    assert result.machine_triangles["printer-1"] == triangles
    gltf, blob = read_glb(scan / "twin.glb")
    node = node_named(gltf, "_mesh_printer-1")
    primitive = gltf["meshes"][node["mesh"]]["primitives"][0]
    positions = accessor(gltf, blob, primitive["attributes"]["POSITION"]) * node["scale"] + node["translation"]
    np.testing.assert_allclose(positions.min(axis=0), [-0.2, -0.25, 0.0], atol=0.0005)
    np.testing.assert_allclose(positions.max(axis=0), [0.2, 0.25, 0.55], atol=0.0005)
    assert "COLOR_0" not in primitive["attributes"]
    assert_valid([scan / "twin.glb"])


def test_export_refuses_a_missing_model_before_writing(tmp_path):
    data = document.to_dict(document.load(SAMPLE_DOCUMENT))
    data["machines"][1]["model"] = {"source": "file", "uri": "models/none.glb"}
    doc = document.from_dict(data)
    scan = make_scan(tmp_path / "workshop", doc, 2000)
    with pytest.raises(ValueError, match="none.glb: the machine model file does not exist"):
        export_scan(scan, doc)
    assert not (scan / "twin.glb").exists()


def test_mesh_only_scan_uses_mesh_vertices_as_cloud(tmp_path):
    doc = document.load(SAMPLE_DOCUMENT)
    scan = make_scan(tmp_path / "workshop", doc, 1000)
    (scan / "cloud.ply").unlink()
    result = export_scan(scan, doc, compress=True)
    assert result.tiles.points > 0
    gltf, _ = read_glb(scan / "twin.glb")
    assert "EXT_meshopt_compression" in gltf["extensionsRequired"]
    assert_valid([scan / "twin.glb"])


@pytest.mark.parametrize("suffix", [".obj", ".ply"])
def test_import_model_reads_other_formats(tmp_path, suffix):
    import open3d as o3d

    model = box_mesh((-0.5, -0.5, 0), (0.5, 0.5, 1), np.eye(4), subdivisions=1)
    model.compute_vertex_normals()
    path = tmp_path / f"machine{suffix}"
    assert o3d.io.write_triangle_mesh(str(path), model)
    imported = import_model(path)
    assert len(imported.triangles) == len(model.triangles)
    np.testing.assert_allclose(imported.vertices.min(axis=0), [-0.5, -0.5, 0], atol=1e-6)
    np.testing.assert_allclose(imported.vertices.max(axis=0), [0.5, 0.5, 1], atol=1e-6)


def test_import_gltf_model_turns_y_up_into_z_up(tmp_path):
    # A glTF box 0.4 wide (x), 1.2 tall (y up) and 0.6 deep (z towards its front), written by our builder.
    model = as_mesh(box_mesh((-0.2, 0.0, -0.3), (0.2, 1.2, 0.3), np.eye(4), subdivisions=1))
    builder = GlbBuilder(compress=False)
    mesh = builder.mesh("machine", {"POSITION": builder.vertex_attribute(model.vertices.astype(np.float32), bounds=True)},
                        mode=pygltflib.TRIANGLES, indices=builder.indices(model.triangles))
    builder.scene([builder.node("machine", mesh=mesh)])
    path = tmp_path / "machine.glb"
    path.write_bytes(builder.to_bytes())
    imported = import_model(path)
    assert len(imported.triangles) == len(model.triangles)
    np.testing.assert_allclose(imported.vertices.min(axis=0), [-0.2, -0.3, 0.0], atol=1e-6)
    np.testing.assert_allclose(imported.vertices.max(axis=0), [0.2, 0.3, 1.2], atol=1e-6)


def test_import_refuses_gltf_extensions_it_cannot_read(tmp_path):
    model = as_mesh(box_mesh((0, 0, 0), (1, 1, 1), np.eye(4)))
    builder = GlbBuilder(compress=True)
    builder.scene([add_mesh(builder, "machine", model, builder.material("m", unlit=False), precision_m=0.001)])
    path = tmp_path / "machine.glb"
    path.write_bytes(builder.to_bytes())
    with pytest.raises(ValueError, match="EXT_meshopt_compression"):
        import_model(path)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "meshopt"])
def test_mesh_primitive_round_trip(tmp_path, compress):
    """The triangles read back from the GLB are the mesh's, within the 1 mm quantisation."""
    mesh = as_mesh(box_mesh((-1.0, -2.0, 0.0), (1.5, 0.5, 2.0), np.eye(4), subdivisions=3))
    builder = GlbBuilder(compress=compress)
    builder.scene([add_mesh(builder, "box", mesh, builder.material("m", unlit=False), precision_m=0.001)])
    path = tmp_path / "box.glb"
    path.write_bytes(builder.to_bytes())
    assert_valid([path])
    gltf, blob = read_glb(path)
    node = node_named(gltf, "box")
    primitive = gltf["meshes"][node["mesh"]]["primitives"][0]
    positions = accessor(gltf, blob, primitive["attributes"]["POSITION"]) * node["scale"] + node["translation"]
    normals = accessor(gltf, blob, primitive["attributes"]["NORMAL"]) / 127.0
    triangles = accessor(gltf, blob, primitive["indices"]).reshape(-1, 3)
    assert len(triangles) == len(mesh.triangles)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=0.01)

    def corners(vertices, tris):  # each triangle as its sorted corner positions, in mm, sorted
        grid = np.rint(vertices[tris] * 1000).astype(np.int64)
        grid = np.sort(grid.view([("x", np.int64), ("y", np.int64), ("z", np.int64)]).reshape(-1, 3), axis=1)
        rows = grid.view(np.int64).reshape(len(tris), 9)
        return rows[np.lexsort(rows.T[::-1])]

    np.testing.assert_array_equal(corners(positions, triangles), corners(mesh.vertices, mesh.triangles))
