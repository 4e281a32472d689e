"""HTTP on the server's port (websockets' `process_request` hook): the viewer's built files, the
twins' listing, documents, assets and media, with the same access rules as the WebSocket. Requests
for `/ws` pass through to the WebSocket; uploads (requests with a body) never reach this hook
(`twin.serve.http_upload`).
"""
from __future__ import annotations

import html
import http
import json
import urllib.parse

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from twin.serve import access
from twin.serve.access import Grant
from twin.serve.http_files import (
    HOW_TO_BUILD_VIEWER,
    MIME,
    asset_file,
    bytes_response,
    file_response,
    file_response_now,
    is_proposal,
    safe_file,
    text_response,
)
from twin.serve.http_plan import PLAN_FILES, plan_response
from twin.serve.media import MEDIA_DIR, stored_file


def request_token(headers, query: str) -> str | None:
    """The token a request carries: `Authorization: Bearer <token>`, else `?token=` in its query."""
    authorization = headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return authorization[len("Bearer "):].strip()
    return urllib.parse.parse_qs(query).get("token", [None])[0]


class HttpRoutes:
    """Answers HTTP requests for the twins of `twins` (a `TwinServer`)."""

    def __init__(self, twins):
        self.twins = twins

    async def __call__(self, socket: ServerConnection, request: Request) -> Response | None:
        url = urllib.parse.urlsplit(request.path)
        if url.path == "/ws":
            return None
        if request.method not in ("GET", "HEAD"):
            return text_response(http.HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD are served\n")
        path = urllib.parse.unquote(url.path)
        if path == "/twins" or path.startswith("/twins/"):
            response = await self._twin_http(request, url, path)
        else:
            response = self._viewer_http(request, path)
        if request.method == "HEAD":
            response.body = b""
        return response

    async def _http_grant(self, request: Request, url) -> Grant | None:
        token = request_token(request.headers, url.query)
        return None if token is None else await self.twins.grant(token)

    async def _twin_http(self, request: Request, url, path: str) -> Response:
        grant = await self._http_grant(request, url) or access.VISITOR
        readable = {info.name: grant.role_on(info.name, info.published) for info in self.twins.twin_infos()}
        if path in ("/twins", "/twins/"):
            listing = [{"name": n, "revision": self.twins.hub.heads[n][0], "published": n in self.twins.published}
                       for n, role in readable.items() if role is not None]
            return bytes_response(request, json.dumps(listing).encode(), "application/json", etag=False)
        name, _, relative = path[len("/twins/"):].partition("/")
        if name not in self.twins.folders:
            return text_response(http.HTTPStatus.NOT_FOUND, f"no twin named {name!r}\n")
        role = readable[name]
        if role is None:
            return text_response(http.HTTPStatus.FORBIDDEN,
                                  f"twin {name!r} is not published: send a token (Authorization: Bearer ...)\n")
        if relative == "twin.json":
            revision, document = self.twins.hub.heads[name]
            document = access.served_view(document, role)
            response = bytes_response(request, json.dumps(document).encode(), "application/json")
            response.headers["X-Twin-Revision"] = str(revision)
            return response
        if relative in PLAN_FILES:
            revision, document = self.twins.hub.heads[name]
            return await plan_response(request, url.query, name, access.served_view(document, role), revision, relative)
        if is_proposal(relative):
            return await self._proposal_http(request, name, relative, role)
        if relative.startswith(MEDIA_DIR + "/"):
            return await self._media_http(request, name, relative)
        file = asset_file(self.twins.folders[name], relative)
        if file is None:
            return text_response(http.HTTPStatus.NOT_FOUND, f"twin {name!r} has no file {relative!r}\n")
        return await file_response(request, file)

    async def _proposal_http(self, request: Request, name: str, relative: str, role: access.Role) -> Response:
        # Planners accept proposals (the viewer's versions panel); lower roles may not even read one.
        if role < access.Role.PLANNER:
            return text_response(http.HTTPStatus.FORBIDDEN,
                                  f"only planners and admins of twin {name!r} may read carry-over proposals\n")
        file = safe_file(self.twins.folders[name], relative)
        if file is None:
            return text_response(http.HTTPStatus.NOT_FOUND, f"twin {name!r} has no open proposal {relative!r} "
                                                            "(none was made, or it was accepted with twin versions accept)\n")
        return await file_response(request, file)

    async def _media_http(self, request: Request, name: str, relative: str) -> Response:
        file = stored_file(self.twins.folders[name], relative)
        if file is None:
            return text_response(http.HTTPStatus.NOT_FOUND, f"twin {name!r} has no media {relative!r}\n")
        response = await file_response(request, file)
        # The type is the one sniffed when it was stored (its suffix); browsers may not guess another,
        # and opened on its own it runs nothing: an upload never becomes script in someone's page.
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    def _viewer_http(self, request: Request, path: str) -> Response:
        if self.twins.viewer_files() is None:
            links = "".join(f'<li>{n}: <a href="/twins/{n}/twin.json">twin.json</a></li>' for n in self.twins.folders)
            page = (f"<!doctype html><title>twin serve</title><p>The viewer is not built: "
                    f"{html.escape(HOW_TO_BUILD_VIEWER)}.</p><ul>{links}</ul>")
            return bytes_response(request, page.encode(), MIME[".html"], etag=False)
        file = safe_file(self.twins.viewer_dir, "index.html" if path == "/" else path.lstrip("/"))
        if file is None:
            return text_response(http.HTTPStatus.NOT_FOUND, f"no such file: {path}\n")
        return file_response_now(request, file)
