"""GET /twins/NAME/plan.svg|plan.pdf|plan.dxf?layout=L[&scale=N&paper=A4|A3]: the floor plan of
the twin's document at its current revision (planners' wall corrections included), drawn by twin.plan
in a worker thread. Errors (no floor plan, no such layout, a plan too large for the paper) are
answered 404/400 with the library's sentence.
"""
from __future__ import annotations

import asyncio
import http
import re
import urllib.parse

from websockets.http11 import Request, Response

from twin.document import from_dict
from twin.plan import build_drawing, plan_bytes
from twin.serve.http_files import bytes_response, text_response

PLAN_FILES = {"plan.svg": "image/svg+xml", "plan.pdf": "application/pdf", "plan.dxf": "application/dxf"}


async def plan_response(request: Request, query: str, twin: str, document: dict, revision: int,
                        file_name: str) -> Response:
    """The plan file `file_name` (one of PLAN_FILES) of `document` (as the requester may see it)."""
    options = urllib.parse.parse_qs(query)
    layout = options.get("layout", [""])[0] or None  # empty: the room as scanned (the viewer's as-is)
    paper = options.get("paper", ["A4"])[0]
    try:
        scale = int(options.get("scale", ["100"])[0])
    except ValueError:
        return text_response(http.HTTPStatus.BAD_REQUEST, "scale must be a whole number, e.g. scale=100 for 1:100\n")
    if document.get("floor_plan") is None:
        return text_response(http.HTTPStatus.NOT_FOUND, f"twin {twin!r} has no floor plan yet: run `twin plan` on "
                                                        "its scan folder (it finds the walls), then serve it again\n")

    def draw() -> bytes:
        drawing = build_drawing(from_dict(document, source=f"twin {twin!r}"), layout, revision=str(revision))
        return plan_bytes(drawing, file_name[len("plan"):], scale=scale, paper=paper)

    try:
        body = await asyncio.to_thread(draw)
    except ValueError as error:
        return text_response(http.HTTPStatus.BAD_REQUEST, f"{error}\n")
    response = bytes_response(request, body, PLAN_FILES[file_name])
    saved_as = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{twin}-{layout or 'as-scanned'}-{file_name}")
    response.headers["Content-Disposition"] = f'attachment; filename="{saved_as}"'
    response.headers["X-Twin-Revision"] = str(revision)
    return response
