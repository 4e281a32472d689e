"""Printable sheets of labelled QR codes: A4 portrait, a grid of 3 x 4 cards, each a code with
its title and caption under it and a dashed cut line around it, to stick next to a machine or a
tour stop. A PDF holds every page; an SVG holds one page, so more codes than fit on one become
NAME.svg, NAME-2.svg, ... Codes are 46 mm with their quiet zone: a phone reads them from
about half a metre.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reportlab.pdfbase.pdfmetrics import stringWidth

from twin.qr.codes import QUIET_ZONE_MODULES, qr_modules
from twin.scanfolder import atomic_write

A4_MM = (210.0, 297.0)
MARGIN_MM = 12.0
COLUMNS, ROWS = 3, 4
CODE_MM = 46.0  # the code with its quiet zone
TITLE_MM, CAPTION_MM, SMALLEST_MM = 4.2, 2.8, 2.2  # text heights (font sizes) in millimetres
FONT = "Helvetica"  # one of PDF's standard fonts; the SVG asks for a sans-serif of the same widths
_CARD_W = (A4_MM[0] - 2 * MARGIN_MM) / COLUMNS
_CARD_H = (A4_MM[1] - 2 * MARGIN_MM) / ROWS


@dataclass(frozen=True)
class LabelledCode:
    """What one card shows: the code of `url`, `title` under it in large type, `caption` smaller."""

    title: str
    caption: str
    url: str


@dataclass(frozen=True)
class _Text:
    text: str
    x_mm: float  # the centre
    y_mm: float  # the baseline, from the top of the page
    size_mm: float


@dataclass(frozen=True)
class _Card:
    x_mm: float  # top-left corner of the card, from the page's top-left
    y_mm: float
    modules: np.ndarray
    texts: tuple[_Text, ...]

    @property
    def module_mm(self) -> float:
        return CODE_MM / (len(self.modules) + 2 * QUIET_ZONE_MODULES)

    def dark_runs(self):
        """(x, y, width, height) in mm of each horizontal run of dark modules."""
        step = self.module_mm
        left = self.x_mm + (_CARD_W - CODE_MM) / 2 + QUIET_ZONE_MODULES * step
        top = self.y_mm + 3.0 + QUIET_ZONE_MODULES * step
        for row, line in enumerate(self.modules):
            padded = np.concatenate(([False], line, [False])).astype(np.int8)
            starts, = np.nonzero(np.diff(padded) == 1)
            ends, = np.nonzero(np.diff(padded) == -1)
            for start, end in zip(starts, ends):
                yield left + start * step, top + row * step, (end - start) * step, step


def _fitted(text: str, size_mm: float, width_mm: float) -> tuple[str, float]:
    """`text` at the largest size up to `size_mm` that fits `width_mm`, cut with an ellipsis below SMALLEST_MM."""
    width = stringWidth(text, FONT, size_mm)
    if width <= width_mm:
        return text, size_mm
    size = size_mm * width_mm / width
    if size >= SMALLEST_MM:
        return text, size
    while text and stringWidth(text + "\u2026", FONT, SMALLEST_MM) > width_mm:
        text = text[:-1]
    return text.rstrip() + "\u2026", SMALLEST_MM


def _pages(codes: list[LabelledCode]) -> list[list[_Card]]:
    if not codes:
        raise ValueError("nothing to print: the twin has no machines or tour stops of the kind asked for")
    per_page = COLUMNS * ROWS
    pages = []
    for first in range(0, len(codes), per_page):
        cards = []
        for index, code in enumerate(codes[first:first + per_page]):
            x, y = MARGIN_MM + (index % COLUMNS) * _CARD_W, MARGIN_MM + (index // COLUMNS) * _CARD_H
            centre, room = x + _CARD_W / 2, _CARD_W - 6.0
            title, title_mm = _fitted(code.title, TITLE_MM, room)
            caption, caption_mm = _fitted(code.caption, CAPTION_MM, room)
            below = y + 3.0 + CODE_MM
            cards.append(_Card(x, y, qr_modules(code.url),
                               (_Text(title, centre, below + 1.5 + title_mm, title_mm),
                                _Text(caption, centre, below + 3.5 + title_mm + caption_mm, caption_mm))))
        pages.append(cards)
    return pages


def _footer(footer: str, page: int, pages: int) -> _Text:
    text, size = _fitted(f"{footer}  -  page {page} of {pages}" if pages > 1 else footer, CAPTION_MM,
                         A4_MM[0] - 2 * MARGIN_MM)
    return _Text(text, A4_MM[0] / 2, A4_MM[1] - MARGIN_MM / 2 + 1.0, size)


def _svg(cards: list[_Card], footer: _Text) -> str:
    width, height = A4_MM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
             f'viewBox="0 0 {width} {height}">', f'<rect width="{width}" height="{height}" fill="#fff"/>']
    for card in cards:
        parts.append(f'<rect x="{card.x_mm:.3f}" y="{card.y_mm:.3f}" width="{_CARD_W:.3f}" height="{_CARD_H:.3f}" '
                     'fill="none" stroke="#aaa" stroke-width="0.15" stroke-dasharray="1.5 1.5"/>')
        # One path per code; crispEdges: no anti-aliased seams between rows of modules.
        runs = "".join(f"M{x:.3f} {y:.3f}h{w:.3f}v{h:.3f}h{-w:.3f}z" for x, y, w, h in card.dark_runs())
        parts.append(f'<path d="{runs}" fill="#000" shape-rendering="crispEdges"/>')
        parts.extend(_svg_text(text) for text in card.texts)
    parts.append(_svg_text(footer, "#555"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _svg_text(text: _Text, colour: str = "#000") -> str:
    return (f'<text x="{text.x_mm:.3f}" y="{text.y_mm:.3f}" font-family="Helvetica, Arial, sans-serif" '
            f'font-size="{text.size_mm:.3f}" fill="{colour}" text-anchor="middle">{html.escape(text.text)}</text>')


def _write_pdf(pages: list[list[_Card]], footer: str, path: Path) -> None:
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    height = A4_MM[1]
    pdf = canvas.Canvas(str(path), pagesize=(A4_MM[0] * mm, height * mm))
    pdf.setTitle(footer)
    for number, cards in enumerate(pages, start=1):
        for card in cards:
            pdf.setStrokeColor("#aaaaaa")
            pdf.setLineWidth(0.15 * mm)
            pdf.setDash([1.5 * mm, 1.5 * mm])
            pdf.rect(card.x_mm * mm, (height - card.y_mm - _CARD_H) * mm, _CARD_W * mm, _CARD_H * mm)
            code = pdf.beginPath()
            for x, y, w, h in card.dark_runs():
                code.rect(x * mm, (height - y - h) * mm, w * mm, h * mm)
            pdf.setFillColor("#000000")
            pdf.drawPath(code, stroke=0, fill=1)
            for text in card.texts:
                _pdf_text(pdf, text, height)
        pdf.setFillColor("#555555")
        _pdf_text(pdf, _footer(footer, number, len(pages)), height)
        pdf.showPage()
    pdf.save()


def _pdf_text(pdf, text: _Text, height: float) -> None:
    from reportlab.lib.units import mm

    pdf.setFont(FONT, text.size_mm * mm)
    pdf.drawCentredString(text.x_mm * mm, (height - text.y_mm) * mm, text.text)


def write_qr_sheet(codes: list[LabelledCode], path: str | Path, footer: str = "") -> list[Path]:
    """Writes the sheet as `path` (.pdf: every page in one file; .svg: one file per page, the
    second NAME-2.svg and so on) and returns the files written. `footer` goes under each page."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".pdf", ".svg"):
        raise ValueError(f"{path}: write the sheet as .pdf (every page in one file) or .svg (one file per page)")
    pages = _pages(codes)
    if suffix == ".pdf":
        with atomic_write(path) as partial:
            _write_pdf(pages, footer, partial)
        return [path]
    written = []
    for number, cards in enumerate(pages, start=1):
        page_path = path if number == 1 else path.with_name(f"{path.stem}-{number}{path.suffix}")
        with atomic_write(page_path) as partial:
            partial.write_text(_svg(cards, _footer(footer, number, len(pages))), encoding="utf-8")
        written.append(page_path)
    return written
