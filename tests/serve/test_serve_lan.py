"""`twin serve --lan` as a phone meets it: HTTPS and WSS on the LAN address with the kept
self-signed certificate whose fingerprint it prints, and the link as a terminal QR code that
reads back as the link (with --role, a token of that role in it)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import urllib.request
from dataclasses import dataclass

import pytest
from qr_images import decode, terminal_picture
from websockets.asyncio.client import connect

from twin.cli import main

TIMEOUT_S = 30


@dataclass
class LanRun:
    fingerprint: str
    origin: str  # the certificate's line: made now / kept
    url: str  # "open https://..."
    phone_link: str
    qr_text: str


def _serve_lan(folder, db, *options: str) -> tuple[LanRun, subprocess.Popen]:
    """Runs `twin serve FOLDER --lan ...` until it is ready, reads what it printed, stops it."""
    process = subprocess.Popen([sys.executable, "-m", "twin", "serve", str(folder), "--lan", "--port", "0", "--db", db,
                                "--no-admin-link", *options],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("stop with Ctrl-C"):
                break
        text = "".join(lines)
        assert "stop with Ctrl-C" in text, text
        link = re.search(r"^for phones, [^:]+: (\S+)$", text, re.M)
        qr = text[link.end():text.index("stop with Ctrl-C")]
        qr = "\n".join(line for line in qr.splitlines() if not line.startswith("("))
        run = LanRun(re.search(r"SHA-256 fingerprint (\S+)", text).group(1),
                     re.search(r"^HTTPS certificate \S+ \((.*)\), for", text, re.M).group(1),
                     re.search(r"^open (https://\S+)$", text, re.M).group(1), link.group(1), qr.strip("\n"))
        return run, process
    except BaseException:
        _stop(process)
        raise


def _stop(process) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _trusting(cert) -> ssl.SSLContext:
    """What a phone has once its user accepted the certificate: trust in exactly that one."""
    return ssl.create_default_context(cafile=str(cert))


def _served_fingerprint(url: str) -> str:
    host, port = re.match(r"https://([^:/]+):(\d+)/", url).groups()
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((host, int(port)), TIMEOUT_S) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


async def _welcome_and_snapshot(url: str, context: ssl.SSLContext, token: str | None) -> tuple[dict, dict]:
    ws = url.replace("https://", "wss://") + "ws"
    async with connect(ws, ssl=context) as socket_:
        await socket_.send(json.dumps({"op": "hello", "id": 1, "protocol": 1, **({"token": token} if token else {})}))
        welcome = json.loads(await asyncio.wait_for(socket_.recv(), TIMEOUT_S))
        await socket_.send(json.dumps({"op": "subscribe", "id": 2, "twin": "shop"}))
        while True:
            answer = json.loads(await asyncio.wait_for(socket_.recv(), TIMEOUT_S))
            if answer["op"] in ("snapshot", "error"):
                return welcome, answer


def test_lan_serves_https_and_wss_with_a_kept_certificate_and_a_readable_qr_code(tmp_path, write_twin_folder):
    folder = write_twin_folder(tmp_path / "scans" / "shop")
    db = str(tmp_path / "twin.db")
    cert, key = tmp_path / "scans" / ".twin-tls" / "cert.pem", tmp_path / "scans" / ".twin-tls" / "key.pem"

    run, process = _serve_lan(folder, db, "--lan-host", "127.0.0.1", "--publish", "shop")
    try:
        assert run.origin.startswith("made now")
        assert run.url.startswith("https://127.0.0.1:")
        assert run.phone_link == f"{run.url}?twin=shop"
        assert decode(terminal_picture(run.qr_text)) == run.phone_link
        assert key.stat().st_mode & 0o777 == 0o600
        assert _served_fingerprint(run.url) == run.fingerprint
        with urllib.request.urlopen(run.url, context=_trusting(cert), timeout=TIMEOUT_S) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(run.url, context=ssl.create_default_context(), timeout=TIMEOUT_S)
        welcome, snapshot = asyncio.run(_welcome_and_snapshot(run.url, _trusting(cert), None))
        assert welcome["op"] == "welcome" and snapshot["op"] == "snapshot"
    finally:
        _stop(process)

    # The phone that accepted it once is not asked again: the next start keeps it ...
    again, process = _serve_lan(folder, db, "--lan-host", "127.0.0.1", "--publish", "shop")
    _stop(process)
    assert again.origin == "kept from an earlier start" and again.fingerprint == run.fingerprint
    # ... until the address it names changes.
    moved, process = _serve_lan(folder, db, "--lan-host", "127.0.0.2", "--publish", "shop")
    try:
        assert moved.origin.startswith("made now") and moved.fingerprint != run.fingerprint
        assert moved.url.startswith("https://127.0.0.2:")
        welcome, _ = asyncio.run(_welcome_and_snapshot(moved.url, _trusting(cert), None))
        assert welcome["op"] == "welcome"
    finally:
        _stop(process)


def test_role_puts_a_token_of_that_role_in_the_link(tmp_path, write_twin_folder):
    folder = write_twin_folder(tmp_path / "scans" / "shop")
    run, process = _serve_lan(folder, str(tmp_path / "twin.db"), "--lan-host", "127.0.0.1", "--role", "artisan")
    try:
        token = re.fullmatch(r".*\?twin=shop#token=(\S+)", run.phone_link).group(1)
        assert decode(terminal_picture(run.qr_text)) == run.phone_link
        cert = tmp_path / "scans" / ".twin-tls" / "cert.pem"
        welcome, snapshot = asyncio.run(_welcome_and_snapshot(run.url, _trusting(cert), token))
        assert [(twin["name"], twin["role"]) for twin in welcome["twins"]] == [("shop", "artisan")]
        assert snapshot["op"] == "snapshot"
        _, refused = asyncio.run(_welcome_and_snapshot(run.url, _trusting(cert), None))
        assert refused["op"] == "error", "the twin is not published: the plain link must not open it"
    finally:
        _stop(process)


def test_lan_options_are_checked(tmp_path, write_twin_folder, capsys):
    folder = write_twin_folder(tmp_path / "scans" / "shop")
    db = str(tmp_path / "twin.db")
    assert main(["serve", str(folder), "--db", db, "--role", "viewer"]) == 2
    assert "--role goes with --lan" in capsys.readouterr().err
    assert main(["serve", str(folder), "--db", db, "--lan", "--lan-host", "0.0.0.0"]) == 2
    assert "not an address a phone can reach" in capsys.readouterr().err
