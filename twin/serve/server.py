"""`twin serve`: the asyncio shell around the protocol, on one port.

HTTP (websockets' `process_request` hook, with `twin.serve.http_files`) serves the viewer's built files
and the twins' assets; the WebSocket at `/ws` runs one `protocol.Connection` per client. The
shell only does I/O: it asks the store (in a thread of its own, so fsyncs never stall the
clients), reads files, and hands frames to the fan-out. Every protocol decision is in
`twin.serve.protocol`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import html
import http
import itertools
import json
import logging
import signal
import socket
import sqlite3
import ssl
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from twin.serve import access, protocol
from twin.serve.access import ALL_TWINS, Grant, Role
from twin.document import validate as validate_document
from twin.serve.fanout import ClientQueue, Fanout, Latest, LocalFanout, Throttle
from twin.serve.http_files import (HOW_TO_BUILD_VIEWER, MIME, asset_file, bytes_response, file_response, file_response_now,
                             find_viewer, read_file, safe_file, text_response)
from twin.serve.json_patch import JsonPatchError, apply_patch
from twin.serve.store import StaleRevision, Store

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
DEFAULT_DB = Path("scans") / "twin.db"
DEFAULT_QUEUE_LIMIT = 1024
# Presence and machine state reach viewers at most this often per client / machine (10 Hz).
LIVE_INTERVAL_S = 0.1
CHECKPOINT_INTERVAL_S = 2.0
# Allocations between young collections, young collections between middle ones, middle ones
# between full ones (Python's defaults: 700, 10, 10).
GC_THRESHOLDS = (10_000, 10, 1_000)
MAX_MACHINE_PROPERTIES = 256  # live state is kept in memory: bound what one machine may hold
SESSION_TOKEN_NAME = "serve-session"
VIEWER_DIST = find_viewer()  # the installed package's copy, else the source tree's build, else None
CLOSE_TOO_SLOW = 4008
_DIRECT_WRITE_BYTES = 32 * 1024  # websockets' default write_limit: above it, writes wait to drain


@dataclass(frozen=True)
class ServeInfo:
    """Where a running server can be reached (given to `serve_twins`' `on_ready`)."""

    url: str
    admin_url: str | None
    lan_url: str | None  # when listening on every interface: the address phones on the LAN can open
    twins: tuple[str, ...]
    published: tuple[str, ...]
    db_path: Path
    viewer_dir: Path | None = None  # where the viewer's files come from; None: not built


def read_twin_folder(folder: Path) -> dict:
    """The twin document of a scan folder (its `twin.json`)."""
    path = Path(folder) / "twin.json"
    if not Path(folder).is_dir():
        raise ValueError(f"{folder} is not a folder: give scan folders such as scans/NAME")
    if not path.is_file():
        raise ValueError(f"{folder} has no twin.json: run `twin export {folder}` first")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); re-run `twin export {folder}`") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path} must hold a JSON object (the twin document)")
    return document


@dataclass
class _Client:
    id: int
    connection: protocol.Connection
    socket: ServerConnection
    queue: ClientQueue | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    writer_busy: bool = False  # its writer task is waiting for the socket to drain


