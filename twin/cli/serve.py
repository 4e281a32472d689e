"""`twin serve`: stream twins to browsers over one port (HTTP + WebSocket)."""
from __future__ import annotations

import functools
import ipaddress
import sys
import urllib.parse
from pathlib import Path

from twin.cli.errors import CliError
from twin.live.history import DEFAULT_RESOLUTION_S, DEFAULT_RETENTION_S
from twin.qr import terminal_qr
from twin.scaleout.cluster import open_cluster
from twin.serve.access import Role
from twin.serve.http_files import HOW_TO_BUILD_VIEWER, PACKAGED_VIEWER
from twin.serve.run import DEFAULT_DB, DEFAULT_PORT, ServeInfo, lan_address, link_token_name, serve_twins
from twin.serve.self_signed import Certificate, certificate_of, lan_certificate
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

Phones (--lan): WebXR AR needs HTTPS, so --lan serves HTTPS and WSS on this machine's address on
the local network with a self-signed certificate, made at the first start and kept (with its key,
readable by you only) in .twin-tls/ beside the scan folders, so a phone that accepted it once is
not asked again. Each start prints its SHA-256 fingerprint: the phone warns that no authority
signed it; compare the fingerprint in the browser's certificate details, then go on. The link is
printed as a QR code to scan with the phone's camera; --role puts a new token of that role into it
(revoke them later with `twin token revoke --name lan-ROLE`). Print QR codes to stick next to the
machines and tour stops with `twin qr`.

examples:
  twin serve scans/sample_workshop --publish sample_workshop
  twin serve scans/sample_workshop --lan --publish sample_workshop    # phones: HTTPS and a QR code
  twin serve scans/sample_workshop --lan --role artisan               # the code logs an artisan in
  twin serve scans/sample_workshop --lan --host 0.0.0.0 --lan-host 192.168.1.20   # every interface
  twin serve scans/sample_workshop --port 8766 --no-admin-link          # a second process, same scans/twin.db
  twin serve scans/sample_workshop --db postgresql://twin@db.local/twin --fanout redis://cache.local:6379/0
"""


def add_arguments(parser) -> None:
    parser.add_argument("folders", nargs="+", type=Path, metavar="SCAN_FOLDER",
                        help="scan folders to serve (each holds twin.json, twin.glb, tiles/)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, with --lan the LAN address; "
                                       "0.0.0.0: every interface)")
    parser.add_argument("--lan", action="store_true",
                        help="for phones on the local network: HTTPS/WSS on this machine's LAN address with a "
                             "kept self-signed certificate (or --tls-cert); prints its fingerprint and the link's QR code")
    parser.add_argument("--lan-host", metavar="ADDRESS",
                        help="with --lan: the address phones reach this machine at, put in the link and the "
                             "certificate (default: the address of the network interface that leads to the LAN)")
    parser.add_argument("--role", choices=[role.label for role in Role if role is not Role.ADMIN],
                        help="with --lan: put a new token of this role on each twin into its link and QR code "
                             "(visitor: no token, published twins only; default: the plain link)")
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


def print_ready(info: ServeInfo, certificate: Certificate | None = None, role: str | None = None) -> None:
    """The start-up lines; with a `certificate` (--lan) its fingerprint and QR codes of the links for phones."""
    print(f"serving {', '.join(info.twins)} (edits in {info.db_path})")
    print(viewer_origin(info.viewer_dir))
    if certificate is not None:
        print_certificate(certificate)
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
    if certificate is not None:
        print_phone_links(info, role)
    print("stop with Ctrl-C", flush=True)


def print_certificate(certificate: Certificate) -> None:
    print(f"HTTPS certificate {certificate.cert} ({certificate.origin}), for {', '.join(certificate.names)}")
    print(f"  SHA-256 fingerprint {certificate.sha256}")
    print("  phones warn that no authority signed it: compare this fingerprint with the certificate's details, "
          "then go on")


def print_phone_links(info: ServeInfo, role: str | None) -> None:
    """A QR code per link for phones: each twin's with a token of `role`, or the server's plain one."""
    links = info.links or ((info.twins[0], f"{info.url}?twin={urllib.parse.quote(info.twins[0])}"),)
    for twin, url in links:
        print(f"for phones, {role or 'the plain link'} on {twin}: {url}")
        print(terminal_qr(url, colours=sys.stdout.isatty()))
    if role not in (None, "visitor"):
        db = "" if str(info.db_path) == str(DEFAULT_DB) else f" --db {info.db_path}"
        print(f"(these tokens keep working after a restart; revoke them with "
              f"`twin token revoke --name {link_token_name(Role.parse(role))}{db}`)")
    elif not info.published:
        print("(the plain link shows published twins only: add --publish NAME, or --role viewer for a token)")


def lan_options(args) -> tuple[str, str, Certificate]:
    """(address to listen on, address in the links, certificate) for --lan, or a clear error."""
    address = args.lan_host or lan_address()
    if address is None:
        raise CliError("could not find this machine's address on a local network (is it on Wi-Fi or Ethernet?); "
                       "give it with --lan-host ADDRESS")
    try:
        if ipaddress.ip_address(address).is_unspecified:
            raise CliError(f"--lan-host {address} is not an address a phone can reach: give this machine's "
                           "address on the LAN (to listen on every interface, add --host 0.0.0.0)")
    except ValueError:
        if not address.replace("-", "").replace(".", "").isalnum():
            raise CliError(f"--lan-host {address!r} is neither an IP address nor a host name") from None
    if args.tls_cert is not None:
        certificate = certificate_of(args.tls_cert, args.tls_key, "given with --tls-cert")
    else:
        certificate = lan_certificate(args.folders[0].resolve().parent / ".twin-tls", address)
    return args.host or address, address, certificate


def run(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port} is not a TCP port (0 .. 65535)")
    host, url_host, certificate, on_ready = args.host or "127.0.0.1", None, None, print_ready
    if args.lan:
        host, url_host, certificate = lan_options(args)
        on_ready = functools.partial(print_ready, certificate=certificate, role=args.role)
    else:
        for flag, value in (("--lan-host", args.lan_host), ("--role", args.role)):
            if value is not None:
                raise CliError(f"{flag} goes with --lan (links for phones on the local network)")
    cluster = open_cluster(args.db, args.durability, args.fanout)
    serve_twins(args.folders, host=host, port=args.port, store=cluster.store, fanout=cluster.fanout,
                first_client_id=cluster.first_client_id, elected_bridges=cluster.leadership is not None,
                companion=cluster.run,
                published=tuple(args.publish), tls_cert=certificate.cert if certificate else args.tls_cert,
                tls_key=certificate.key if certificate else args.tls_key,
                admin_link=not args.no_admin_link, on_ready=on_ready, url_host=url_host,
                link_role=Role[args.role.upper()] if args.role else None,
                history_retention_s=args.history_days * 86400, history_resolution_s=args.history_resolution)
    print("stopped", file=sys.stderr)
    return 0
