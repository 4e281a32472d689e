"""One client's WebSocket: feeds what arrives to its `protocol.Connection`, hands the events to
the server, and writes the client's queued frames to the socket without letting a slow socket
hold anyone else up.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed

from twin.serve import protocol
from twin.serve.fanout import ClientQueue, Fanout
from twin.serve.messages import CLOSE_POLICY, Event

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4008
_DIRECT_WRITE_BYTES = 32 * 1024  # websockets' default write_limit: above it, writes wait to drain


@dataclass
class Session:
    """A connected client: its protocol state, its socket and its queue in the fan-out."""

    id: int
    connection: protocol.Connection
    socket: ServerConnection
    fanout: Fanout
    queue_limit: int
    queue: ClientQueue = field(init=False)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    writer_busy: bool = False  # its writer task is waiting for the socket to drain
    _closing: set = field(default_factory=set)

    def __post_init__(self):
        self.queue = ClientQueue(self.queue_limit, on_ready=self._send_now, on_overflow=self._drop_slow)

    async def run(self, handle: Callable[[Session, Event], Awaitable[None]], hello_timeout_s: float,
                  leave: Callable[[Session], None]) -> None:
        """Serve the client until its socket closes: each event goes to `handle`; `leave` at the end."""
        self.fanout.attach(self.id, self.queue)
        writer = asyncio.create_task(self._write())
        loop = asyncio.get_running_loop()
        hello_deadline = loop.call_later(hello_timeout_s, self._close_if_not_welcomed, hello_timeout_s)
        try:
            async for message in self.socket:
                if isinstance(message, str):
                    self.connection.receive_text(message, loop.time())
                else:
                    self.connection.receive_bytes(message, loop.time())
                for event in self.connection.events_received():
                    await handle(self, event)
                    self.flush()
                self.flush()
        except ConnectionClosed:
            pass
        finally:
            hello_deadline.cancel()
            self.fanout.detach(self.id)
            leave(self)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def flush(self) -> None:
        """Queue the protocol's answers to this client behind what the fan-out queued before."""
        for frame in self.connection.data_to_send():
            self.fanout.send(self.id, frame)

    async def close(self, code: int, reason: str) -> None:
        self.flush()
        await self.socket.close(code, reason)

    def close_later(self, code: int, reason: str) -> None:
        closing = asyncio.get_running_loop().create_task(self.socket.close(code, reason))
        self._closing.add(closing)  # the loop keeps only weak references to tasks
        closing.add_done_callback(self._closing.discard)

    def _send_now(self) -> None:
        """Frames were queued: write them at once if the socket keeps up, else wake the writer.

        Writing here, without a task switch per frame and client, is what lets one process feed
        a thousand viewers; the writer task takes over whenever the socket's buffer fills up.
        """
        if self.writer_busy or self.socket.transport.get_write_buffer_size() > _DIRECT_WRITE_BYTES:
            self.wake.set()
            return
        for frame in self.queue.pop_all():
            broadcast((self.socket,), frame)

    async def _write(self) -> None:
        """Send what queued up while the socket was full, waiting for it to drain."""
        try:
            while self.queue.closed_reason is None:
                await self.wake.wait()
                self.wake.clear()
                frames = self.queue.pop_all()
                if not frames:
                    continue
                self.writer_busy = True
                for frame in frames[:-1]:
                    broadcast((self.socket,), frame)
                await self.socket.send(frames[-1])  # returns once the socket has drained
                self.writer_busy = False
        except ConnectionClosed:
            pass

    def _close_if_not_welcomed(self, hello_timeout_s: float) -> None:
        if self.connection.grant is None:
            self.close_later(CLOSE_POLICY, f"no hello within {hello_timeout_s:g} s")

    def _drop_slow(self, reason: str) -> None:
        log.warning("closing client %d: %s", self.id, reason)
        self.fanout.detach(self.id)
        self.close_later(CLOSE_TOO_SLOW, reason)
