"""`twin serve`: stream twins to browsers over one port (HTTP + WebSocket)."""
from __future__ import annotations

import sys
import urllib.parse
from pathlib import Path

from twin.live.history import DEFAULT_RESOLUTION_S, DEFAULT_RETENTION_S
from twin.scaleout.cluster import open_cluster
from twin.serve.http_files import HOW_TO_BUILD_VIEWER, PACKAGED_VIEWER
from twin.serve.run import DEFAULT_DB, DEFAULT_PORT, ServeInfo, serve_twins
from twin.serve.sqlite_store import DURABILITY

COMMAND = "serve"
HELP = "serve scan folders' twins to the browser viewer (HTTP and WebSocket on one port)"
DESCRIPTION = """Serve one or more twins (scan folders with a twin.json from `twin export`).

The viewer, the twins' files and the live protocol (docs/protocol.md) share one port. Edits are
stored in a SQLite file or a PostgreSQL database (--db) and survive restarts. Twins are private unless published with
--publish; give people tokens made with `twin token create`. Stop with Ctrl-C.
The viewer comes from the installed package (wheels carry the viewer built before them) or, in a
source checkout, from viewer-web/dist (`npm run build`); the start-up lines say which.

Several processes may serve the same twins (behind a reverse proxy; docs/deploy.md): on one
machine they share the SQLite file; across machines, give each the same PostgreSQL --db (made
with `twin db migrate`) and the same Redis --fanout, which carries every edit, pose and machine
state to the other processes' viewers at once (without it they arrive from the store within a
second). Each twin's live sources are read by one process only, whichever leads it.

examples:
  twin serve scans/sample_workshop --publish sample_workshop
  twin serve scans/sample_workshop --port 8766 --no-admin-link          # a second process, same scans/twin.db
  twin serve scans/sample_workshop --db postgresql://twin@db.local/twin --fanout redis://cache.local:6379/0
"""


def add_arguments(parser) -> None:
    parser.add_argument("folders", nargs="+", type=Path, metavar="SCAN_FOLDER",
                        help="scan folders to serve (each holds twin.json, twin.glb, tiles/)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 to reach it from phones on the LAN)")
    parser.add_argument("--db", default=str(DEFAULT_DB), metavar="FILE_OR_URL",
                        help=f"where edits and tokens are kept: a SQLite file (default {DEFAULT_DB}) or a PostgreSQL "
                             "URL postgresql://USER:PASSWORD@HOST:PORT/DATABASE (run `twin db migrate` first)")
    parser.add_argument("--fanout", metavar="REDIS_URL",
                        help="relay edits, poses and machine states to the other processes serving these twins "
                             "through Redis, e.g. redis://127.0.0.1:6379/0 (the number: a database, one per deployment)")
    parser.add_argument("--durability", choices=list(DURABILITY), default="full",
                        help="full (default): an acknowledged edit survives power cuts too (waits for the disk); "
                             "process: it survives any crash of the server, not of the machine (faster edits)")
    parser.add_argument("--publish", action="append", default=[], metavar="NAME",
                        help="let anonymous visitors read this twin (public tours only); repeatable")
    parser.add_argument("--tls-cert", type=Path, metavar="PEM",
                        help="serve HTTPS/WSS with this certificate (phones need HTTPS for AR); needs --tls-key")
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert")
    parser.add_argument("--history-days", type=float, default=DEFAULT_RETENTION_S / 86400, metavar="DAYS",
                        help="keep the history of live values this long (default %(default)g days)")
    parser.add_argument("--history-resolution", type=float, default=DEFAULT_RESOLUTION_S, metavar="SECONDS",
                        help="one history point per property per this many seconds (mean, min, max; "
                             "default %(default)g)")
    parser.add_argument("--no-admin-link", action="store_true",
                        help="do not mint and print an admin link for this run")


def viewer_origin(viewer_dir: Path | None) -> str:
    """Where the served viewer comes from, or why there is none, in a sentence for the console."""
    if viewer_dir is None:
        return f"viewer: not built, so the page only lists the twins' files: {HOW_TO_BUILD_VIEWER}"
    if viewer_dir.resolve() == PACKAGED_VIEWER.resolve():
        return f"viewer: installed with twin ({viewer_dir})"
    return f"viewer: built in the source tree ({viewer_dir})"


def print_ready(info: ServeInfo) -> None:
    print(f"serving {', '.join(info.twins)} (edits in {info.db_path})")
    print(viewer_origin(info.viewer_dir))
    print(f"open {info.url}")
    if len(info.twins) > 1:
        for name in info.twins:
            print(f"  {name}: {info.url}?twin={urllib.parse.quote(name)}")
    if info.lan_url:
        print(f"on your network: {info.lan_url}")
    if info.published:
        print(f"published for anyone with the link: {', '.join(info.published)}")
    if info.admin_url:
        print(f"admin link for this run (keep it private): {info.admin_url}")
    print("stop with Ctrl-C", flush=True)


def run(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port} is not a TCP port (0 .. 65535)")
    cluster = open_cluster(args.db, args.durability, args.fanout)
    serve_twins(args.folders, host=args.host, port=args.port, store=cluster.store, fanout=cluster.fanout,
                first_client_id=cluster.first_client_id, elected_bridges=cluster.leadership is not None,
                companion=cluster.run,
                published=tuple(args.publish), tls_cert=args.tls_cert, tls_key=args.tls_key,
                admin_link=not args.no_admin_link, on_ready=print_ready,
                history_retention_s=args.history_days * 86400, history_resolution_s=args.history_resolution)
    print("stopped", file=sys.stderr)
    return 0
