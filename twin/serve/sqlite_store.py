"""The embedded store (`twin.serve.store.Store` on a SQLite file): documents, the append-only edit
log, step events, token hashes and the history of live values.

SQLite in WAL mode. When `commit_edit` returns, the edit is committed: a server killed at any
moment after acknowledging it loses nothing. `durability` chooses what else it survives:
"full" (SQLite `synchronous=FULL`, the default) waits for the disk on every commit, so an
acknowledged edit also survives a power cut or an OS crash; "process" (`synchronous=NORMAL`)
leaves the fsync to the next checkpoint: still safe from any crash of the server process, but
a power cut may lose the last edits. "process" removes the disk's fsync time (and its spikes)
from every edit's latency. Each twin row keeps
the document it was imported with (revision 0) and the document at its head revision; the
`edits` table holds every patch in between with its author, so the head can be rebuilt and
audited from the log.

One `SqliteStore` is used by one thread at a time (the server gives it a thread of its own), except
`checkpoint`, which has a connection of its own and runs in another thread.

Several processes on one machine may share the file (`twin serve` behind a reverse proxy): every
write is a `BEGIN IMMEDIATE` transaction, which takes SQLite's one write lock before it reads, so
revisions stay strictly increasing per twin whoever commits them; a writer that finds the lock
taken waits up to `BUSY_TIMEOUT_S` for it instead of failing.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from twin.live.history import HistoryRow
from twin.serve.access import Grant, Role, hash_token
from twin.serve.store import (EDIT_COLUMNS, IMPORT_AUTHOR, Edit, HistorySeries, StaleRevision, StepEvent, Store,
                              StoreError, edit_from_columns, grant_from_columns, history_columns, history_series,
                              token_columns, token_listing)

DURABILITY = {"full": "FULL", "process": "NORMAL"}  # what an acknowledged edit survives -> SQLite setting
_NO_LIMIT = 2**62  # above every revision
BUSY_TIMEOUT_S = 10.0  # how long a commit waits for another process's write to finish

_SCHEMA = """
CREATE TABLE IF NOT EXISTS twins (
    name TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    document TEXT NOT NULL,
    base_document TEXT NOT NULL,
    source_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS edits (
    twin TEXT NOT NULL REFERENCES twins(name),
    revision INTEGER NOT NULL,
    patch TEXT NOT NULL,
    author TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (twin, revision)
);
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    twin TEXT NOT NULL REFERENCES twins(name),
    procedure TEXT NOT NULL,
    step TEXT NOT NULL,  -- JSON: a step index or a step id
    done INTEGER NOT NULL,
    author TEXT NOT NULL,
    revision INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (  -- one row per property per bucket (twin.live.history)
    twin TEXT NOT NULL,
    machine TEXT NOT NULL,
    property TEXT NOT NULL,
    t REAL NOT NULL,
    n INTEGER NOT NULL,
    mean REAL, lo REAL, hi REAL,  -- numbers
    last TEXT,                    -- other values, as JSON
    unit TEXT,
    PRIMARY KEY (twin, machine, property, t)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_by_time ON history (t);
CREATE TABLE IF NOT EXISTS tokens (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    twin TEXT NOT NULL,
    created REAL NOT NULL
);
"""
# Columns added since the first schema: a database made before them gets them when a store
# (or `twin db migrate`) opens it, and keeps working.
_ADDED_COLUMNS = (
    ("tokens", "machines", "TEXT NOT NULL DEFAULT '[]'"),  # JSON list of machine ids: an artisan's scope
    ("edits", "restored", "INTEGER"),  # a restore's revision brought back
)


def canonical_json(document) -> str:
    """The one text of a JSON value (sorted keys, no spaces): equal documents hash alike."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SqliteStore(Store):
    """A SQLite file holding twins, edits, steps and tokens."""

    def __init__(self, path: str | Path, durability: str = "full"):
        if durability not in DURABILITY:
            raise ValueError(f"unknown durability {durability!r}: use one of {', '.join(DURABILITY)}")
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"the database path {self.path} is a folder; give a file name such as {self.path / 'twin.db'}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{self.path} is not a usable SQLite database ({error}); give another --db path") from None
        self._db.execute(f"PRAGMA synchronous={DURABILITY[durability]}")
        # Checkpoints (copying the WAL into the database, with an fsync) would otherwise run inside
        # whichever commit crosses 1000 pages and stall that edit; `checkpoint` runs them aside.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer: sqlite3.Connection | None = None
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._add_columns()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._db.close()

    def checkpoint(self) -> None:
        """Copy committed edits from the WAL into the database file, without blocking commits.

        Call it from one thread of its own (it has its own connection), every few seconds.
        """
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                                 check_same_thread=False)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _transaction(self):
        return _Transaction(self._db)

    def _add_columns(self) -> None:
        with self._transaction():  # looked at under the write lock: processes opening together add each once
            for table, column, declaration in _ADDED_COLUMNS:
                if column not in {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    # Twins and their edit log.

    def import_twin(self, name: str, document: dict) -> int:
        """Make `name` known with `document` as imported from its folder; return its head revision.

        A twin already stored keeps its edits. If the imported document differs from the one it
        was last imported from (a re-export), it becomes a new revision replacing the whole
        document, by the author "import".
        """
        text = canonical_json(document)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        # Read inside the write transaction: processes starting together import the twin once.
        with self._transaction():
            row = self._db.execute("SELECT revision, source_sha256 FROM twins WHERE name = ?", (name,)).fetchone()
            if row is None:
                self._db.execute("INSERT INTO twins VALUES (?, 0, ?, ?, ?)", (name, text, text, digest))
                return 0
            revision, stored_digest = row
            if stored_digest == digest:
                return revision
            revision = self._append(name, revision, [{"op": "replace", "path": "", "value": document}],
                                    text, IMPORT_AUTHOR)
            self._db.execute("UPDATE twins SET source_sha256 = ? WHERE name = ?", (digest, name))
        return revision

    def twin_names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM twins ORDER BY name")]

    def head(self, name: str) -> tuple[int, dict]:
        """The head revision of twin `name` and its document."""
        row = self._db.execute("SELECT revision, document FROM twins WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise KeyError(name)
        return row[0], json.loads(row[1])

    def base_document(self, name: str) -> dict:
        """The document of twin `name` at revision 0."""
        row = self._db.execute("SELECT base_document FROM twins WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise KeyError(name)
        return json.loads(row[0])

    def commit_edit(self, name: str, base_revision: int, patch: list, document: dict, author: str,
                    restored: int | None = None) -> int:
        """Append `patch` (which turns the head into `document`) as the next revision; return it.

        Raises `StaleRevision` if `base_revision` is not the head. Returns after the commit.
        """
        with self._transaction():
            return self._append(name, base_revision, patch, canonical_json(document), author, restored)

    def _append(self, name: str, base_revision: int, patch: list, document_text: str, author: str,
                restored: int | None = None) -> int:
        revision = base_revision + 1
        updated = self._db.execute(
            "UPDATE twins SET revision = ?, document = ? WHERE name = ? AND revision = ?",
            (revision, document_text, name, base_revision)).rowcount
        if updated != 1:
            current = self._db.execute("SELECT revision FROM twins WHERE name = ?", (name,)).fetchone()
            if current is None:
                raise KeyError(name)
            raise StaleRevision(name, base_revision, current[0])
        self._db.execute("INSERT INTO edits (twin, revision, patch, author, at, restored) VALUES (?, ?, ?, ?, ?, ?)",
                         (name, revision, json.dumps(patch, separators=(",", ":")), author, time.time(), restored))
        return revision

    def edits(self, name: str, after: int = 0, up_to: int | None = None) -> list[Edit]:
        """The logged edits of twin `name` with a revision above `after` (and at most `up_to`), in order."""
        rows = self._db.execute(
            f"SELECT {EDIT_COLUMNS} FROM edits WHERE twin = ? AND revision > ? AND revision <= ? ORDER BY revision",
            (name, after, _NO_LIMIT if up_to is None else up_to))
        return [edit_from_columns(*row) for row in rows]

    def recent_edits(self, name: str, before: int | None, limit: int) -> list[Edit]:
        rows = self._db.execute(
            f"SELECT {EDIT_COLUMNS} FROM edits WHERE twin = ? AND revision < ? ORDER BY revision DESC LIMIT ?",
            (name, _NO_LIMIT if before is None else before, limit))
        return [edit_from_columns(*row) for row in rows]

    # Instruction progress.

    def record_step(self, twin: str, procedure: str, step: int | str, done: bool, author: str, revision: int) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO steps (twin, procedure, step, done, author, revision, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (twin, procedure, json.dumps(step), int(done), author, revision, time.time()))

    def steps(self, twin: str) -> list[StepEvent]:
        rows = self._db.execute(
            "SELECT procedure, step, done, author, revision FROM steps WHERE twin = ? ORDER BY seq", (twin,))
        return [StepEvent(p, json.loads(s), bool(d), a, r) for p, s, d, a, r in rows]

    # History of live values.

    def record_history(self, rows: list[HistoryRow]) -> None:
        with self._transaction():
            self._db.executemany(
                "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "mean = (mean * n + excluded.mean * excluded.n) / (n + excluded.n), lo = min(lo, excluded.lo), "
                "hi = max(hi, excluded.hi), n = n + excluded.n, last = excluded.last, "
                "unit = coalesce(excluded.unit, unit)",
                [history_columns(row) for row in rows])

    def history(self, twin: str, machine: str, property: str, from_s: float, to_s: float,
                max_points: int) -> HistorySeries:
        width = max((to_s - from_s) / max_points, 1e-9)
        # Within a bucket of `width`: the first time, the count-weighted mean, min, max; SQLite takes the
        # bare columns `last` and `unit` from the row of MAX(t), i.e. the latest value.
        rows = self._db.execute(
            "SELECT MIN(t), SUM(mean * n) / SUM(n), MIN(lo), MAX(hi), last, unit, MAX(t) FROM history "
            "WHERE twin = ? AND machine = ? AND property = ? AND t >= ? AND t <= ? "
            "GROUP BY CAST((t - ?) / ? AS INTEGER) ORDER BY 1",
            (twin, machine, property, from_s, to_s, from_s, width)).fetchall()
        return history_series(rows)

    def prune_history(self, before_s: float) -> int:
        with self._transaction():
            return self._db.execute("DELETE FROM history WHERE t < ?", (before_s,)).rowcount

    # Tokens.

    def add_token(self, token: str, name: str, role: Role, twin: str, machines: tuple[str, ...] = ()) -> None:
        """Remember `token` (only its hash) as granting `role` on `twin` (or ALL_TWINS), an artisan's on `machines`."""
        columns = token_columns(token, name, role, twin, machines)
        with self._transaction():
            self._db.execute("INSERT INTO tokens (sha256, name, role, twin, created, machines) "
                             "VALUES (?, ?, ?, ?, ?, ?)", columns)

    def grant(self, token: str) -> Grant | None:
        """What `token` allows, or None if the store does not know it."""
        row = self._db.execute("SELECT name, role, twin, machines FROM tokens WHERE sha256 = ?",
                               (hash_token(token),)).fetchone()
        return None if row is None else grant_from_columns(*row)

    def remove_tokens(self, name: str) -> int:
        """Forget every token held by `name`; return how many there were."""
        with self._transaction():
            return self._db.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount

    def token_names(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(name, role, twin, machines) of every stored token; the tokens themselves are not stored."""
        return token_listing(self._db.execute("SELECT name, role, twin, machines FROM tokens ORDER BY created"))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on an exception)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback):
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
        if isinstance(value, sqlite3.Error):  # the interface's error: callers need not know the engine
            raise StoreError(f"the SQLite store failed ({value})") from value
        return False


