"""The scale-out tests' servers: a real Redis and a throw-away PostgreSQL cluster per test, stopped
after it; skipped, with the reason, only where their binaries are not installed
(`scripts/setup.sh --test` installs them)."""
from __future__ import annotations

import pytest
from engines import PG_BIN, REDIS_SERVER, PostgresServer, RedisServer

from twin.scaleout.postgres_store import migrate


@pytest.fixture
def redis_server(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh --test installs it)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_server():
    """A running PostgreSQL with twin's schema migrated into its `postgres` database."""
    if PG_BIN is None:
        pytest.skip("PostgreSQL's server binaries are not installed (scripts/setup.sh --test installs them)")
    server = PostgresServer()
    try:
        server.start()
        migrate(server.url)
        yield server
    finally:
        server.remove()

