"""`POST /twins/<name>/media` on the WebSocket port: requests with a body, which websockets' own
HTTP parser refuses ("unsupported request body") and whose handshake it bounds by `open_timeout`.

`TwinConnection` (websockets' `create_connection=`) looks at each connection's request line
before websockets' parser sees a byte: GET and HEAD (the WebSocket, the files) go to websockets
unchanged; any other method comes here, where the head is parsed with the standard library, the
token and the twin's rights are checked, and the body streams (flow-controlled, so memory stays
flat) to a temporary file in the scan folder's media/ that media.py checks and renames. Uploads
keep their own timeouts (a head within HEAD_TIMEOUT_S, no pause longer than IDLE_TIMEOUT_S); a cut
connection removes its file. The answer is flushed and the client's leftover bytes drained before
the connection closes (else the kernel's reset can reach the client before the answer does).
"""
from __future__ import annotations

import asyncio
import http
import http.client
import io
import json
import logging
import re
import ssl
import urllib.parse

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Response

from twin.serve import access
from twin.serve.http import request_token
from twin.serve.http_files import text_response
from twin.serve.media import MediaLimits, megabytes, new_partial, store_upload, used_bytes
from twin.serve.media_sniff import KINDS, SNIFF_BYTES, MediaRefused, sniff_kind

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 10.0  # websockets' default open_timeout, kept for everything but uploads
HEAD_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 30.0
LINGER_S = 2.0
CLOSE_TIMEOUT_S = 10.0
_READ_LIMIT_BYTES = 256 * 1024  # the head's limit; the body's buffer pauses reading at twice this
_WRITE_BYTES = 1 << 20
_UPLOAD_PATH = re.compile(r"/twins/([^/]+)/media")


class _Dropped(Exception):
    """The client went away or stalled: nobody is left to answer."""


def connection_options(twins, tls: ssl.SSLContext | None) -> dict:
    """The keyword arguments of websockets' `serve` that route uploads to `Uploads(twins)`."""
    uploads = Uploads(twins)

    def create_connection(*args, **kwargs) -> TwinConnection:
        return TwinConnection(*args, uploads=uploads, **kwargs)

    # The open timeout moves into TwinConnection.handshake, where uploads can leave it.
    options = {"create_connection": create_connection, "open_timeout": None}
    if tls is not None:
        options["ssl_handshake_timeout"] = OPEN_TIMEOUT_S
    return options


class TwinConnection(ServerConnection):
    """A websockets connection that hands requests with a body (not GET or HEAD) to `Uploads`."""

    def __init__(self, *args, uploads: Uploads, **kwargs):
        super().__init__(*args, **kwargs)
        self._uploads = uploads
        self._start = bytearray()  # the request line, until it is complete
        self._routed = self.loop.create_future()
        self._incoming: asyncio.StreamReader | None = None  # an upload's bytes

    def data_received(self, data: bytes) -> None:
        if self._incoming is not None:
            self._incoming.feed_data(data)
            return
        if self._routed.done():
            super().data_received(data)
            return
        self._start += data
        if b"\n" not in self._start and len(self._start) <= _READ_LIMIT_BYTES:
            return
        self._route()

    def _route(self) -> None:
        buffered, self._start = bytes(self._start), bytearray()
        method = buffered.split(b" ", 1)[0]
        if b"\n" in buffered and method not in (b"GET", b"HEAD"):
            self._incoming = asyncio.StreamReader(limit=_READ_LIMIT_BYTES, loop=self.loop)
            self._incoming.set_transport(self.transport)
            self._incoming.feed_data(buffered)
        self._routed.set_result(None)
        if self._incoming is None and buffered:
            super().data_received(buffered)

    def eof_received(self) -> bool | None:
        if not self._routed.done():
            self._route()
        if self._incoming is not None:
            self._incoming.feed_eof()
            return True  # the client may half-close after its body: the answer still goes out
        return super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._incoming is not None:
            self._incoming.feed_eof()
        super().connection_lost(exc)

    async def handshake(self, *args, **kwargs) -> None:
        async with asyncio.timeout(OPEN_TIMEOUT_S):
            await asyncio.wait([self._routed, self.connection_lost_waiter], return_when=asyncio.FIRST_COMPLETED)
            if self._incoming is None:
                await super().handshake(*args, **kwargs)
                return
        await self._uploads.serve(self._incoming, self)


