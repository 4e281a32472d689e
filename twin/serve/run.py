"""Running `twin serve` as a process: the listening socket, TLS, the URLs to print, the session
token, process limits, and shutdown on Ctrl-C or SIGTERM.
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
                     stop: asyncio.Event | None = None,
                     companion: Callable[[TwinServer], Awaitable[None]] | None = None) -> None:
    """Serve until `stop` is set (or forever), calling `on_ready` once listening. `companion(server)`
    runs beside serving, from before the first client to the end (e.g. a cluster's part)."""
    stop = stop or asyncio.Event()
    checkpoints = asyncio.create_task(server.checkpoints())
    beside = [checkpoints]
    async with server.listen(host, port, tls) as listening:
        if companion is not None:
            beside.append(asyncio.create_task(companion(server), name="twin-serve-companion"))
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
                elected_bridges: bool = False, companion: Callable[[TwinServer], Awaitable[None]] | None = None) -> None:
    """Serve scan folders until interrupted (Ctrl-C or SIGTERM). `on_ready` gets the URLs.

    `durability`: see `twin.serve.sqlite_store.SqliteStore` ("full": acknowledged edits survive power cuts too).
    `tls_cert` and `tls_key` (PEM): serve HTTPS and WSS instead of HTTP and WS.
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
        _calm_garbage_collector()

        async def main():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal.SIGTERM, stop.set)
            await run_server(server, host, port, tls=tls, admin_token=admin_token, on_ready=on_ready, stop=stop,
                             companion=companion)

        try:
            asyncio.run(main())
        finally:
            server.close()
    finally:
        store.close()
