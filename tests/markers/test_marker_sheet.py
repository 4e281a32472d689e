"""`twin markers`: printable marker sheets that OpenCV reads back at their exact printed size."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from twin.cli import main
from twin.markers.detection import detect_markers
from twin.markers.sheet import A4_MM, marker_sheet, sheet_png, sheet_svg, write_sheet

SVG = "{http://www.w3.org/2000/svg}"


def test_png_sheet_is_read_by_opencv_with_every_id_at_its_printed_size():
    sheet = marker_sheet("DICT_4X4_50", [0, 1, 2, 3, 4, 17], 0.05)
    dpi = 200
    page = sheet_png(sheet, dpi)
    assert page.shape == (round(A4_MM[1] * dpi / 25.4), round(A4_MM[0] * dpi / 25.4))
    found = detect_markers(page, ("DICT_4X4_50",))
    assert set(found) == {f"DICT_4X4_50:{i}" for i in (0, 1, 2, 3, 4, 17)}
    expected_px = 50 * dpi / 25.4
    for corners in found.values():
        sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
        assert np.allclose(sides, expected_px, rtol=0.01)


def test_apriltag_sheet_is_read_back():
    page = sheet_png(marker_sheet("DICT_APRILTAG_36h11", [5, 300], 0.08), 150)
    assert set(detect_markers(page, ("DICT_APRILTAG_36h11",))) == {"DICT_APRILTAG_36h11:5", "DICT_APRILTAG_36h11:300"}


def test_svg_sheet_is_a4_in_millimetres_with_opencvs_cells():
    sheet = marker_sheet("DICT_4X4_50", [7, 8], 0.08)
    root = ET.fromstring(sheet_svg(sheet))
    assert (root.get("width"), root.get("height")) == ("210.0mm", "297.0mm")
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    assert set(groups) == {"marker-7", "marker-8"}
    cell = 80 / 6  # 4x4 bits and a black border: 6 cells across 80 mm
    for marker_id in (7, 8):
        black = [r for r in groups[f"marker-{marker_id}"].iter(f"{SVG}rect") if r.get("fill") == "#000"]
        xs = np.array([float(r.get("x")) for r in black])
        ys = np.array([float(r.get("y")) for r in black])
        assert all(abs(float(r.get("width")) - cell) < 1e-3 for r in black)
        # The black square spans exactly the printed size.
        assert xs.max() + cell - xs.min() == pytest.approx(80, abs=1e-2)
        grid = np.zeros((6, 6), bool)
        grid[np.rint((ys - ys.min()) / cell).astype(int), np.rint((xs - xs.min()) / cell).astype(int)] = True
        assert np.array_equal(grid, sheet.bits(marker_id))
        assert f"DICT_4X4_50:{marker_id}" in "".join(groups[f"marker-{marker_id}"].itertext())


@pytest.mark.parametrize(("dictionary", "ids", "size", "message"), [
    ("DICT_NOPE", [0], 0.1, "unknown marker dictionary DICT_NOPE"),
    ("DICT_4X4_50", [50], 0.1, "ids 0 to 49"),
    ("DICT_4X4_50", [1, 1], 0.1, "given twice"),
    ("DICT_4X4_50", [], 0.1, "at least one"),
    ("DICT_4X4_50", [0], 0.5, "not printable on A4"),
    ("DICT_4X4_50", list(range(3)), 0.16, "do not fit on one A4 page"),
])
def test_bad_requests_are_refused_with_a_reason(dictionary, ids, size, message):
    with pytest.raises(ValueError, match=message):
        sheet = marker_sheet(dictionary, ids, size)
        sheet.layout()


def test_the_command_writes_svg_and_png_and_refuses_other_files(tmp_path, capsys):
    assert main(["markers", "0", "-o", str(tmp_path / "sheet.svg")]) == 0
    out = capsys.readouterr().out
    assert "1 DICT_4X4_50 marker(s) of 160 mm" in out and "100 %" in out
    assert ET.parse(tmp_path / "sheet.svg").getroot().tag == f"{SVG}svg"
    assert main(["markers", "3", "-o", str(tmp_path / "sheet.png"), "--dpi", "100"]) == 0  # 16 cm: one a page
    assert set(detect_markers(cv2.imread(str(tmp_path / "sheet.png"), cv2.IMREAD_GRAYSCALE))) == {"DICT_4X4_50:3"}
    assert main(["markers", "3", "-o", str(tmp_path / "sheet.pdf")]) == 2
    assert ".svg" in capsys.readouterr().err
    with pytest.raises(ValueError, match="dpi"):
        write_sheet(marker_sheet("DICT_4X4_50", [1], 0.1), tmp_path / "x.png", dpi=10)