class Uploads:
    """Takes the uploads of the twins of `twins` (a `TwinServer`): rights, limits, quota, storing."""

    def __init__(self, twins):
        self.twins = twins
        self._reserved: dict[str, int] = {}  # bytes of uploads in progress, per twin
        self._decoding = asyncio.Semaphore(1)  # one photo decoded at a time: a 48 MP one takes 150 MB

    @property
    def limits(self) -> MediaLimits:
        return self.twins.media_limits

    async def serve(self, incoming: asyncio.StreamReader, connection: ServerConnection) -> None:
        """Answers the one request on `connection`, then closes it."""
        try:
            response = await self._answer(incoming, connection)
        except _Dropped as why:
            log.info("an upload was dropped: %s", why)
            response = None
        transport = connection.transport
        if response is not None and not transport.is_closing():
            transport.write(response.serialize())
            if transport.can_write_eof():
                transport.write_eof()
            try:  # linger: drain what the client still sends while it reads the answer
                async with asyncio.timeout(LINGER_S):
                    while await incoming.read(_READ_LIMIT_BYTES):
                        pass
            except TimeoutError:
                pass
        transport.close()  # flushes the answer first
        try:
            await asyncio.wait_for(asyncio.shield(connection.connection_lost_waiter), CLOSE_TIMEOUT_S)
        except TimeoutError:
            pass  # a client that reads nothing: websockets aborts the transport next

    async def _answer(self, incoming: asyncio.StreamReader, connection: ServerConnection) -> Response:
        try:
            head = await asyncio.wait_for(incoming.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        except asyncio.LimitOverrunError:
            return text_response(http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "the request's head is too large\n")
        except (asyncio.IncompleteReadError, TimeoutError):
            raise _Dropped("the request's head did not arrive") from None
        request_line, _, header_block = head.partition(b"\r\n")
        try:
            method, target, _version = request_line.decode("latin-1").split(" ", 2)
            headers = http.client.parse_headers(io.BytesIO(header_block))
        except (ValueError, http.client.HTTPException):
            return text_response(http.HTTPStatus.BAD_REQUEST, "this is not a well-formed HTTP request\n")
        url = urllib.parse.urlsplit(target)
        match = _UPLOAD_PATH.fullmatch(urllib.parse.unquote(url.path))
        if method != "POST" or match is None:
            return text_response(http.HTTPStatus.METHOD_NOT_ALLOWED,
                                 "only GET and HEAD are served, and POST /twins/NAME/media for uploads\n")
        try:
            return await self._upload(match.group(1), headers, url.query, incoming, connection)
        except MediaRefused as refused:
            return text_response(refused.status, f"{refused}\n")

    async def _upload(self, name: str, headers, query: str, incoming: asyncio.StreamReader,
                      connection: ServerConnection) -> Response:
        twins, limits = self.twins, self.limits
        if name not in twins.folders:
            return text_response(http.HTTPStatus.NOT_FOUND, f"no twin named {name!r}\n")
        refusal = await self._refuse_role(name, headers, query)
        if refusal is not None:
            return refusal
        length = _content_length(headers)
        if length > limits.max_upload_bytes:
            raise MediaRefused(http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"this file is {megabytes(length)}; the server takes at most "
                               f"{megabytes(limits.max_upload_bytes)} per upload")
        folder = twins.folders[name]
        used = await asyncio.to_thread(used_bytes, folder) + self._reserved.get(name, 0)
        if used + length > limits.quota_bytes:
            raise MediaRefused(http.HTTPStatus.INSUFFICIENT_STORAGE,
                               f"twin {name!r}'s media already take {megabytes(used)} of its "
                               f"{megabytes(limits.quota_bytes)} quota; this {megabytes(length)} file does not fit "
                               "(remove unused media with twin export's report, or serve with a larger quota)")
        self._reserved[name] = self._reserved.get(name, 0) + length
        partial = new_partial(folder)
        try:
            if headers.get("Expect", "").lower() == "100-continue":
                connection.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            kind = await _receive(incoming, partial, length, headers.get("Content-Type"))
            async with self._decoding:
                stored = await asyncio.to_thread(store_upload, partial, kind, limits)
        finally:
            partial.unlink(missing_ok=True)
            self._reserved[name] -= length
        log.info("twin %s: stored %s (%s)", name, stored.path, megabytes(stored.bytes))
        body = json.dumps({"path": stored.path, "type": stored.type, "bytes": stored.bytes}).encode()
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                           ("Connection", "close")])
        return Response(http.HTTPStatus.CREATED.value, http.HTTPStatus.CREATED.phrase, headers, body)

    async def _refuse_role(self, name: str, headers, query: str) -> Response | None:
        """The answer to an upload the caller may not make (artisans and above may), or None."""
        token = request_token(headers, query)
        grant = None if token is None else await self.twins.grant(token)
        if grant is None:
            unknown = "" if token is None else "; this token is not known to the server"
            response = text_response(http.HTTPStatus.UNAUTHORIZED,
                                     f"uploads to twin {name!r} need the token of an artisan or above "
                                     f"(Authorization: Bearer <token>){unknown}\n")
            response.headers["WWW-Authenticate"] = 'Bearer realm="twin"'
            return response
        role = grant.role_on(name, name in self.twins.published)
        if role is None or role < access.Role.ARTISAN:
            given = "no rights on it" if role is None else f"the role {role.label}"
            return text_response(http.HTTPStatus.FORBIDDEN, f"this token gives {given} on twin {name!r}; "
                                                             "artisans and above may upload media\n")
        return None


