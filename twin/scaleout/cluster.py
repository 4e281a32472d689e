"""What makes one `twin serve` process one of many serving the same twins: the store shared by all
(SQLite on one machine, PostgreSQL on several), optionally Redis for the fan-out and the
leaders, and this process's part beside serving (following the store, relaying, leading).

`open_cluster(db, fanout_url)` builds it from the command line's `--db` and `--fanout`; the
server gets `cluster.store`, `cluster.fanout` and `cluster.first_client_id`, and runs
`cluster.run(server)` while it serves.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from twin.scaleout.follower import StoreFollower, is_relayed
from twin.scaleout.leader import FileLeadership, PostgresLeadership, RedisLeadership
from twin.scaleout.postgres_store import PostgresStore
from twin.scaleout.redis_fanout import RedisFanout, new_origin
from twin.scaleout.urls import is_postgres_url, redis_address, sqlite_path
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore
from twin.serve.store import Store

# Client ids are unique across processes: each process counts from a random multiple of 2^32
# (below 2^52, so that JavaScript's numbers hold them exactly).
_CLIENT_ID_BLOCKS = 2**20


@dataclass
class Cluster:
    store: Store
    fanout: RedisFanout | None
    leadership: RedisLeadership | PostgresLeadership | FileLeadership | None
    first_client_id: int
    follower: StoreFollower | None = None

    @property
    def degraded(self) -> str | None:
        return self.fanout.degraded if self.fanout is not None else None

    async def run(self, server: TwinServer) -> None:
        """Follow the store, relay through Redis and lead twins until cancelled."""
        deliver = self.fanout.deliver_local if self.fanout is not None else server.fanout.publish
        self.follower = StoreFollower(server, deliver)
        jobs = [self.follower.poll()]
        if self.fanout is not None:
            self.fanout.on_remote = self.follower.receive
            self.fanout.on_connected = self.follower.resync
            jobs.append(self.fanout.run())
        if self.leadership is not None:
            jobs.append(self.leadership.run(list(server.folders), server.start_bridges, server.stop_bridges))
        try:
            await asyncio.gather(*jobs)
        finally:
            await self.follower.stop()


def open_store(db: str, durability: str) -> Store:
    """The store `--db` names: a PostgreSQL URL or a SQLite file."""
    if is_postgres_url(db):
        return PostgresStore(db)
    return SqliteStore(sqlite_path(db), durability)


def open_cluster(db: str, durability: str, fanout_url: str | None) -> Cluster:
    store = open_store(db, durability)
    origin = new_origin()
    fanout = leadership = None
    if fanout_url is not None:
        address = redis_address(fanout_url)
        fanout = RedisFanout(address, origin, relayed=is_relayed)
        leadership = RedisLeadership(address, origin)
    elif isinstance(store, SqliteStore):  # one machine: the database's folder is every process's
        leadership = FileLeadership(store.path.with_name(store.path.name + ".leaders"))
    else:
        leadership = PostgresLeadership(store.url)
    return Cluster(store, fanout, leadership, first_client_id=(random.randrange(1, _CLIENT_ID_BLOCKS) << 32) + 1)