class TwinServer:
    """The twins being served, their live state, and the connections to them."""

    def __init__(self, folders: list[Path], store: Store, *, published: tuple[str, ...] = (),
                 viewer_dir: Path | None = VIEWER_DIST, limits: protocol.Limits = protocol.Limits(),
                 queue_limit: int = DEFAULT_QUEUE_LIMIT, fanout: Fanout | None = None):
        if not folders:
            raise ValueError("give at least one scan folder to serve, e.g. scans/sample_workshop")
        self.folders: dict[str, Path] = {}
        for folder in map(Path, folders):
            name = folder.resolve().name
            if name in self.folders:
                raise ValueError(f"two scan folders are named {name!r}; twins are named by their folder, so rename one")
            self.folders[name] = folder
        unknown = sorted(set(published) - set(self.folders))
        if unknown:
            raise ValueError(f"cannot publish {', '.join(unknown)}: not among the served twins {sorted(self.folders)}")
        self.published = frozenset(published)
        self.store = store
        self.viewer_dir = viewer_dir
        self.limits = limits
        self.queue_limit = queue_limit
        self.fanout = fanout or LocalFanout()
        self.heads: dict[str, tuple[int, dict]] = {}
        for name, folder in self.folders.items():
            document = read_twin_folder(folder)
            try:
                validate_document(document)
            except ValueError as error:
                raise ValueError(f"{folder / 'twin.json'}: {error}") from None
            store.import_twin(name, document)
            self.heads[name] = store.head(name)
        self._machine_states: dict[str, dict[str, dict]] = {name: {} for name in self.folders}
        # The latest step event of each (procedure, step), as sent to late subscribers.
        self._steps: dict[str, dict[tuple, str]] = {name: {} for name in self.folders}
        for name in self.folders:
            for step in store.steps(name):
                self._steps[name][(step.procedure, json.dumps(step.step))] = protocol.encode_step(
                    name, step.procedure, step.step, step.done, step.author, 0, step.revision)
        self._presence: dict[str, dict[int, dict]] = {name: {} for name in self.folders}
        self._locks = {name: asyncio.Lock() for name in self.folders}
        self._throttle: Throttle | None = None  # made when the event loop runs
        self._clients: dict[int, _Client] = {}
        self._closing: set[asyncio.Task] = set()
        self._ids = itertools.count(1)
        self._db_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin-store")
        self._checkpoint_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                                        thread_name_prefix="twin-checkpoint")

    def close(self) -> None:
        self._db_thread.shutdown(wait=True)
        self._checkpoint_thread.shutdown(wait=True)

    async def checkpoints(self) -> None:
        """Every few seconds, move committed edits from the WAL into the database, beside the commits."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            await loop.run_in_executor(self._checkpoint_thread, self.store.checkpoint)

    async def _db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    def twin_infos(self) -> list[protocol.TwinInfo]:
        return [protocol.TwinInfo(name, self.heads[name][0], name in self.published) for name in self.folders]

    def listen(self, host: str, port: int, tls: ssl.SSLContext | None = None):
        """The websockets server (an async context manager) for this twin server; HTTPS/WSS with `tls`."""
        loop = asyncio.get_running_loop()
        self._throttle = Throttle(LIVE_INTERVAL_S, self._publish_live, loop.call_later, loop.time)
        return serve(self._serve_connection, host, port, process_request=self._process_request,
                     max_size=self.limits.max_message_bytes, compression=None, ssl=tls)

    # WebSocket connections.

    async def _serve_connection(self, socket: ServerConnection) -> None:
        client_id = next(self._ids)
        client = _Client(client_id, protocol.Connection(client_id, self.limits), socket)
        client.queue = ClientQueue(self.queue_limit, on_ready=lambda: self._send_now(client),
                                   on_overflow=lambda reason: self._drop_slow(client_id, reason))
        self._clients[client_id] = client
        self.fanout.attach(client_id, client.queue)
        writer = asyncio.create_task(self._write(client))
        loop = asyncio.get_running_loop()
        hello_deadline = loop.call_later(self.limits.hello_timeout_s, self._close_if_not_welcomed, client)
        try:
            async for message in socket:
                if isinstance(message, str):
                    client.connection.receive_text(message, loop.time())
                else:
                    client.connection.receive_bytes(message, loop.time())
                for event in client.connection.events_received():
                    await self._dispatch(client, event)
                self._flush(client)
        except ConnectionClosed:
            pass
        finally:
            hello_deadline.cancel()
            self._leave(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def _send_now(self, client: _Client) -> None:
        """Frames were queued for `client`: write them at once if its socket keeps up, else wake its writer.

        Writing here, without a task switch per frame and client, is what lets one process feed
        a thousand viewers; the writer task takes over whenever the socket's buffer fills up.
        """
        if client.writer_busy or client.socket.transport.get_write_buffer_size() > _DIRECT_WRITE_BYTES:
            client.wake.set()
            return
        for frame in client.queue.pop_all():
            broadcast((client.socket,), frame)

    async def _write(self, client: _Client) -> None:
        """Send what queued up while the socket was full, waiting for it to drain."""
        queue = client.queue
        try:
            while queue.closed_reason is None:
                await client.wake.wait()
                client.wake.clear()
                frames = queue.pop_all()
                if not frames:
                    continue
                client.writer_busy = True
                for frame in frames[:-1]:
                    broadcast((client.socket,), frame)
                await client.socket.send(frames[-1])  # returns once the socket has drained
                client.writer_busy = False
        except ConnectionClosed:
            pass

    def _close_if_not_welcomed(self, client: _Client) -> None:
        if client.connection.grant is None:
            self._close_later(client, protocol.CLOSE_POLICY,
                              f"no hello within {self.limits.hello_timeout_s:g} s")

    def _close_later(self, client: _Client, code: int, reason: str) -> None:
        closing = asyncio.get_running_loop().create_task(client.socket.close(code, reason))
        self._closing.add(closing)  # the loop keeps only weak references to tasks
        closing.add_done_callback(self._closing.discard)

    def _drop_slow(self, client_id: int, reason: str) -> None:
        client = self._clients.get(client_id)
        if client is None:
            return
        log.warning("closing client %d: %s", client_id, reason)
        self.fanout.detach(client_id)
        self._close_later(client, CLOSE_TOO_SLOW, reason)

    def _leave(self, client: _Client) -> None:
        self._clients.pop(client.id, None)
        self.fanout.detach(client.id)
        for twin in client.connection.subscriptions:
            self._end_presence(twin, client.id)

    def _flush(self, client: _Client) -> None:
        for frame in client.connection.data_to_send():
            self.fanout.send(client.id, frame)

    @staticmethod
    def _topic(twin: str, role: Role) -> str:
        # Visitors get their own topic: their view of the document hides non-public tours.
        return f"{twin}/visitor" if role is Role.VISITOR else twin

    def _publish_all(self, twin: str, frame, exclude: int | None = None) -> None:
        for role in (Role.VIEWER, Role.VISITOR):
            self.fanout.publish(self._topic(twin, role), frame, exclude)

    async def _dispatch(self, client: _Client, event) -> None:
        conn = client.connection
        if isinstance(event, protocol.Hello):
            await self._hello(client, event)
        elif isinstance(event, protocol.Subscribe):
            self._subscribe(client, event)
        elif isinstance(event, protocol.Unsubscribe):
            self._unsubscribe(client, event.twin)
            conn.ack(event.id)
        elif isinstance(event, protocol.Edit):
            await self._edit(client, event)
        elif isinstance(event, protocol.Presence):
            self._presence_update(client, event)
        elif isinstance(event, protocol.MachineState):
            self._machine_state(client, event)
        elif isinstance(event, protocol.Step):
            await self._step(client, event)
        elif isinstance(event, protocol.GetAsset):
            await self._get_asset(client, event)
        elif isinstance(event, protocol.Close):
            self._flush(client)
            await client.socket.close(event.code, event.reason)
        self._flush(client)

    async def _hello(self, client: _Client, event: protocol.Hello) -> None:
        grant = None
        if event.token is not None:
            grant = await self._db(self.store.grant, event.token)
            if grant is None:
                client.connection.error(event.id, "bad_token", "this token is not known to the server; ask for a new one")
                return
        for twin in list(client.connection.subscriptions):
            self._unsubscribe(client, twin)
        client.connection.welcome(event.id, grant, self.twin_infos())

    def _subscribe(self, client: _Client, event: protocol.Subscribe) -> None:
        # No await in here: the snapshot and the subscription happen between two revisions.
        twin, role = event.twin, event.role
        self._leave_topics(client, twin)
        revision, document = self.heads[twin]
        if role is Role.VISITOR:
            document = access.visitor_view(document)
        client.connection.snapshot(event.id, twin, revision, document)
        self._flush(client)
        self.fanout.subscribe(client.id, self._topic(twin, role))
        for machine, properties in self._machine_states[twin].items():
            self.fanout.send(client.id, Latest(("machine", twin, machine),
                                               protocol.machine_state_message(twin, machine, dict(properties), 0),
                                               merge_field="properties"))
        for frame in self._steps[twin].values():
            self.fanout.send(client.id, frame)
        for other, payload in self._presence[twin].items():
            if other != client.id:
                self.fanout.send(client.id, Latest(("presence", twin, other), payload))

    def _leave_topics(self, client: _Client, twin: str) -> None:
        for role in (Role.VIEWER, Role.VISITOR):
            self.fanout.unsubscribe(client.id, self._topic(twin, role))

    def _unsubscribe(self, client: _Client, twin: str) -> None:
        client.connection.subscriptions.discard(twin)
        self._leave_topics(client, twin)
        self._end_presence(twin, client.id)

    async def _edit(self, client: _Client, event: protocol.Edit) -> None:
        conn, twin = client.connection, event.twin
        async with self._locks[twin]:
            revision, document = self.heads[twin]
            if event.base_revision != revision:
                conn.error(event.id, "stale_revision",
                           f"twin {twin!r} is at revision {revision}, not {event.base_revision}: rebase and resend",
                           revision=revision)
                return
            try:
                edited = apply_patch(document, event.patch)
            except JsonPatchError as error:
                conn.error(event.id, "invalid_patch", str(error))
                return
            if not isinstance(edited, dict):
                conn.error(event.id, "invalid_document", "the patch must leave the document a JSON object")
                return
            try:
                validate_document(edited)
            except ValueError as error:
                conn.error(event.id, "invalid_document", f"the edit would make the document invalid: {error}")
                return
            author = conn.grant.name
            try:
                revision = await self._db(self.store.commit_edit, twin, revision, event.patch, edited, author)
            except StaleRevision as error:
                conn.error(event.id, "stale_revision", str(error), revision=error.current)
                return
            except (sqlite3.Error, OSError) as error:
                log.exception("could not store an edit of %s", twin)
                conn.error(event.id, "internal", f"the server could not store the edit ({error}); nothing was applied")
                return
            self.heads[twin] = (revision, edited)
            delta = protocol.encode_delta(twin, revision, event.patch, author, client.id)
            self.fanout.publish(self._topic(twin, Role.VIEWER), delta)
            if access.touches(event.patch, "tours"):
                delta = protocol.encode_snapshot(twin, revision, access.visitor_view(edited), Role.VISITOR)
            self.fanout.publish(self._topic(twin, Role.VISITOR), delta)
        conn.ack(event.id, twin=twin, revision=revision)

    def _publish_live(self, latest: Latest) -> None:
        """Publish a presence or machine state that the throttle lets through."""
        kind, twin, source = latest.key
        self._publish_all(twin, latest, exclude=source if kind == "presence" else None)

    def _presence_update(self, client: _Client, event: protocol.Presence) -> None:
        payload = protocol.presence_message(event.twin, client.id, client.connection.grant.name, event.pose, event.mode)
        self._presence[event.twin][client.id] = payload
        self._throttle.offer(Latest(("presence", event.twin, client.id), payload))

    def _end_presence(self, twin: str, client_id: int) -> None:
        if self._presence[twin].pop(client_id, None) is not None:
            key = ("presence", twin, client_id)
            self._throttle.forget(key)
            self._publish_all(twin, Latest(key, protocol.presence_left_message(twin, client_id)))

    def _machine_state(self, client: _Client, event: protocol.MachineState) -> None:
        machines = {m.get("id") for m in self.heads[event.twin][1].get("machines", []) if isinstance(m, dict)}
        if event.machine not in machines:
            client.connection.error(event.id, "bad_message",
                                    f"twin {event.twin!r} has no machine {event.machine!r}; use a machine id of its document")
            return
        latest = self._machine_states[event.twin].setdefault(event.machine, {})
        if len(latest.keys() | event.properties.keys()) > MAX_MACHINE_PROPERTIES:
            client.connection.error(event.id, "bad_message",
                                    f"machine {event.machine!r} would have more than {MAX_MACHINE_PROPERTIES} "
                                    "state properties; reuse property names")
            return
        latest.update(event.properties)
        self._throttle.offer(Latest(("machine", event.twin, event.machine),
                                    protocol.machine_state_message(event.twin, event.machine, event.properties,
                                                                   client.id),
                                    merge_field="properties"))
        client.connection.ack(event.id)

    async def _step(self, client: _Client, event: protocol.Step) -> None:
        conn, twin = client.connection, event.twin
        revision, document = self.heads[twin]
        procedure = next((p for p in document.get("procedures", [])
                          if isinstance(p, dict) and p.get("id") == event.procedure), None)
        if procedure is None:
            conn.error(event.id, "bad_message", f"twin {twin!r} has no procedure {event.procedure!r}")
            return
        steps = procedure.get("steps", [])
        known = (0 <= event.step < len(steps) if isinstance(event.step, int)
                 else any(isinstance(s, dict) and s.get("id") == event.step for s in steps))
        if not known:
            conn.error(event.id, "bad_message", f"procedure {event.procedure!r} has no step {event.step!r}")
            return
        author = conn.grant.name
        try:
            await self._db(self.store.record_step, twin, event.procedure, event.step, event.done, author, revision)
        except (sqlite3.Error, OSError) as error:
            log.exception("could not store a step of %s", twin)
            conn.error(event.id, "internal", f"the server could not store the step ({error})")
            return
        frame = protocol.encode_step(twin, event.procedure, event.step, event.done, author, client.id, revision)
        self._steps[twin][(event.procedure, json.dumps(event.step))] = frame
        self._publish_all(twin, frame)
        conn.ack(event.id, twin=twin)

    async def _get_asset(self, client: _Client, event: protocol.GetAsset) -> None:
        path = asset_file(self.folders[event.twin], event.path)
        if path is None:
            client.connection.error(event.id, "not_found",
                                    f"twin {event.twin!r} has no asset {event.path!r} (assets: twin.glb, tiles/...)")
            return
        try:
            data = await read_file(path)
        except OSError as error:
            client.connection.error(event.id, "not_found", f"twin {event.twin!r}: cannot read {event.path!r} ({error})")
            return
        client.connection.asset(event.id, data)

    # HTTP.

    async def _process_request(self, socket: ServerConnection, request: Request) -> Response | None:
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
        token = None
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            token = authorization[len("Bearer "):].strip()
        else:
            token = urllib.parse.parse_qs(url.query).get("token", [None])[0]
        return None if token is None else await self._db(self.store.grant, token)

    async def _twin_http(self, request: Request, url, path: str) -> Response:
        grant = await self._http_grant(request, url) or access.VISITOR
        readable = {info.name: grant.role_on(info.name, info.published) for info in self.twin_infos()}
        if path in ("/twins", "/twins/"):
            listing = [{"name": n, "revision": self.heads[n][0], "published": n in self.published}
                       for n, role in readable.items() if role is not None]
            return bytes_response(request, json.dumps(listing).encode(), "application/json", etag=False)
        name, _, relative = path[len("/twins/"):].partition("/")
        if name not in self.folders:
            return text_response(http.HTTPStatus.NOT_FOUND, f"no twin named {name!r}\n")
        role = readable[name]
        if role is None:
            return text_response(http.HTTPStatus.FORBIDDEN,
                                  f"twin {name!r} is not published: send a token (Authorization: Bearer ...)\n")
        if relative == "twin.json":
            revision, document = self.heads[name]
            if role is Role.VISITOR:
                document = access.visitor_view(document)
            response = bytes_response(request, json.dumps(document).encode(), "application/json")
            response.headers["X-Twin-Revision"] = str(revision)
            return response
        file = asset_file(self.folders[name], relative)
        if file is None:
            return text_response(http.HTTPStatus.NOT_FOUND, f"twin {name!r} has no file {relative!r}\n")
        return await file_response(request, file)

    def viewer_files(self) -> Path | None:
        """The folder the viewer is served from, or None when it is not built."""
        return self.viewer_dir if self.viewer_dir is not None and (self.viewer_dir / "index.html").is_file() else None

    def _viewer_http(self, request: Request, path: str) -> Response:
        if self.viewer_files() is None:
            links = "".join(f'<li>{n}: <a href="/twins/{n}/twin.json">twin.json</a></li>' for n in self.folders)
            page = (f"<!doctype html><title>twin serve</title><p>The viewer is not built: "
                    f"{html.escape(HOW_TO_BUILD_VIEWER)}.</p><ul>{links}</ul>")
            return bytes_response(request, page.encode(), MIME[".html"], etag=False)
        file = safe_file(self.viewer_dir, "index.html" if path == "/" else path.lstrip("/"))
        if file is None:
            return text_response(http.HTTPStatus.NOT_FOUND, f"no such file: {path}\n")
        return file_response_now(request, file)


def mint_session_token(store: Store) -> str:
    """A fresh admin token for this run of the server; the previous run's one stops working."""
    store.remove_tokens(SESSION_TOKEN_NAME)
    token = access.new_token()
    store.add_token(token, SESSION_TOKEN_NAME, Role.ADMIN, ALL_TWINS)
    return token


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server TLS context from PEM files (phones need HTTPS for WebXR AR)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(f"cannot use the TLS certificate {cert} with key {key} ({error}); give PEM files, e.g. "
                         "made with `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem`") from None
    return context


