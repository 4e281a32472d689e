"""The server's plan download (GET /twins/NAME/plan.svg|pdf|dxf): the document's current floor plan
in the asked layout, the library's sentence for what cannot be drawn, and planners' right to correct walls."""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ElementTree

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from twin.document import to_dict
from twin.plan import scan_with_floor_plan
from twin.serve.access import Role, may_edit_path
from twin.serve.http_plan import plan_response

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def planned_document(sample_scan) -> dict:
    document, _ = scan_with_floor_plan(sample_scan)
    return to_dict(document)


def _get(document: dict, file_name: str, query: str = "", revision: int = 7):
    request = Request(f"/twins/sample/{file_name}?{query}", Headers())
    return asyncio.run(plan_response(request, query, "sample", document, revision, file_name))


def _wall_polylines(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    walls = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "walls")
    return [line.get("points") for line in walls]


def test_the_svg_plan_draws_the_current_walls_and_the_layout(planned_document):
    response = _get(planned_document, "plan.svg", "layout=")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["X-Twin-Revision"] == "7"
    assert 'filename="sample-as-scanned-plan.svg"' in response.headers["Content-Disposition"]
    texts = [t.text for t in ElementTree.fromstring(response.body).iter(f"{SVG}text")]
    assert "CNC milling machine" in texts and "revision: 7" in " ".join(texts)
    assert len(_wall_polylines(response.body)) == 4
    # A planner's correction (the first wall's end moved 0.5 m) is what the next download draws.
    corrected = {**planned_document, "floor_plan": {**planned_document["floor_plan"]}}
    walls = [dict(w) for w in corrected["floor_plan"]["walls"]]
    walls[0]["points"] = [walls[0]["points"][0], [walls[0]["points"][1][0], walls[0]["points"][1][1] - 0.5]]
    corrected["floor_plan"]["walls"] = walls
    moved = _wall_polylines(_get(corrected, "plan.svg").body)
    assert moved[0] != _wall_polylines(response.body)[0] and moved[1:] == _wall_polylines(response.body)[1:]


def test_pdf_and_dxf_come_as_their_files(planned_document):
    pdf = _get(planned_document, "plan.pdf", "scale=50&paper=A3")
    assert pdf.status_code == 200 and pdf.body.startswith(b"%PDF") and pdf.headers["Content-Type"] == "application/pdf"
    dxf = _get(planned_document, "plan.dxf")
    assert dxf.status_code == 200 and b"AC1024" in dxf.body  # R2010


def test_what_cannot_be_drawn_is_answered_with_the_reason(planned_document):
    unknown = _get(planned_document, "plan.svg", "layout=nowhere")
    assert unknown.status_code == 400 and b"no layout 'nowhere'" in unknown.body
    too_big = _get(planned_document, "plan.svg", "scale=20")
    assert too_big.status_code == 400 and b"more than A4" in too_big.body
    assert _get(planned_document, "plan.svg", "scale=big").status_code == 400
    unplanned = {k: v for k, v in planned_document.items() if k != "floor_plan"}
    missing = _get(unplanned, "plan.svg")
    assert missing.status_code == 404 and b"no floor plan yet" in missing.body


def test_planners_may_correct_walls_and_artisans_may_not():
    assert may_edit_path(Role.PLANNER, "/floor_plan/walls/0/points/1")
    assert not may_edit_path(Role.ARTISAN, "/floor_plan/walls/0/points/1")
