"""Running `twin serve` as a process: the listening socket, TLS, the URLs to print, the session
token and the tokens of links for phones, process limits, and shutdown on Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from twin.live.history import DEFAULT_RESOLUTION_S, DEFAULT_RETENTION_S
from twin.serve import access
from twin.serve.access import ALL_TWINS, Role
from twin.serve.fanout import Fanout
from twin.serve.links import base_url, viewer_url
from twin.serve.server import VIEWER_DIST, TwinServer
from twin.serve.sqlite_store import SqliteStore
from twin.serve.store import Store

DEFAULT_PORT = 8765
DEFAULT_DB = Path("scans") / "twin.db"
# Allocations between young collections, young collections between middle ones, middle ones
# between full ones (Python's defaults: 700, 10, 10).
GC_THRESHOLDS = (10_000, 10, 1_000)
SESSION_TOKEN_NAME = "serve-session"


@dataclass(frozen=True)
class ServeInfo:
    """Where a running server can be reached (given to `serve_twins`' `on_ready`)."""

    url: str
    admin_url: str | None
    lan_url: str | None  # when listening on every interface: the address phones on the LAN can open
    twins: tuple[str, ...]
    published: tuple[str, ...]
    db_path: Path | str  # a file, or a database's URL without its password
    viewer_dir: Path | None = None  # where the viewer's files come from; None: not built
    links: tuple[tuple[str, str], ...] = ()  # (twin, its link with a token of the role asked for), for phones


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


def link_token_name(role: Role) -> str:
    """Who the tokens of `role` in links for phones are held by (what `twin token revoke --name` takes)."""
    return f"lan-{role.label}"


def mint_link_tokens(store: Store, role: Role, twins: list[str], published: frozenset[str]) -> dict[str, str | None]:
    """A new token of `role` on each twin, for links to hand out; visitors need none, but see published twins only.
    Earlier starts' tokens keep working (a phone keeps its link) until revoked by name."""
    if role is Role.VISITOR:
        if not published:
            raise ValueError("visitors see published twins only: publish one with --publish NAME, "
                             "or give a role with a token (viewer, artisan, planner)")
        return {twin: None for twin in twins if twin in published}
    tokens = {twin: access.new_token() for twin in twins}
    for twin, token in tokens.items():
        store.add_token(token, link_token_name(role), role, twin)
    return tokens


def lan_address() -> str | None:
    """This machine's address on the local network: the one its routing would send from to a
    private address (a UDP connect only looks the route up: no packet leaves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith(("0.", "127.")) else address


async def run_server(server: TwinServer, host: str, port: int, *, tls: ssl.SSLContext | None = None,
                     admin_token: str | None = None, on_ready: Callable[[ServeInfo], None] | None = None,
                     stop: asyncio.Event | None = None,
                     companion: Callable[[TwinServer], Awaitable[None]] | None = None,
                     url_host: str | None = None, link_tokens: dict[str, str | None] | None = None) -> None:
    """Serve until `stop` is set (or forever), calling `on_ready` once listening. `companion(server)`
    runs beside serving, from before the first client to the end (e.g. a cluster's part).
    `url_host`: the host the printed URLs name (default: `host`, or 127.0.0.1 when that is every
    interface); `link_tokens`: twin -> token (None: a visitor's link) of links to print."""
    stop = stop or asyncio.Event()
    checkpoints = asyncio.create_task(server.checkpoints())
    beside = [checkpoints]
    async with server.listen(host, port, tls) as listening:
        if companion is not None:
            beside.append(asyncio.create_task(companion(server), name="twin-serve-companion"))
        bound_port = listening.sockets[0].getsockname()[1]
        scheme = "https" if tls else "http"
        everywhere = host in ("", "0.0.0.0", "::")
        url = base_url(scheme, url_host or ("127.0.0.1" if everywhere else host), bound_port)
        lan = lan_address() if everywhere and url_host is None else None
        if on_ready is not None:
            on_ready(ServeInfo(url=url, admin_url=f"{url}#token={admin_token}" if admin_token else None,
                               lan_url=base_url(scheme, lan, bound_port) if lan else None,
                               twins=tuple(server.folders), published=tuple(sorted(server.published)),
                               db_path=server.store.path, viewer_dir=server.viewer_files(),
                               links=tuple((twin, viewer_url(url, twin, token))
                                           for twin, token in (link_tokens or {}).items())))
        try:
            await stop.wait()
        finally:
            for task in beside:
                task.cancel()
            await asyncio.gather(*beside[1:], return_exceptions=True)
            await server.stop_live()


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
                viewer_dir: Path | None = VIEWER_DIST, on_ready: Callable[[ServeInfo], None] | None = None,
                history_retention_s: float = DEFAULT_RETENTION_S, history_resolution_s: float = DEFAULT_RESOLUTION_S,
                store: Store | None = None, fanout: Fanout | None = None, first_client_id: int = 1,
                elected_bridges: bool = False, companion: Callable[[TwinServer], Awaitable[None]] | None = None,
                url_host: str | None = None, link_role: Role | None = None) -> None:
    """Serve scan folders until interrupted (Ctrl-C or SIGTERM). `on_ready` gets the URLs.

    `durability`: see `twin.serve.sqlite_store.SqliteStore` ("full": acknowledged edits survive power cuts too).
    `tls_cert` and `tls_key` (PEM): serve HTTPS and WSS instead of HTTP and WS.
    `url_host`: the host printed URLs name (e.g. the LAN address when listening on every interface);
    `link_role`: print a link per twin with a new token of this role (see `mint_link_tokens`).
    `store`, `fanout`, `first_client_id`, `elected_bridges` and `companion` make this process one of several serving
    the same twins (twin.scaleout builds them); by default it is alone, on the SQLite file `db_path`.
    The store is closed at the end."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("give both a TLS certificate and its key, or neither")
    tls = tls_context(tls_cert, tls_key) if tls_cert else None
    _allow_many_connections()
    store = store or SqliteStore(db_path, durability)
    try:
        server = TwinServer(folders, store, published=published, viewer_dir=viewer_dir, fanout=fanout,
                            first_client_id=first_client_id, elected_bridges=elected_bridges,
                            history_retention_s=history_retention_s, history_resolution_s=history_resolution_s)
        admin_token = mint_session_token(store) if admin_link else None
        link_tokens = (mint_link_tokens(store, link_role, list(server.folders), server.published)
                       if link_role is not None else None)
        _calm_garbage_collector()

        async def main():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal.SIGTERM, stop.set)
            await run_server(server, host, port, tls=tls, admin_token=admin_token, on_ready=on_ready, stop=stop,
                             companion=companion, url_host=url_host, link_tokens=link_tokens)

        try:
            asyncio.run(main())
        finally:
            server.close()
    finally:
        store.close()
