"""A TwinServer served on a free loopback port for as long as a test needs it, shared by the server's,
the revisions', the live bridges' and the media tests."""
from __future__ import annotations

import asyncio
import contextlib

from protocol_client import TIMEOUT

from twin.serve.run import run_server


@contextlib.asynccontextmanager
async def serving(server, tls=None):
    """Runs `server` on 127.0.0.1 at a free port and yields its ServeInfo; stops it and waits on exit."""
    ready = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(run_server(server, "127.0.0.1", 0, tls=tls, on_ready=ready.set_result, stop=stop))
    info = await asyncio.wait_for(ready, TIMEOUT)
    try:
        yield info
    finally:
        stop.set()
        await task


def port_of(info) -> int:
    """The port in a ServeInfo's url (http://127.0.0.1:PORT/)."""
    return int(info.url.rsplit(":", 1)[1].strip("/"))