def _content_length(headers) -> int:
    if "Transfer-Encoding" in headers or "Content-Length" not in headers:
        raise MediaRefused(http.HTTPStatus.LENGTH_REQUIRED,
                           "send the file with a Content-Length header (chunked uploads are not taken)")
    text = headers["Content-Length"].strip()
    if not text.isdigit() or len(headers.get_all("Content-Length")) != 1:
        raise MediaRefused(http.HTTPStatus.BAD_REQUEST, f"the Content-Length {text!r} is not one whole number")
    if int(text) == 0:
        raise MediaRefused(http.HTTPStatus.BAD_REQUEST, "the body is empty: send the photo or video as the body")
    return int(text)


def _check_declared(kind: str, declared: str | None) -> None:
    """A body declared as a video that is a photo (or the reverse) is refused: the client would
    name it wrongly in the document. The declared type never makes a body acceptable."""
    family = (declared or "").split(";")[0].strip().lower().split("/")[0]
    sniffed = KINDS[kind].split("/")[0]
    if family in ("image", "video") and family != sniffed:
        raise MediaRefused(http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                           f"this file was sent as {declared} but its bytes are a {KINDS[kind]} file; "
                           "send it with its own type (or none)")


async def _receive(incoming: asyncio.StreamReader, partial, length: int, declared: str | None) -> str:
    """Streams `length` bytes of body into `partial`; the kind its first bytes announce."""
    kind, received, pending = None, 0, bytearray()
    with open(partial, "wb") as out:
        while received < length:
            try:
                chunk = await asyncio.wait_for(incoming.read(min(_READ_LIMIT_BYTES, length - received)),
                                               IDLE_TIMEOUT_S)
            except TimeoutError:
                raise _Dropped(f"no byte of the body for {IDLE_TIMEOUT_S:.0f} s") from None
            if not chunk:
                raise _Dropped(f"the connection closed after {received} of {length} bytes")
            received += len(chunk)
            pending += chunk
            if kind is None and len(pending) >= min(SNIFF_BYTES, length):
                kind = sniff_kind(bytes(pending[:SNIFF_BYTES]))  # refuse early: no 50 MB of SVG read first
                _check_declared(kind, declared)
            if len(pending) >= _WRITE_BYTES or received == length:
                await asyncio.to_thread(out.write, pending)
                pending = bytearray()
    return kind
