"""The store on PostgreSQL (`twin serve --db postgresql://...`), for processes on several machines.

The same guarantees as the SQLite store: `commit_edit` returns once PostgreSQL has committed the
edit (with the server's default `synchronous_commit`, on its disk), and revisions are strictly
increasing per twin however many processes write: the edit is an `UPDATE ... WHERE revision =
base`, which takes the twin row's lock, so a second writer of the same base waits, then finds
the revision moved and gets `StaleRevision`. Connections come from a pool (psycopg_pool) whose
connections are checked before use, so a restarted PostgreSQL costs the edits made while it was
down (each gets a `StoreError`, never an acknowledgement), not the process.

The schema is made and upgraded by `twin db migrate` (`migrate`); a store refuses to open a
database whose schema is missing or older, and says which command to run.
"""
from __future__ import annotations

import hashlib
import json
import time
import urllib.parse

import psycopg
import psycopg_pool

from twin.live.history import HistoryRow
from twin.serve.access import Grant, Role, hash_token
from twin.serve.sqlite_store import canonical_json
from twin.serve.store import (EDIT_COLUMNS, IMPORT_AUTHOR, Edit, HistorySeries, StaleRevision, StepEvent, Store,
                              StoreError, edit_from_columns, grant_from_columns, history_columns, history_series,
                              token_columns, token_listing)

POOL_SIZE = 4
WAIT_FOR_CONNECTION_S = 3.0  # an edit while PostgreSQL is down fails after this, with a sentence
CONNECT_TIMEOUT_S = 2

