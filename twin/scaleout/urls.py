"""What `--db` and `--fanout` name: a SQLite file or a PostgreSQL URL, a Redis URL, checked with
sentences that say what to write instead."""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

POSTGRES_SCHEMES = ("postgresql", "postgres")
REDIS_SCHEMES = ("redis", "rediss")
REDIS_EXAMPLE = "redis://127.0.0.1:6379/0"


def is_postgres_url(db: str) -> bool:
    return urllib.parse.urlsplit(str(db)).scheme in POSTGRES_SCHEMES


def sqlite_path(db: str) -> Path:
    """The SQLite file `db` names; refuses URLs of engines twin does not speak."""
    scheme = urllib.parse.urlsplit(str(db)).scheme
    if "://" in str(db) and scheme not in ("", "file"):
        raise ValueError(f"--db {db}: twin stores in a SQLite file or in PostgreSQL "
                         f"(postgresql://USER@HOST/DATABASE), not in {scheme!r}")
    return Path(str(db).removeprefix("file://"))


@dataclass(frozen=True)
class RedisAddress:
    url: str
    database: int

    @property
    def prefix(self) -> str:
        """Names of channels and keys: pub/sub channels are shared by all databases of a Redis, so
        the database number is in the name (two deployments on one Redis use two numbers)."""
        return f"twin-serve:{self.database}"


def redis_address(url: str) -> RedisAddress:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ValueError(f"--fanout {url}: give a Redis URL such as {REDIS_EXAMPLE}")
    if not parts.hostname and not parts.path.startswith("/"):
        raise ValueError(f"--fanout {url} names no host; e.g. {REDIS_EXAMPLE}")
    database = parts.path.strip("/") or "0"
    if not database.isdigit():
        raise ValueError(f"--fanout {url}: the path must be a Redis database number (0 .. 15), "
                         f"not {database!r}; e.g. {REDIS_EXAMPLE}")
    try:
        _ = parts.port  # parsed lazily: a port that is no number raises here
    except ValueError:
        raise ValueError(f"--fanout {url}: the port is not a number; e.g. {REDIS_EXAMPLE}") from None
    return RedisAddress(url, int(database))
