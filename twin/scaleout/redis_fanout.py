"""The fan-out across processes: what one `twin serve` publishes reaches the clients of all of them,
through Redis pub/sub.

`RedisFanout` is a `LocalFanout` (its own clients get every frame at once, Redis or not) that
also relays each published text frame to one Redis channel. What it receives from the other
processes goes to `on_remote(topic, frame, origin)`: the `StoreFollower`, which brings the hub up to
date and delivers to the local clients in revision order (`deliver_local`). Redis keeps no
messages: while it is unreachable the process serves its own clients, says so (`degraded`, in
its log and in `welcome`), retries, and once connected again calls `on_connected`, which
catches up from the store what the others committed meanwhile. Every `HEARTBEAT_S` each
process also publishes that it is alive (`ALIVE`), so that the others notice one that died
without a word (kill -9) and forget its clients' poses.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import secrets
from typing import Awaitable, Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from twin.live.bridge import Backoff
from twin.scaleout.urls import RedisAddress
from twin.serve.fanout import Frame, Latest, LocalFanout

log = logging.getLogger(__name__)

OUTBOX_LIMIT = 10_000  # frames waiting for Redis; beyond it Redis is too slow and the process says so
SOCKET_TIMEOUT_S = 5.0
HEARTBEAT_S = 2.0
ALIVE = '{"op":"alive"}'  # on the empty topic: no client subscribes to it
RECONNECT = Backoff(max_s=5.0)  # Redis is near: retry sooner than a machine's source would


def new_origin() -> str:
    """This process's name on the channel (its own frames come back to it and are skipped)."""
    return secrets.token_hex(6)


class RedisFanout(LocalFanout):
    def __init__(self, address: RedisAddress, origin: str | None = None,
                 relayed: Callable[[str], bool] = lambda topic: True, backoff: Backoff = RECONNECT):
        super().__init__()
        self.address = address
        self.origin = origin or new_origin()
        self.channel = f"{address.prefix}:frames"
        self._relayed = relayed  # topics whose frames other processes need (not views derived from others)
        self._backoff = backoff
        self.degraded: str | None = f"not connected to Redis at {address.url} yet"
        self.on_remote: Callable[[str, str, str], None] = lambda topic, frame, origin: self.deliver_local(topic, frame)
        self.on_connected: Callable[[], Awaitable[None]] = _nothing
        self._outbox: collections.deque[str] = collections.deque()
        self._wake: asyncio.Event | None = None
        self.relayed_frames = 0
        self.received_frames = 0

    def deliver_local(self, topic: str, frame: Frame | Latest, exclude: int | None = None) -> None:
        """Queue `frame` for this process's subscribers of `topic` only."""
        super().publish(topic, frame, exclude)

    def publish(self, topic: str, frame: Frame | Latest, exclude: int | None = None) -> None:
        super().publish(topic, frame, exclude)
        if self.degraded is not None or not self._relayed(topic):
            return  # what the others miss now they catch up from the store when Redis is back
        text = frame.text if isinstance(frame, Latest) else frame
        if isinstance(text, bytes):
            return  # binary frames are answers to one client, never published
        if len(self._outbox) >= OUTBOX_LIMIT:
            self._lose_redis(f"Redis at {self.address.url} is not keeping up ({OUTBOX_LIMIT} frames waiting)")
            return
        self._outbox.append(f"{json.dumps([self.origin, topic])}\n{text}")
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Stay connected to Redis (until cancelled): relay what is published, hand on what arrives."""
        self._wake = asyncio.Event()
        attempt = 0
        while True:
            client = aioredis.from_url(self.address.url, retry=Retry(NoBackoff(), 0),
                                       socket_timeout=None, socket_connect_timeout=SOCKET_TIMEOUT_S,
                                       health_check_interval=0)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(self.channel)
                await asyncio.wait_for(pubsub.get_message(timeout=SOCKET_TIMEOUT_S), SOCKET_TIMEOUT_S)  # the confirmation
                was = self.degraded
                self._outbox.clear()  # published while degraded: the others get it from the store
                self.degraded = None
                if attempt:
                    log.warning("Redis at %s is reachable again; catching up from the store (was: %s)",
                                self.address.url, was)
                attempt = 0
                await self.on_connected()  # after subscribing: nothing committed from now on is missed
                await _first_failure(self._send(client), self._receive(pubsub), self._beat())
            except (RedisError, OSError, asyncio.TimeoutError) as error:
                self._lose_redis(f"Redis at {self.address.url} is unreachable ({error or type(error).__name__})")
            finally:
                await client.aclose()
            await asyncio.sleep(self._backoff.wait_s(attempt))
            attempt += 1

    def _lose_redis(self, reason: str) -> None:
        if self.degraded is None:
            log.warning("%s: serving this process's own clients only; other processes' edits arrive from the "
                        "store until Redis is back", reason)
        self.degraded = f"{reason}; edits from other processes arrive late"
        self._outbox.clear()

    async def _send(self, client) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox and self.degraded is None:
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), 512))]
                async with client.pipeline(transaction=False) as pipe:
                    for message in batch:
                        pipe.publish(self.channel, message)
                    await pipe.execute()
                self.relayed_frames += len(batch)
            if self.degraded is not None:
                raise ConnectionError(self.degraded)

    async def _beat(self) -> None:
        while True:
            self._outbox.append(f"{json.dumps([self.origin, ''])}\n{ALIVE}")
            self._wake.set()
            await asyncio.sleep(HEARTBEAT_S)

    async def _receive(self, pubsub) -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            header, _, text = message["data"].decode("utf-8").partition("\n")
            origin, topic = json.loads(header)
            if origin == self.origin:
                continue
            self.received_frames += 1
            self.on_remote(topic, text, origin)


async def _nothing() -> None:
    return None


async def _first_failure(*coroutines) -> None:
    """Run together until one fails or ends: cancel the rest and raise (its error, or ConnectionError)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
        raise ConnectionError("the connection ended")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