# Each entry upgrades the schema by one version; `schema_version` holds how many have run.
MIGRATIONS = [
    """
    CREATE TABLE twins (
        name TEXT PRIMARY KEY,
        revision BIGINT NOT NULL,
        document TEXT NOT NULL,
        base_document TEXT NOT NULL,
        source_sha256 TEXT NOT NULL
    );
    CREATE TABLE edits (
        twin TEXT NOT NULL REFERENCES twins(name),
        revision BIGINT NOT NULL,
        patch TEXT NOT NULL,
        author TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (twin, revision)
    );
    CREATE TABLE steps (
        seq BIGSERIAL PRIMARY KEY,
        twin TEXT NOT NULL REFERENCES twins(name),
        procedure TEXT NOT NULL,
        step TEXT NOT NULL,
        done BOOLEAN NOT NULL,
        author TEXT NOT NULL,
        revision BIGINT NOT NULL,
        at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE history (
        twin TEXT NOT NULL,
        machine TEXT NOT NULL,
        property TEXT NOT NULL,
        t DOUBLE PRECISION NOT NULL,
        n BIGINT NOT NULL,
        mean DOUBLE PRECISION, lo DOUBLE PRECISION, hi DOUBLE PRECISION,
        last TEXT,
        unit TEXT,
        PRIMARY KEY (twin, machine, property, t)
    );
    CREATE INDEX history_by_time ON history (t);
    CREATE TABLE tokens (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        twin TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL
    );
    """,
    """
    ALTER TABLE tokens ADD COLUMN machines TEXT NOT NULL DEFAULT '[]';  -- JSON list of machine ids: an artisan's scope
    ALTER TABLE edits ADD COLUMN restored BIGINT;  -- a restore's revision brought back
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
_MIGRATION_LOCK = 0x7477696E  # "twin": one migrating process at a time


def shown_url(url: str) -> str:
    """`url` without its password, for logs and start-up lines."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _connect_error(url: str, error: Exception) -> ValueError:
    return ValueError(f"cannot reach PostgreSQL at {shown_url(url)} ({str(error).strip()}); check the URL "
                      "(postgresql://USER:PASSWORD@HOST:PORT/DATABASE) and that the server runs")


def _schema_version(connection) -> int:
    exists = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    return connection.execute("SELECT version FROM schema_version").fetchone()[0]


def migrate(url: str) -> tuple[int, int]:
    """Create or upgrade the schema at `url`; return (version before, version after)."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as connection:
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                before = _schema_version(connection)
                if before > SCHEMA_VERSION:
                    raise ValueError(f"the database at {shown_url(url)} has schema version {before}, newer than this "
                                     f"twin's {SCHEMA_VERSION}: upgrade twin")
                if before == 0:
                    connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                    connection.execute("INSERT INTO schema_version VALUES (0)")
                for script in MIGRATIONS[before:]:
                    connection.execute(script)
                connection.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))
    except psycopg.OperationalError as error:
        raise _connect_error(url, error) from None
    return before, SCHEMA_VERSION


class PostgresStore(Store):
    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        self.url = url
        self.path = shown_url(url)
        try:
            with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as connection:
                version = _schema_version(connection)
        except psycopg.OperationalError as error:
            raise _connect_error(url, error) from None
        if version != SCHEMA_VERSION:
            raise ValueError(f"the database at {self.path} has schema version {version}, this twin needs "
                             f"{SCHEMA_VERSION}: run `twin db migrate --db {self.path}` first")
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=pool_size, timeout=WAIT_FOR_CONNECTION_S, open=True,
            check=psycopg_pool.ConnectionPool.check_connection, kwargs={"connect_timeout": CONNECT_TIMEOUT_S},
            name="twin-store")

    def close(self) -> None:
        self._pool.close()

    def _run(self, work):
        """`work(connection)` in one transaction; the engine's failures become `StoreError`."""
        try:
            with self._pool.connection() as connection:
                with connection.transaction():
                    return work(connection)
        except (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout) as error:
            raise StoreError(f"PostgreSQL at {self.path} is unreachable ({str(error).strip()})") from error
        except psycopg.DatabaseError as error:
            raise StoreError(f"the PostgreSQL store failed ({str(error).strip()})") from error

    def _rows(self, query: str, parameters: tuple = ()) -> list[tuple]:
        return self._run(lambda c: c.execute(query, parameters).fetchall())

    # Twins and their edit log.

    def import_twin(self, name: str, document: dict) -> int:
        text = canonical_json(document)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

        def work(c):
            c.execute("INSERT INTO twins VALUES (%s, 0, %s, %s, %s) ON CONFLICT (name) DO NOTHING",
                      (name, text, text, digest))
            revision, stored_digest = c.execute(
                "SELECT revision, source_sha256 FROM twins WHERE name = %s FOR UPDATE", (name,)).fetchone()
            if stored_digest == digest:
                return revision
            revision = self._append(c, name, revision, [{"op": "replace", "path": "", "value": document}], text,
                                    IMPORT_AUTHOR)
            c.execute("UPDATE twins SET source_sha256 = %s WHERE name = %s", (digest, name))
            return revision
        return self._run(work)

    def twin_names(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT name FROM twins ORDER BY name")]

    def head(self, name: str) -> tuple[int, dict]:
        rows = self._rows("SELECT revision, document FROM twins WHERE name = %s", (name,))
        if not rows:
            raise KeyError(name)
        return rows[0][0], json.loads(rows[0][1])

    def base_document(self, name: str) -> dict:
        rows = self._rows("SELECT base_document FROM twins WHERE name = %s", (name,))
        if not rows:
            raise KeyError(name)
        return json.loads(rows[0][0])

    def commit_edit(self, name: str, base_revision: int, patch: list, document: dict, author: str,
                    restored: int | None = None) -> int:
        return self._run(lambda c: self._append(c, name, base_revision, patch, canonical_json(document), author,
                                                restored))

    @staticmethod
    def _append(c, name: str, base_revision: int, patch: list, document_text: str, author: str,
                restored: int | None = None) -> int:
        revision = base_revision + 1
        updated = c.execute("UPDATE twins SET revision = %s, document = %s WHERE name = %s AND revision = %s",
                            (revision, document_text, name, base_revision)).rowcount
        if updated != 1:
            current = c.execute("SELECT revision FROM twins WHERE name = %s", (name,)).fetchone()
            if current is None:
                raise KeyError(name)
            raise StaleRevision(name, base_revision, current[0])
        c.execute("INSERT INTO edits (twin, revision, patch, author, at, restored) VALUES (%s, %s, %s, %s, %s, %s)",
                  (name, revision, json.dumps(patch, separators=(",", ":")), author, time.time(), restored))
        return revision

    def edits(self, name: str, after: int = 0, up_to: int | None = None) -> list[Edit]:
        rows = self._rows(f"SELECT {EDIT_COLUMNS} FROM edits WHERE twin = %s AND revision > %s "
                          "AND (%s::BIGINT IS NULL OR revision <= %s) ORDER BY revision", (name, after, up_to, up_to))
        return [edit_from_columns(*row) for row in rows]

    def recent_edits(self, name: str, before: int | None, limit: int) -> list[Edit]:
        rows = self._rows(f"SELECT {EDIT_COLUMNS} FROM edits WHERE twin = %s AND (%s::BIGINT IS NULL OR revision < %s) "
                          "ORDER BY revision DESC LIMIT %s", (name, before, before, limit))
        return [edit_from_columns(*row) for row in rows]

    # Instruction progress.

    def record_step(self, twin: str, procedure: str, step: int | str, done: bool, author: str, revision: int) -> None:
        self._run(lambda c: c.execute(
            "INSERT INTO steps (twin, procedure, step, done, author, revision, at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (twin, procedure, json.dumps(step), done, author, revision, time.time())))

    def steps(self, twin: str) -> list[StepEvent]:
        rows = self._rows("SELECT procedure, step, done, author, revision FROM steps WHERE twin = %s ORDER BY seq",
                          (twin,))
        return [StepEvent(p, json.loads(s), d, a, r) for p, s, d, a, r in rows]

    # History of live values.

    def record_history(self, rows: list[HistoryRow]) -> None:
        def work(c):
            with c.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO history VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (twin, machine, property, t) DO UPDATE SET "
                    "mean = (history.mean * history.n + excluded.mean * excluded.n) / (history.n + excluded.n), "
                    "lo = least(history.lo, excluded.lo), hi = greatest(history.hi, excluded.hi), "
                    "n = history.n + excluded.n, last = excluded.last, unit = coalesce(excluded.unit, history.unit)",
                    [history_columns(row) for row in rows])
        self._run(work)

    def history(self, twin: str, machine: str, property: str, from_s: float, to_s: float,
                max_points: int) -> HistorySeries:
        width = max((to_s - from_s) / max_points, 1e-9)
        # Within a bucket of `width`: the first time, the count-weighted mean, min, max, and the
        # latest row's value and unit.
        rows = self._rows(
            "SELECT MIN(t), SUM(mean * n) / SUM(n), MIN(lo), MAX(hi), (array_agg(last ORDER BY t DESC))[1], "
            "(array_agg(unit ORDER BY t DESC))[1] FROM history "
            "WHERE twin = %s AND machine = %s AND property = %s AND t >= %s AND t <= %s "
            "GROUP BY floor((t - %s) / %s) ORDER BY 1",
            (twin, machine, property, from_s, to_s, from_s, width))
        return history_series(rows)

    def prune_history(self, before_s: float) -> int:
        return self._run(lambda c: c.execute("DELETE FROM history WHERE t < %s", (before_s,)).rowcount)

    # Tokens.

    def add_token(self, token: str, name: str, role: Role, twin: str, machines: tuple[str, ...] = ()) -> None:
        columns = token_columns(token, name, role, twin, machines)
        self._run(lambda c: c.execute("INSERT INTO tokens (sha256, name, role, twin, created, machines) "
                                      "VALUES (%s, %s, %s, %s, %s, %s)", columns))

    def grant(self, token: str) -> Grant | None:
        rows = self._rows("SELECT name, role, twin, machines FROM tokens WHERE sha256 = %s", (hash_token(token),))
        return grant_from_columns(*rows[0]) if rows else None

    def remove_tokens(self, name: str) -> int:
        return self._run(lambda c: c.execute("DELETE FROM tokens WHERE name = %s", (name,)).rowcount)

    def token_names(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        return token_listing(self._rows("SELECT name, role, twin, machines FROM tokens ORDER BY created"))
