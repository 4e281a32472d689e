"""Printable sheets of ArUco / AprilTag markers, for putting up in a workshop before scanning it.

The photo and RGB-D pipelines find these markers and `twin export` makes them the AR viewer's
alignment anchors, so the printed size must be exact: the sheet is an SVG in millimetres (print
it at 100 %, no "fit to page"), one marker per cell of an A4 grid, each with a white quiet zone
of half a code cell (enough for the detectors, and a 16 cm marker still fits on A4), a cut line
and its name. A PNG of the same sheet at a chosen resolution is there
for printers and tools that take no SVG.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from twin.markers.detection import opencv_dictionary

A4_MM = (210.0, 297.0)
PAGE_MARGIN_MM = 10.0
QUIET_ZONE_CELLS = 0.5
LABEL_MM = 6.0  # room under each marker for its name


@dataclass(frozen=True)
class MarkerSheet:
    dictionary: str
    ids: tuple[int, ...]
    size_mm: float
    """Side of the black square (what the pipelines call the marker size), in millimetres."""

    @property
    def cells(self) -> int:
        """Cells along a side of the black square: the code's bits and a black border of one."""
        return opencv_dictionary(self.dictionary).markerSize + 2

    @property
    def card_mm(self) -> float:
        """Side of a marker with its white quiet zone."""
        return self.size_mm * (self.cells + 2 * QUIET_ZONE_CELLS) / self.cells

    def layout(self) -> list[tuple[int, float, float]]:
        """(id, x, y) of each card's top-left corner on the page, in mm, row by row."""
        pitch_x, pitch_y = self.card_mm, self.card_mm + LABEL_MM
        columns = int((A4_MM[0] - 2 * PAGE_MARGIN_MM) // pitch_x)
        rows = int((A4_MM[1] - 2 * PAGE_MARGIN_MM) // pitch_y)
        if columns * rows < len(self.ids):
            raise ValueError(f"{len(self.ids)} markers of {self.size_mm:g} mm do not fit on one A4 page "
                             f"({columns * rows} do); print fewer ids per sheet or a smaller size")
        return [(marker_id, PAGE_MARGIN_MM + (i % columns) * pitch_x, PAGE_MARGIN_MM + (i // columns) * pitch_y)
                for i, marker_id in enumerate(self.ids)]

    def bits(self, marker_id: int) -> np.ndarray:
        """The black (True) and white cells of the black square, as OpenCV draws the marker."""
        image = cv2.aruco.generateImageMarker(opencv_dictionary(self.dictionary), marker_id, self.cells)
        return image < 128


def marker_sheet(dictionary: str, ids: list[int], size_m: float) -> MarkerSheet:
    """A checked sheet: a known dictionary, ids it has, no id twice, a printable size."""
    count = opencv_dictionary(dictionary).bytesList.shape[0]
    if not ids:
        raise ValueError("give at least one marker id to print")
    if len(set(ids)) != len(ids):
        raise ValueError("an id is given twice: the pipelines refuse a marker seen twice, print each id once")
    outside = [i for i in ids if not 0 <= i < count]
    if outside:
        raise ValueError(f"{dictionary} has ids 0 to {count - 1}; {outside} are not among them")
    sheet = MarkerSheet(dictionary, tuple(ids), size_m * 1000)
    largest_mm = (A4_MM[0] - 2 * PAGE_MARGIN_MM) * sheet.cells / (sheet.cells + 2 * QUIET_ZONE_CELLS)
    if not 10 <= sheet.size_mm <= largest_mm:
        raise ValueError(f"marker size {size_m} m is not printable on A4: give the black square's side "
                         f"in metres, between 0.01 and {largest_mm / 1000:.3f}")
    return sheet


def sheet_svg(sheet: MarkerSheet) -> str:
    """The sheet as an A4 SVG measured in millimetres."""
    cell = sheet.size_mm / sheet.cells
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{A4_MM[0]}mm" height="{A4_MM[1]}mm" '
             f'viewBox="0 0 {A4_MM[0]} {A4_MM[1]}">',
             f'<rect width="{A4_MM[0]}" height="{A4_MM[1]}" fill="#fff"/>']
    for marker_id, x, y in sheet.layout():
        parts.append(f'<g id="marker-{marker_id}">')
        parts.append(f'<rect x="{x:.3f}" y="{y:.3f}" width="{sheet.card_mm:.3f}" height="{sheet.card_mm:.3f}" '
                     'fill="none" stroke="#bbb" stroke-width="0.1" stroke-dasharray="1 1"/>')
        for row, col in zip(*np.nonzero(sheet.bits(marker_id))):
            parts.append(f'<rect x="{x + (col + QUIET_ZONE_CELLS) * cell:.3f}" y="{y + (row + QUIET_ZONE_CELLS) * cell:.3f}" '
                         f'width="{cell:.3f}" height="{cell:.3f}" fill="#000"/>')
        parts.append(f'<text x="{x + sheet.card_mm / 2:.3f}" y="{y + sheet.card_mm + LABEL_MM * 0.7:.3f}" '
                     f'font-family="sans-serif" font-size="3" text-anchor="middle">{sheet.dictionary}:{marker_id} '
                     f'- {sheet.size_mm:g} mm</text>')
        parts.append('</g>')
    parts.append('</svg>')
    return "\n".join(parts) + "\n"


def sheet_png(sheet: MarkerSheet, dpi: int = 300) -> np.ndarray:
    """The sheet's markers and cut lines as a grey image at `dpi` (no text: names are in the SVG)."""
    if not 72 <= dpi <= 1200:
        raise ValueError(f"{dpi} dpi: give a printing resolution between 72 and 1200")
    px_per_mm = dpi / 25.4
    page = np.full((round(A4_MM[1] * px_per_mm), round(A4_MM[0] * px_per_mm)), 255, np.uint8)
    cell = sheet.size_mm / sheet.cells
    for marker_id, x, y in sheet.layout():
        card = (round(x * px_per_mm), round(y * px_per_mm), round((x + sheet.card_mm) * px_per_mm),
                round((y + sheet.card_mm) * px_per_mm))
        cv2.rectangle(page, card[:2], card[2:], 190, 1)
        for row, col in zip(*np.nonzero(sheet.bits(marker_id))):
            left, top = x + (col + QUIET_ZONE_CELLS) * cell, y + (row + QUIET_ZONE_CELLS) * cell
            top_left = (round(left * px_per_mm), round(top * px_per_mm))
            bottom_right = (round((left + cell) * px_per_mm) - 1, round((top + cell) * px_per_mm) - 1)
            cv2.rectangle(page, top_left, bottom_right, 0, cv2.FILLED)
    return page


def write_sheet(sheet: MarkerSheet, path: Path, dpi: int = 300) -> Path:
    """Writes the sheet as SVG (a path ending .svg) or PNG (.png)."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        path.write_text(sheet_svg(sheet), encoding="utf-8")
    elif path.suffix.lower() == ".png":
        if not cv2.imwrite(str(path), sheet_png(sheet, dpi)):
            raise ValueError(f"{path}: could not write the PNG there")
    else:
        raise ValueError(f"{path}: write the sheet as .svg (exact size for printing) or .png")
    return path
