"""`twin export` end to end on small scan folders made here: outputs, validator, bad input, atomicity."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from export_fixtures import SAMPLE_DOCUMENT, assert_valid, make_scan, node_named, points_of, read_glb, write_cloud

from twin import document
from twin.cli import main
from twin.export import export_scan

N_POINTS = 60_000


@pytest.fixture(scope="module")
def sample_doc():
    return document.load(SAMPLE_DOCUMENT)


@pytest.fixture(scope="module")
def scan(tmp_path_factory, sample_doc) -> Path:
    return make_scan(tmp_path_factory.mktemp("scans") / "workshop", sample_doc, N_POINTS)


@pytest.fixture(scope="module", params=[True, False], ids=["meshopt", "plain"])
def exported(request, scan, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out") / "workshop"
    shutil.copytree(scan, folder)
    stages = []
    result = export_scan(folder, SAMPLE_DOCUMENT, compress=request.param, max_points_per_tile=8_000,
                         progress=lambda stage, done, total: stages.append((stage, done, total)))
    return folder, result, stages


def test_writes_glb_tiles_and_document(exported, sample_doc):
    folder, result, stages = exported
    assert result.glb_path == folder / "twin.glb" and result.glb_path.is_file()
    assert (folder / "tiles" / "tileset.json").is_file()
    assert document.load(folder / "twin.json") == sample_doc
    assert result.tiles.points == N_POINTS and result.tiles.tiles > 1
    assert {"read", "octree", "tiles", "glb"} <= {stage for stage, _, _ in stages}
    assert all(done <= total for _, done, total in stages)
    assert not [p for p in folder.iterdir() if ".partial" in p.name], "no staging left behind"


def test_every_glb_validates_with_no_errors(exported):
    folder, _, _ = exported
    assert_valid([folder / "twin.glb", *sorted((folder / "tiles").glob("*.glb"))])


def test_glb_layout_follows_the_architecture(exported, sample_doc):
    folder, result, _ = exported
    gltf, blob = read_glb(folder / "twin.glb")
    scene = gltf["scenes"][gltf["scene"]]
    assert len(scene["nodes"]) == 1
    root = gltf["nodes"][scene["nodes"][0]]
    assert root["name"] == "twin"
    np.testing.assert_allclose(root["rotation"], [-np.sqrt(0.5), 0, 0, np.sqrt(0.5)])
    children = {gltf["nodes"][i]["name"] for i in root["children"]}
    assert {"room", "cloud", *[m.id for m in sample_doc.machines], "room-centre", "tool-wall"} <= children
    assert "KHR_mesh_quantization" in gltf["extensionsRequired"]
    extras = scene["extras"]["twin"]
    data = document.to_dict(sample_doc)
    for key in ("procedures", "tours", "layouts", "measurements"):
        assert extras[key] == data[key]


def test_machines_are_nodes_with_their_fields_and_anchors(exported, sample_doc):
    folder, result, _ = exported
    gltf, blob = read_glb(folder / "twin.glb")
    for machine in sample_doc.machines:
        node = node_named(gltf, machine.id)
        assert node["extras"]["machine"] == document.to_dict(machine)
        np.testing.assert_allclose(node["translation"], machine.pose.translation)
        np.testing.assert_allclose(node["rotation"], machine.pose.rotation)
        children = {gltf["nodes"][i]["name"] for i in node.get("children", [])}
        assert children == {f"_mesh_{machine.id}"} | {a.id for a in sample_doc.anchors if a.machine == machine.id}
        assert result.machine_triangles[machine.id] > 0
        assert "mesh" in node_named(gltf, f"_mesh_{machine.id}")


def test_glb_cloud_is_the_scan_cloud_within_precision(exported, scan):
    import open3d as o3d

    folder, result, _ = exported
    gltf, blob = read_glb(folder / "twin.glb")
    positions, colors = points_of(gltf, blob, node_named(gltf, "cloud"))
    original = o3d.io.read_point_cloud(str(scan / "cloud.ply"))
    assert len(positions) == result.glb_cloud_points == N_POINTS
    tree = o3d.geometry.KDTreeFlann(original)
    for p in positions[:: len(positions) // 200]:
        _, _, d2 = tree.search_knn_vector_3d(p, 1)
        assert np.sqrt(d2[0]) <= 0.0005 * np.sqrt(3) + 1e-9  # half a 1 mm step on each axis
    assert colors is not None and colors.shape == (N_POINTS, 3)


def test_cli_export_prints_figures(scan, tmp_path, capsys):
    folder = tmp_path / "workshop"
    shutil.copytree(scan, folder)
    (tmp_path / "workshop.twin.yaml").write_text(SAMPLE_DOCUMENT.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["export", str(folder), "--json", "--max-points-per-tile", "20000"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["tiled_points"] == N_POINTS
    assert figures["machine_triangles"].keys() == {"printer-1", "cnc-1", "lathe-1", "laser-1"}
    assert (folder / "twin.json").is_file()


def test_glb_cloud_takes_whole_coarse_levels_within_budget(scan, tmp_path):
    folder = tmp_path / "workshop"
    shutil.copytree(scan, folder)
    result = export_scan(folder, SAMPLE_DOCUMENT, compress=False, max_points_per_tile=2_000, glb_cloud_points=20_000)
    tileset = json.loads((folder / "tiles" / "tileset.json").read_text())
    per_level, stack = {}, [(tileset["root"], 0)]
    while stack:
        tile, level = stack.pop()
        gltf, blob = read_glb(folder / "tiles" / tile["content"]["uri"])
        per_level[level] = per_level.get(level, 0) + len(points_of(gltf, blob, node_named(gltf, "points"))[0])
        stack.extend((child, level + 1) for child in tile.get("children", []))
    totals = np.cumsum([per_level[level] for level in sorted(per_level)])
    assert result.glb_cloud_points == totals[np.searchsorted(totals, 20_000, side="right") - 1] <= 20_000
    gltf, blob = read_glb(folder / "twin.glb")
    assert len(points_of(gltf, blob, node_named(gltf, "cloud"))[0]) == result.glb_cloud_points

    export_scan(folder, SAMPLE_DOCUMENT, compress=False, glb_cloud_points=0)
    gltf, _ = read_glb(folder / "twin.glb")
    assert "cloud" not in {node.get("name") for node in gltf["nodes"]}


def test_a_small_cloud_is_a_single_tile(tmp_path):
    rng = np.random.default_rng(3)
    write_cloud(tmp_path / "cloud.ply", rng.random((500, 3)), rng.random((500, 3)))
    result = export_scan(tmp_path, compress=False)
    tileset = json.loads((tmp_path / "tiles" / "tileset.json").read_text())
    assert result.tiles.tiles == 1 and "children" not in tileset["root"]
    assert tileset["root"]["content"]["uri"] == "r.glb" and tileset["root"]["geometricError"] == 0
    assert document.load(tmp_path / "twin.json").name == tmp_path.name
    assert_valid([tmp_path / "twin.glb", tmp_path / "tiles" / "r.glb"])


# --- bad input ------------------------------------------------------------------------------

def outputs(folder: Path) -> dict[str, bytes]:
    files = [folder / "twin.glb", folder / "twin.json", *sorted((folder / "tiles").glob("*"))]
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


@pytest.fixture()
def exported_once(scan, tmp_path):
    folder = tmp_path / "workshop"
    shutil.copytree(scan, folder)
    export_scan(folder, SAMPLE_DOCUMENT, compress=False)
    return folder


def write_ascii_mesh(path: Path, vertices: np.ndarray, triangles: np.ndarray) -> None:
    header = ["ply", "format ascii 1.0", f"element vertex {len(vertices)}", "property float x", "property float y",
              "property float z", f"element face {len(triangles)}", "property list uchar int vertex_indices", "end_header"]
    rows = [" ".join(f"{v}" for v in vertex) for vertex in vertices] + [f"3 {a} {b} {c}" for a, b, c in triangles]
    path.write_text("\n".join(header + rows) + "\n", encoding="ascii")


def test_mesh_with_nans_fails_and_leaves_previous_outputs(exported_once):
    before = outputs(exported_once)
    write_ascii_mesh(exported_once / "mesh.ply", np.array([[0, 0, 0], [1, 0, 0], [np.nan, 1, 0]]), np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="NaN"):
        export_scan(exported_once, SAMPLE_DOCUMENT, compress=False)
    assert outputs(exported_once) == before
    assert not [p for p in exported_once.iterdir() if ".partial" in p.name]


def test_empty_cloud_is_refused(tmp_path):
    (tmp_path / "cloud.ply").write_text("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\n"
                                        "property float y\nproperty float z\nend_header\n", encoding="ascii")
    with pytest.raises(ValueError, match="empty"):
        export_scan(tmp_path)
    assert not (tmp_path / "twin.glb").exists() and not (tmp_path / "tiles").exists()


def test_document_naming_a_missing_machine_is_refused_before_writing(exported_once, tmp_path):
    before = outputs(exported_once)
    data = document.to_dict(document.load(SAMPLE_DOCUMENT))
    data["procedures"][0]["machine"] = "drill-press-9"
    bad = tmp_path / "bad.twin.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.twin.json: procedures\[0\].machine: names the machine 'drill-press-9'"):
        export_scan(exported_once, bad)
    assert outputs(exported_once) == before


def test_cli_reports_bad_input_with_exit_code_2(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    assert "no such scan folder" in capsys.readouterr().err
    assert main(["export", str(tmp_path)]) == 2
    assert "neither cloud.ply nor mesh.ply" in capsys.readouterr().err


@pytest.mark.data
def test_real_lidar_scan_exports_and_validates(shared_data, tmp_path):
    """A real outdoor LiDAR scan (KITTI, 69,792 points, about 42 x 58 x 12 m, no colours)."""
    folder = tmp_path / "kitti"
    folder.mkdir()
    shutil.copy(shared_data / "registration" / "kitti_pair" / "source.ply", folder / "cloud.ply")
    result = export_scan(folder, max_points_per_tile=10_000)
    assert result.tiles.points == 69_792 and result.tiles.tiles > 1
    assert_valid([folder / "twin.glb", *sorted((folder / "tiles").glob("*.glb"))])
    gltf, blob = read_glb(folder / "twin.glb")
    positions, colors = points_of(gltf, blob, node_named(gltf, "cloud"))
    assert colors is None and len(positions) == result.glb_cloud_points == 69_792


def test_three_js_loads_what_we_write(exported, sample_doc):
    """The viewer's loader (three.js GLTFLoader + meshopt decoder) reads the twin and a tile whole."""
    node = shutil.which("node")
    three = Path(__file__).resolve().parents[2] / "viewer-web" / "node_modules" / "three"
    if node is None or not three.is_dir():
        pytest.skip("needs node and viewer-web/node_modules/three (npm install)")
    folder, result, _ = exported
    tile = folder / "tiles" / "r.glb"
    out = subprocess.run([node, str(Path(__file__).parent / "tools" / "load_gltf_three.mjs"), str(folder / "twin.glb"), str(tile)],
                         capture_output=True, text=True, check=True)
    reports = json.loads(out.stdout)
    twin = reports[str(folder / "twin.glb")]
    assert twin["points"] == result.glb_cloud_points
    assert twin["triangles"] > 0
    ids = {m.id for m in sample_doc.machines} | {a.id for a in sample_doc.anchors} | {"twin", "room", "cloud"}
    assert ids <= set(twin["names"]), "every machine and anchor keeps its node name in three.js"
    assert twin["extras"]["twin"]["procedures"] == document.to_dict(sample_doc)["procedures"]
    assert reports[str(tile)]["points"] == json.loads((folder / "tiles" / "tileset.json").read_text())["root"]["extras"]["points"]