def _lan_address() -> str | None:
    """This machine's address on the local network (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 1))
            return probe.getsockname()[0]
        except OSError:
            return None


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}/"


async def run_server(server: TwinServer, host: str, port: int, *, tls: ssl.SSLContext | None = None,
                     admin_token: str | None = None, on_ready: Callable[[ServeInfo], None] | None = None,
                     stop: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set (or forever), calling `on_ready` once listening."""
    stop = stop or asyncio.Event()
    checkpoints = asyncio.create_task(server.checkpoints())
    async with server.listen(host, port, tls) as listening:
        bound_port = listening.sockets[0].getsockname()[1]
        scheme = "https" if tls else "http"
        everywhere = host in ("", "0.0.0.0", "::")
        url = _url(scheme, "127.0.0.1" if everywhere else host, bound_port)
        lan = _lan_address() if everywhere else None
        if on_ready is not None:
            on_ready(ServeInfo(url=url, admin_url=f"{url}#token={admin_token}" if admin_token else None,
                               lan_url=_url(scheme, lan, bound_port) if lan else None,
                               twins=tuple(server.folders), published=tuple(sorted(server.published)),
                               db_path=server.store.path, viewer_dir=server.viewer_files()))
        try:
            await stop.wait()
        finally:
            checkpoints.cancel()


