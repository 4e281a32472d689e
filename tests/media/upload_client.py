"""A real server with two twins on loopback for the media tests, and a raw HTTP client over
asyncio streams (so a test can stop mid-body, or send a head without its body)."""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from loopback_server import port_of, serving
from protocol_client import TIMEOUT

from twin.serve.access import Role, new_token
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class MediaServer:
    """`shop` (published) and `private` twins served with `media_limits`; a token per role on both."""

    def __init__(self, tmp_path: Path, write_twin_folder, **server_options):
        self.folders = {name: write_twin_folder(tmp_path / name) for name in ("shop", "private")}
        self.store = SqliteStore(tmp_path / "twin.db")
        self.server = TwinServer(list(self.folders.values()), self.store, published=("shop",), **server_options)
        self.tokens = {}
        for role in (Role.VIEWER, Role.ARTISAN, Role.PLANNER, Role.ADMIN):
            self.tokens[role] = new_token()
            self.store.add_token(self.tokens[role], role.label + "-1", role, "*")
        self.port = 0

    def media(self, twin: str = "shop") -> list[str]:
        """The names in `twin`'s media/ folder (temporary files included)."""
        folder = self.folders[twin] / "media"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    @contextlib.asynccontextmanager
    async def running(self):
        async with serving(self.server) as info:
            self.port = port_of(info)
            yield self

    def close(self):
        self.server.close()
        self.store.close()

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
                      role: Role | None = None, send_body: bool = True) -> Answer:
        """One request on its own connection; the answer read to the end."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(head(method, path, len(body), headers, self.tokens.get(role)))
            if send_body:
                writer.write(body)
            await writer.drain()
            return await asyncio.wait_for(read_answer(reader), TIMEOUT)
        finally:
            writer.close()

    async def upload(self, body: bytes, twin: str = "shop", role: Role | None = Role.ARTISAN, **options) -> Answer:
        return await self.request("POST", f"/twins/{twin}/media", body, role=role, **options)


def head(method: str, path: str, length: int, headers: dict | None = None, token: str | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if method == "POST":
        lines.append(f"Content-Length: {length}")
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    raw = await reader.read()  # every answer closes its connection
    header_block, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split(" ")[1]), headers, body)
