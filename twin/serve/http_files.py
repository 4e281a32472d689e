"""HTTP for `twin serve`: files from folders that no path can escape, with MIME types and ETags.

Responses are websockets' `Response` objects (the server answers HTTP in its `process_request`
hook); each one closes its connection, since that hook serves one request per connection.
The browser viewer's built files come from the installed package (`twin/viewer_dist`, copied
there by setup.py's build_py when a wheel is built) or, in a source checkout, from
`viewer-web/dist` (`npm run build`).
"""
from __future__ import annotations

import asyncio
import hashlib
import http
import mimetypes
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

_INLINE_READ_BYTES = 256 * 1024
PACKAGED_VIEWER = Path(__file__).resolve().parents[1] / "viewer_dist"
SOURCE_VIEWER = Path(__file__).resolve().parents[2] / "viewer-web" / "dist"
HOW_TO_BUILD_VIEWER = ("run `npm ci && npm run build` in viewer-web/ (or scripts/setup.sh), then restart; "
                       "to carry it in an installed twin, build it before `pip install .`")
# What of a scan folder clients may fetch (twin.json comes from the store, at its revision); of a
# version (twin versions add), its tiles, its distance-coloured tiles and what changed, not its clouds.
_ASSET_ROOTS = ("twin.glb", "tiles")
_VERSION_ASSETS = ("tiles", "change-tiles", "changes.json")
# A version's open carry-over proposal (twin/versions/proposals.py's PROPOSAL_FILE; serve may not
# import versions), fetched by planners only: it names where every anchor is to go.
_VERSION_PROPOSAL = "proposed.patch.json"
MIME = {".glb": "model/gltf-binary", ".gltf": "model/gltf+json", ".json": "application/json",
        ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
        ".ktx2": "image/ktx2", ".bin": "application/octet-stream", ".html": "text/html; charset=utf-8",
        ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
        ".webp": "image/webp", ".mp4": "video/mp4", ".map": "application/json"}


def find_viewer(packaged: Path = PACKAGED_VIEWER, source: Path = SOURCE_VIEWER) -> Path | None:
    """The folder of the built viewer: the package's copy first, else the source tree's, else None."""
    for folder in (packaged, source):
        if (folder / "index.html").is_file():
            return folder
    return None


def safe_file(root: Path, relative: str) -> Path | None:
    """The file `relative` names inside `root`, or None if it is absent or would leave `root`."""
    if not relative or "\x00" in relative or "\\" in relative:
        return None
    if any(part in ("", ".", "..") for part in relative.split("/")):
        return None
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def asset_file(folder: Path, relative: str) -> Path | None:
    """A fetchable asset of a scan folder (`twin.glb`, `tiles/...`, `versions/<id>/tiles/...`,
    `versions/<id>/change-tiles/...`, `versions/<id>/changes.json`), or None."""
    parts = relative.split("/")
    in_version = len(parts) >= 3 and parts[0] == "versions" and parts[2] in _VERSION_ASSETS
    if parts[0] not in _ASSET_ROOTS and not in_version:
        return None
    return safe_file(folder, relative)


def is_proposal(relative: str) -> bool:
    """Whether `relative` names a version's carry-over proposal, `versions/<id>/proposed.patch.json`."""
    parts = relative.split("/")
    return len(parts) == 3 and parts[0] == "versions" and parts[2] == _VERSION_PROPOSAL


def _headers(content_type: str, length: int) -> Headers:
    return Headers([("Content-Type", content_type), ("Content-Length", str(length)),
                    ("Cache-Control", "no-cache"), ("Connection", "close")])


def text_response(status: http.HTTPStatus, text: str) -> Response:
    body = text.encode("utf-8")
    return Response(status.value, status.phrase, _headers("text/plain; charset=utf-8", len(body)), body)


def _not_modified(request: Request, etag: str) -> Response | None:
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        headers = Headers([("ETag", etag), ("Cache-Control", "no-cache"), ("Connection", "close"),
                           ("Content-Length", "0")])
        return Response(304, "Not Modified", headers, b"")
    return None


def bytes_response(request: Request, body: bytes, content_type: str, etag: bool = True) -> Response:
    headers = _headers(content_type, len(body))
    if etag:
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        cached = _not_modified(request, tag)
        if cached is not None:
            return cached
        headers["ETag"] = tag
    return Response(200, "OK", headers, body)


def _file_etag(file: Path) -> str:
    stat = file.stat()
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}-{stat.st_ino:x}"'


def _content_type(file: Path) -> str:
    return MIME.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"


def file_response_now(request: Request, file: Path, body: bytes | None = None) -> Response:
    etag = _file_etag(file)
    cached = _not_modified(request, etag)
    if cached is not None:
        return cached
    body = file.read_bytes() if body is None else body
    headers = _headers(_content_type(file), len(body))
    headers["ETag"] = etag
    return Response(200, "OK", headers, body)


async def read_file(file: Path) -> bytes:
    # Small files (most tiles) come from the page cache faster than a thread hand-off.
    if file.stat().st_size <= _INLINE_READ_BYTES:
        return file.read_bytes()
    return await asyncio.to_thread(file.read_bytes)


async def file_response(request: Request, file: Path) -> Response:
    etag = _file_etag(file)
    cached = _not_modified(request, etag)
    if cached is not None:
        return cached
    return file_response_now(request, file, await read_file(file))