def _allow_many_connections() -> None:
    """Raise the open-file limit to what the system allows: each viewer holds a socket, and the
    usual default of 1,024 would refuse viewers long before the server is busy."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _calm_garbage_collector() -> None:
    """Keep the cycle collector from pausing the fan-out for tenths of a second.

    With a thousand connections the heap is large, and a full collection walks all of it while
    no frame is sent (we measured pauses of 100 to 400 ms at 1,000 viewers). What the server has
    loaded so far (modules, documents) lives as long as the process: freeze it out of the
    collector's walk, collect the young generation less often and the whole heap rarely (most
    garbage here is freed by reference counting anyway).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve_twins(folders: list[Path], *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                db_path: Path = DEFAULT_DB, durability: str = "full", published: tuple[str, ...] = (),
                admin_link: bool = True, tls_cert: Path | None = None, tls_key: Path | None = None,
                viewer_dir: Path | None = VIEWER_DIST, on_ready: Callable[[ServeInfo], None] | None = None) -> None:
    """Serve scan folders until interrupted (Ctrl-C or SIGTERM). `on_ready` gets the URLs.

    `durability`: see `twin.serve.store.Store` ("full": acknowledged edits survive power cuts too).
    `tls_cert` and `tls_key` (PEM): serve HTTPS and WSS instead of HTTP and WS."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("give both a TLS certificate and its key, or neither")
    tls = tls_context(tls_cert, tls_key) if tls_cert else None
    _allow_many_connections()
    store = Store(db_path, durability)
    try:
        server = TwinServer(folders, store, published=published, viewer_dir=viewer_dir)
        admin_token = mint_session_token(store) if admin_link else None
        _calm_garbage_collector()

        async def main():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal.SIGTERM, stop.set)
            await run_server(server, host, port, tls=tls, admin_token=admin_token, on_ready=on_ready, stop=stop)

        try:
            asyncio.run(main())
        finally:
            server.close()
    finally:
        store.close()
