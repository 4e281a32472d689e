"""Leaders: which process runs a twin's live-state bridges, so that each machine is read once per
cluster (and its history stored once), not once per process.

Both kinds have the same `run(twins, gain, lose)`: they call `gain(twin)` when this process
becomes the twin's leader and `lose(twin)` when it stops being it (and for every twin it leads
when cancelled, releasing them so another process takes over at once).

- `RedisLeadership`: a key per twin set with SET NX PX and renewed every third of its lifetime;
  a process that dies stops renewing, and another takes the twin within `ttl_s`. While Redis is
  unreachable a leader keeps its bridges (nobody can take over through an unreachable Redis);
  when Redis comes back empty (restarted), it claims its twins again before anyone else can.
- `PostgresLeadership`: with PostgreSQL but no Redis, a session-level advisory lock per twin on
  a connection of its own; PostgreSQL releases it when that connection ends (the process died,
  or the network between them), and the process then stops its sources until it has it again.
- `FileLeadership`: on one machine without Redis, a byte-range lock per twin on one file beside
  the SQLite database (fcntl); the kernel releases it when the process ends, even by kill -9.
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import zlib
from pathlib import Path
from typing import Callable

import psycopg
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from twin.scaleout.urls import RedisAddress

log = logging.getLogger(__name__)

LEADER_TTL_S = 6.0
FILE_RETRY_S = 2.0

# Renew the key if it is ours, or claim it if it is gone (Redis restarted); 1 if we hold it now.
_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
_ADVISORY_CLASS = 0x7477696E - 1  # the first key of twin's leader locks (beside migrate's lock)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisLeadership:
    def __init__(self, address: RedisAddress, origin: str, ttl_s: float = LEADER_TTL_S):
        self.address = address
        self.origin = origin
        self.ttl_s = ttl_s
        self.led: set[str] = set()

    def _key(self, twin: str) -> str:
        return f"{self.address.prefix}:leader:{twin}"

    async def run(self, twins: list[str], gain: Callable[[str], None], lose: Callable[[str], None]) -> None:
        client = aioredis.from_url(self.address.url, retry=Retry(NoBackoff(), 0), socket_timeout=self.ttl_s / 3,
                                   socket_connect_timeout=self.ttl_s / 3)
        ttl_ms = int(self.ttl_s * 1000)
        reachable = True
        try:
            while True:
                try:
                    for twin in twins:
                        if twin in self.led:
                            if not await client.eval(_RENEW, 1, self._key(twin), self.origin, ttl_ms):
                                self.led.discard(twin)
                                log.warning("twin %s: another process leads it now; its live sources stop here", twin)
                                lose(twin)
                        elif await client.set(self._key(twin), self.origin, nx=True, px=ttl_ms):
                            self.led.add(twin)
                            log.info("twin %s: this process leads it and reads its live sources", twin)
                            gain(twin)
                    reachable = True
                except (RedisError, OSError) as error:
                    if reachable:
                        log.warning("leader election: Redis at %s is unreachable (%s); this process keeps the "
                                    "twins it leads (%s)", self.address.url, error, ", ".join(sorted(self.led)) or "none")
                    reachable = False
                await asyncio.sleep(self.ttl_s / 3)
        finally:
            for twin in sorted(self.led):
                lose(twin)
                try:
                    await asyncio.shield(client.eval(_RELEASE, 1, self._key(twin), self.origin))
                except (RedisError, OSError):
                    pass  # it expires by itself
            self.led.clear()
            await client.aclose()


class PostgresLeadership:
    def __init__(self, url: str, retry_s: float = FILE_RETRY_S):
        self.url = url
        self.retry_s = retry_s
        self.led: set[str] = set()

    async def run(self, twins: list[str], gain: Callable[[str], None], lose: Callable[[str], None]) -> None:
        connection = None
        try:
            while True:
                try:
                    if connection is None or connection.closed:
                        connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True,
                                                                            connect_timeout=2)
                    await connection.execute("SELECT 1")  # still ours: the locks live as long as the session
                    for twin in twins:
                        if twin not in self.led and await _try_advisory_lock(connection, twin):
                            self.led.add(twin)
                            gain(twin)
                except psycopg.OperationalError as error:
                    if self.led:
                        log.warning("leader election: lost PostgreSQL (%s); the live sources of %s stop here until "
                                    "this process leads again", error, ", ".join(sorted(self.led)))
                    for twin in sorted(self.led):  # the session, and with it the locks, are gone
                        lose(twin)
                    self.led.clear()
                    connection = None
                await asyncio.sleep(self.retry_s)
        finally:
            for twin in sorted(self.led):
                lose(twin)
            self.led.clear()
            if connection is not None:
                await connection.close()  # releases the locks


async def _try_advisory_lock(connection, twin: str) -> bool:
    cursor = await connection.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                      (_ADVISORY_CLASS, zlib.crc32(twin.encode("utf-8")) - 2**31))
    return (await cursor.fetchone())[0]


class FileLeadership:
    def __init__(self, path: Path, retry_s: float = FILE_RETRY_S):
        self.path = Path(path)
        self.retry_s = retry_s
        self.led: set[str] = set()

    async def run(self, twins: list[str], gain: Callable[[str], None], lose: Callable[[str], None]) -> None:
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while len(self.led) < len(twins):
                for twin in twins:
                    if twin not in self.led and _try_lock(descriptor, twin):
                        self.led.add(twin)
                        gain(twin)
                await asyncio.sleep(self.retry_s)
            await asyncio.Event().wait()  # a lock is held until the process ends
        finally:
            for twin in sorted(self.led):
                lose(twin)
            self.led.clear()
            os.close(descriptor)  # releases every lock of this file


def _try_lock(descriptor: int, twin: str) -> bool:
    """Lock the byte of `twin` (at its CRC-32: the twins need no agreed numbering)."""
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, zlib.crc32(twin.encode("utf-8")), os.SEEK_SET)
        return True
    except OSError:
        return False
