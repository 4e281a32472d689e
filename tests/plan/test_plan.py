"""Floor plans of the sample workshop: walls against the known room, every door and window, machine
footprints per layout, the DXF read back, the SVG and PDF rasterised and checked on pixels, bad input."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from twin.cli import main
from twin.document import load
from twin.plan import build_drawing, extract_floor_plan, layout_footprints, scan_with_floor_plan, write_plan
from twin.synth import load_workshop
from twin.synth.openings import wall_frames, wall_openings

ROOM = np.array([8.0, 6.0])
TRUE_LINES = {"south": (np.array([0.0, 1.0]), 0.0), "north": (np.array([0.0, 1.0]), 6.0),
              "west": (np.array([1.0, 0.0]), 0.0), "east": (np.array([1.0, 0.0]), 8.0)}


def _wall_name(points: np.ndarray) -> str:
    """The true wall a found one lies along."""
    return min(TRUE_LINES, key=lambda name: np.abs(points @ TRUE_LINES[name][0] - TRUE_LINES[name][1]).max())


def test_walls_lie_within_3_cm_of_the_true_room(surface_points):
    plan = extract_floor_plan(surface_points, "sample")
    assert len(plan.walls) == 4
    distances = []
    for wall in plan.walls:
        points = np.asarray(wall.points)
        normal, offset = TRUE_LINES[_wall_name(points)]
        distances += list(np.abs(points @ normal - offset))
        assert wall.confidence > 0.9
    assert {_wall_name(np.asarray(w.points)) for w in plan.walls} == set(TRUE_LINES)
    assert max(distances) < 0.03, distances
    # The outline is closed: each wall ends where the next begins, at the room's corners.
    corners = np.array([w.points[0] for w in plan.walls])
    assert all(np.allclose(w.points[1], plan.walls[(k + 1) % 4].points[0]) for k, w in enumerate(plan.walls))
    truth = np.array([[0, 0], [8, 0], [8, 6], [0, 6]])
    assert all(np.min(np.linalg.norm(corners - c, axis=1)) < 0.03 for c in truth)
    assert abs(plan.floor_z_m) < 0.02


def test_every_window_and_the_door_is_found_where_it_is(surface_points):
    plan = extract_floor_plan(surface_points, "sample")
    workshop = load_workshop()
    frames = wall_frames(workshop.room_size_m)
    walls = {w.id: _wall_name(np.asarray(w.points)) for w in plan.walls}
    truth = wall_openings(workshop)
    assert len(truth) == 4 and len(plan.openings) == len(truth)
    for opening in truth:
        origin, along, _ = frames[opening.wall]
        expected_kind = "door" if opening.height_m[0] == 0.0 else "window"
        matches = []
        for found in plan.openings:
            ends = sorted((np.append(p, 0.0) - origin) @ along for p in found.points)
            if walls[found.wall] == opening.wall and abs(ends[0] - opening.along_m[0]) < 0.05 \
                    and abs(ends[1] - opening.along_m[1]) < 0.05:
                matches.append(found)
        assert len(matches) == 1, opening
        assert matches[0].kind == expected_kind
        assert matches[0].head_m == pytest.approx(opening.height_m[1], abs=0.05)
        if expected_kind == "window":
            assert matches[0].sill_m == pytest.approx(opening.height_m[0], abs=0.05)


def test_footprints_follow_the_layout():
    document = load(Path(__file__).resolve().parents[2] / "scans" / "sample_workshop.twin.yaml")
    as_scanned = {f.id: f for f in layout_footprints(document, None)}
    open_day = {f.id: f for f in layout_footprints(document, "open-day")}
    assert "lathe-1" in as_scanned and "lathe-1" not in open_day and "printer-2" in open_day
    np.testing.assert_allclose(open_day["printer-1"].corners.mean(axis=0), [3.4, 0.55], atol=1e-9)
    np.testing.assert_allclose(as_scanned["cnc-1"].corners.mean(axis=0), [6.6, 5.35], atol=1e-9)
    # The CNC's 1.3 x 1.0 m bounds, unturned (yaw 0).
    np.testing.assert_allclose(np.ptp(as_scanned["cnc-1"].corners, axis=0), [1.3, 1.0], atol=1e-9)
    with pytest.raises(ValueError, match="no layout 'party'.*open-day"):
        layout_footprints(document, "party")


@pytest.fixture
def planned(sample_scan):
    document, found = scan_with_floor_plan(sample_scan)
    assert found
    return sample_scan, document


def test_the_floor_plan_is_kept_in_twin_json_and_reused(planned):
    scan, document = planned
    kept = json.loads((scan / "twin.json").read_text())["floor_plan"]
    assert len(kept["walls"]) == 4 and len(kept["openings"]) == 4
    kept["walls"][0]["confidence"] = 0.2  # a planner's correction
    (scan / "twin.json").write_text(json.dumps({**json.loads((scan / "twin.json").read_text()), "floor_plan": kept}))
    again, found = scan_with_floor_plan(scan)
    assert not found and again.floor_plan.walls[0].confidence == 0.2
    drawing = build_drawing(again, None)
    assert [s.dashed for s in drawing.shapes if s.layer == "walls"] == [True, False, False, False]
    assert "wall-1 is uncertain" in drawing.notes[0]


def test_dxf_reads_back_with_layers_units_and_texts(planned, tmp_path):
    import ezdxf

    scan, document = planned
    path = write_plan(build_drawing(document, "open-day"), tmp_path / "plan.dxf")
    dxf = ezdxf.readfile(path)
    assert dxf.units == ezdxf.units.M
    assert {"walls", "openings", "machines", "clearance", "dimensions", "text"} <= {layer.dxf.name for layer in dxf.layers}
    space = dxf.modelspace()
    texts = {t.dxf.text for t in space.query("TEXT")}
    assert {"Second 3D printer (planned)", "CNC milling machine"} <= texts and "Metal lathe" not in texts
    assert any(t.startswith("layout: open-day") for t in texts)
    walls = [np.array(p.get_points("xy")) for p in space.query('LWPOLYLINE[layer=="walls"]')]
    corners = np.vstack(walls)
    np.testing.assert_allclose(corners.min(axis=0), [0, 0], atol=0.03)
    np.testing.assert_allclose(corners.max(axis=0), ROOM, atol=0.03)
    assert len(space.query('LWPOLYLINE[layer=="openings"]')) == 4
    assert len(space.query('LWPOLYLINE[layer=="machines"]')) == 4


def _ink(image: np.ndarray) -> np.ndarray:
    return image.min(axis=2) < 100


def _longest_dark_run(mask: np.ndarray) -> int:
    best = 0
    for row in mask:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
        if len(edges):
            best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian's poppler-utils) is not installed")
def test_pdf_prints_the_room_at_its_scale(planned, tmp_path, keep_artefact):
    import cv2

    scan, document = planned
    pdf = write_plan(build_drawing(document, None), tmp_path / "plan.pdf", scale=50, paper="A3")
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    image = cv2.imread(str(keep_artefact(tmp_path / "page.png", "sample-1to50-A3.png")))
    np.testing.assert_allclose(image.shape[:2], (297 / 25.4 * 100, 420 / 25.4 * 100), atol=1)  # A3 landscape
    # The room's 8 m dimension line (the longest unbroken dark line: the south wall has its windows)
    # at 1:50 is 160 mm long: 630 pixels at 100 dpi.
    expected = 8.0 / 50 * 1000 / 25.4 * 100
    assert abs(_longest_dark_run(_ink(image)) - expected) < 0.02 * expected
    red = (image[:, :, 2] > 200) & (image[:, :, 1] < 190) & (image[:, :, 0] < 190)
    assert red.sum() > 1000  # clearance zones crossing the walls (machines stand against them)
    blue = (image[:, :, 0] > 150) & (image[:, :, 2] < 120)
    assert blue.sum() > 50  # the openings


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_svg_renders_in_a_browser_with_the_room_on_it(planned, tmp_path, keep_artefact):
    import cv2

    scan, document = planned
    svg = write_plan(build_drawing(document, None), tmp_path / "plan.svg", scale=100, paper="A4")
    # 297 x 210 mm at 96 px per inch (the browser's CSS pixel).
    width, height = round(297 / 25.4 * 96), round(210 / 25.4 * 96)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={tmp_path / 'svg.png'}",
                    f"--window-size={width},{height}", "--hide-scrollbars", svg.as_uri()],
                   check=True, capture_output=True, timeout=120)
    image = cv2.imread(str(keep_artefact(tmp_path / "svg.png", "sample-1to100-A4-svg.png")))
    expected = 8.0 / 100 * 1000 / 25.4 * 96
    assert abs(_longest_dark_run(_ink(image)) - expected) < 0.03 * expected


def test_cli_writes_plans_and_compares_layouts(sample_scan, tmp_path, capsys, keep_artefact):
    out = tmp_path / "compare.svg"
    assert main(["plan", str(sample_scan), "--compare", "as-scanned", "open-day", "-o", str(out),
                 "--paper", "A3", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["walls"] == 4 and figures["doors"] == 1 and figures["windows"] == 3
    assert figures["moved"] == ["lathe-1", "printer-1", "printer-2"]
    keep_artefact(out, "sample-compare-as-scanned-open-day.svg")
    text = out.read_text()
    assert text.count("#ffb347") == 2  # the moved printer and the added one, highlighted on the right
    assert main(["plan", str(sample_scan), "--layout", "party", "-o", str(tmp_path / "party.pdf")]) == 2
    assert "no layout 'party'" in capsys.readouterr().err and not (tmp_path / "party.pdf").exists()
    assert main(["plan", str(sample_scan), "-o", str(tmp_path / "big.pdf"), "--scale", "20"]) == 2
    assert "more than A4" in capsys.readouterr().err and not list(tmp_path.glob("big*"))


def test_a_tilted_scan_has_no_levelled_floor(surface_points):
    angle = np.radians(20)
    R = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
    with pytest.raises(ValueError, match="no levelled floor"):
        extract_floor_plan(surface_points @ R.T, "tilted.ply")


def test_too_few_wall_points_is_refused(surface_points):
    floor_only = surface_points[surface_points[:, 2] < 0.5]
    with pytest.raises(ValueError, match=r"too few wall points \(0\)"):
        extract_floor_plan(floor_only, "low.ply")


def test_a_missing_wall_is_never_invented(surface_points):
    without_east = surface_points[surface_points[:, 0] < 7.6]
    with pytest.raises(ValueError, match="without inventing a wall"):
        extract_floor_plan(without_east, "three_walls.ply")
    corner_only = surface_points[(surface_points[:, 0] < 4.0) & (surface_points[:, 1] < 3.0)]
    with pytest.raises(ValueError, match="only 2 wall"):
        extract_floor_plan(corner_only, "corner.ply")


def test_a_barely_seen_wall_is_dashed(surface_points, tmp_path):
    # The north wall scanned only in its first 1.5 m (the walk never turned towards the rest).
    hidden = (surface_points[:, 1] > 5.97) & (surface_points[:, 0] > 1.5)
    plan = extract_floor_plan(surface_points[~hidden], "north_hidden.ply")
    north = [w for w in plan.walls if _wall_name(np.asarray(w.points)) == "north"][0]
    assert north.confidence < 0.5
    assert all(w.confidence > 0.9 for w in plan.walls if w is not north)
    assert max(np.abs(np.asarray(north.points)[:, 1] - 6.0)) < 0.03  # where it is, though barely seen
    assert not [o for o in plan.openings if o.wall == north.id]  # an unseen end is no doorway
