"""Writing a plan drawing: SVG and PDF at a stated scale on A4/A3 (landscape), DXF in metres on named
layers. Each file is written atomically (twin.scanfolder), so a failed run leaves no half plan."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from twin.plan.drawing import LAYERS, PlanDrawing
from twin.scanfolder import atomic_write

PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
SCALES = (20, 50, 100, 200)
_MARGIN_MM = 10.0
# Strokes and fills per layer/fill, shared by the SVG and the PDF (RGB hex; widths in mm on paper).
_STROKE = {"walls": ("#000000", 0.7), "openings": ("#1f6fd1", 0.5), "machines": ("#202020", 0.35),
           "clearance": ("#888888", 0.15), "dimensions": ("#444444", 0.18), "text": ("#000000", 0.2)}
_FILL = {"zone": "#dfe7f0", "conflict": "#f4a3a3", "machine": "#c8c8c8", "moved": "#ffb347"}


class _Paper:
    """World metres -> paper millimetres (y up on paper), with the plan's lower-left at the margin."""

    def __init__(self, drawing: PlanDrawing, scale: int, paper: str):
        if scale not in SCALES:
            raise ValueError(f"scale 1:{scale} is not offered; choose one of " + ", ".join(f"1:{s}" for s in SCALES))
        if paper not in PAPERS_MM:
            raise ValueError(f"paper {paper!r} is not offered; choose A4 or A3")
        self.width_mm, self.height_mm = PAPERS_MM[paper]
        self.mm_per_m = 1000.0 / scale
        self.low, high = drawing.bounds()
        need = (high - self.low) * self.mm_per_m + 2 * _MARGIN_MM
        if need[0] > self.width_mm or need[1] > self.height_mm:
            raise ValueError(f"the plan needs {need[0]:.0f} x {need[1]:.0f} mm at 1:{scale}, more than {paper} "
                             f"({self.width_mm:.0f} x {self.height_mm:.0f} mm); choose a larger paper or scale")

        self.origin_mm = (np.array([self.width_mm, self.height_mm]) - need) / 2 + _MARGIN_MM  # centred

    def mm(self, points: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(points) - self.low) * self.mm_per_m + self.origin_mm


def write_plan(drawing: PlanDrawing, path: str | Path, scale: int = 100, paper: str = "A4") -> Path:
    path = Path(path)
    writers = {".svg": _write_svg, ".pdf": _write_pdf, ".dxf": _write_dxf}
    if path.suffix.lower() not in writers:
        raise ValueError(f"{path}: a plan is written as .svg, .pdf or .dxf")
    with atomic_write(path) as partial:
        writers[path.suffix.lower()](drawing, partial, scale, paper)
    return path


def plan_bytes(drawing: PlanDrawing, suffix: str, scale: int = 100, paper: str = "A4") -> bytes:
    """The plan as the bytes of a .svg, .pdf or .dxf file (what a server hands out)."""
    with tempfile.TemporaryDirectory(prefix="twin-plan-") as folder:
        return write_plan(drawing, Path(folder) / f"plan{suffix}", scale, paper).read_bytes()


def _write_svg(drawing: PlanDrawing, path: Path, scale: int, paper: str) -> None:
    page = _Paper(drawing, scale, paper)
    h = page.height_mm
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{page.width_mm}mm" height="{h}mm" '
           f'viewBox="0 0 {page.width_mm} {h}">', f'<rect width="100%" height="100%" fill="#ffffff"/>']
    for layer in LAYERS:
        out.append(f'<g id="{layer}">')
        for shape in (s for s in drawing.shapes if s.layer == layer):
            points = " ".join(f"{x:.2f},{h - y:.2f}" for x, y in page.mm(shape.points))
            colour, width = _STROKE[layer]
            fill = _FILL.get(shape.fill, "none")
            dash = ' stroke-dasharray="2,1.5"' if shape.dashed else ""
            tag = "polygon" if shape.closed else "polyline"
            out.append(f'<{tag} points="{points}" fill="{fill}" stroke="{colour}" stroke-width="{width}"{dash}/>')
        for label in (l for l in drawing.labels if l.layer == layer):
            (x, y), = page.mm(np.array(label.position))
            size = max(label.height_m * page.mm_per_m, 1.8)
            out.append(f'<text x="{x:.2f}" y="{h - y:.2f}" font-size="{size:.2f}" font-family="sans-serif" '
                       f'text-anchor="middle">{_escape(label.text)}</text>')
        out.append("</g>")
    out.append(f'<text x="{page.width_mm - _MARGIN_MM}" y="{h - 4}" font-size="3" font-family="sans-serif" '
               f'text-anchor="end">scale 1:{scale} on {paper}</text></svg>')
    path.write_text("\n".join(out), encoding="utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _write_pdf(drawing: PlanDrawing, path: Path, scale: int, paper: str) -> None:
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    page = _Paper(drawing, scale, paper)
    pdf = canvas.Canvas(str(path), pagesize=(page.width_mm * mm, page.height_mm * mm))
    for layer in LAYERS:
        colour, width = _STROKE[layer]
        for shape in (s for s in drawing.shapes if s.layer == layer):
            points = page.mm(shape.points) * mm
            outline = pdf.beginPath()
            outline.moveTo(*points[0])
            for x, y in points[1:]:
                outline.lineTo(x, y)
            if shape.closed:
                outline.close()
            pdf.setStrokeColor(colour)
            pdf.setLineWidth(width * mm)
            pdf.setDash([2 * mm, 1.5 * mm] if shape.dashed else [])
            if shape.fill in _FILL:
                pdf.setFillColor(_FILL[shape.fill])
            pdf.drawPath(outline, stroke=1, fill=int(shape.fill in _FILL))
        pdf.setFillColor("#000000")
        for label in (l for l in drawing.labels if l.layer == layer):
            (x, y), = page.mm(np.array(label.position)) * mm
            pdf.setFont("Helvetica", max(label.height_m * page.mm_per_m, 1.8) * mm)
            pdf.drawCentredString(x, y, label.text)
    pdf.setFont("Helvetica", 3 * mm)
    pdf.drawRightString((page.width_mm - _MARGIN_MM) * mm, 4 * mm, f"scale 1:{scale} on {paper}")
    pdf.save()


def _write_dxf(drawing: PlanDrawing, path: Path, scale: int, paper: str) -> None:
    import ezdxf
    from ezdxf import units

    document = ezdxf.new("R2010", setup=True)  # setup: the standard linetypes (DASHED) and text styles
    document.units = units.M
    colours = {"walls": 7, "openings": 5, "machines": 8, "clearance": 9, "dimensions": 3, "text": 7}
    for layer in LAYERS:
        document.layers.add(layer, color=colours[layer])
    space = document.modelspace()
    for shape in drawing.shapes:
        attributes = {"layer": shape.layer}
        if shape.dashed:
            attributes["linetype"] = "DASHED"
        space.add_lwpolyline([tuple(p) for p in shape.points], close=shape.closed, dxfattribs=attributes)
        if shape.layer == "clearance" and shape.fill == "conflict":
            hatch = space.add_hatch(color=1, dxfattribs={"layer": "clearance"})
            hatch.paths.add_polyline_path([tuple(p) for p in shape.points], is_closed=True)
    for label in drawing.labels:
        space.add_text(label.text, height=label.height_m, dxfattribs={"layer": label.layer}).set_placement(
            label.position, align=ezdxf.enums.TextEntityAlignment.MIDDLE_CENTER)
    document.saveas(path)
