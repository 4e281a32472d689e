"""The store's interface: what `twin serve` keeps of each twin, and what any backend must provide.

A twin is a document at a head revision, the document it was imported with (revision 0), and an
append-only log of the patches in between with their authors; beside them, step events, the
hashes of access tokens, and the downsampled history of live values (twin.live.history). `SqliteStore` (`twin.serve.sqlite_store`) is the embedded backend for
one machine; a shared database for several machines implements the same methods.
"""
from __future__ import annotations

import abc
import json
import time
from dataclasses import dataclass
from pathlib import Path

from twin.live.history import HistoryRow
from twin.serve.access import Grant, Role, hash_token
from twin.serve.json_patch import replay

IMPORT_AUTHOR = "import"


class StoreError(Exception):
    """The backend failed (disk, database); nothing of the failed call was stored."""


class StaleRevision(Exception):
    """An edit based on a revision that is no longer the head."""

    def __init__(self, twin: str, base: int, current: int):
        super().__init__(f"twin {twin!r} is at revision {current}, not {base}: rebase and retry")
        self.current = current


@dataclass(frozen=True)
class Edit:
    revision: int
    patch: list
    author: str
    at_s: float  # Unix seconds, when it was committed
    restored: int | None = None  # the revision whose document this edit brought back (`restore`)


@dataclass(frozen=True)
class StepEvent:
    procedure: str
    step: int | str
    done: bool
    author: str
    revision: int


@dataclass(frozen=True)
class HistorySeries:
    """Points of one property: [t_s, mean, min, max] for numbers, [t_s, value] for other values."""

    unit: str | None
    points: list[list]


def token_columns(token: str, name: str, role: Role, twin: str, machines: tuple[str, ...]) -> tuple:
    """A token as the columns of a store's `tokens` table (sha256, name, role, twin, created, machines
    as a JSON list), after checking what its holder gave."""
    if not name.strip():
        raise ValueError("a token needs a non-empty name (who holds it)")
    if machines and role is not Role.ARTISAN:
        raise ValueError(f"only artisan tokens are limited to machines; a {role.label} edits what its role allows "
                         "on every machine")
    return hash_token(token), name, role.label, twin, time.time(), json.dumps(list(machines))


EDIT_COLUMNS = "revision, patch, author, at, restored"  # a store's `edits` columns that make an `Edit`


def edit_from_columns(revision: int, patch: str, author: str, at_s: float, restored: int | None) -> Edit:
    return Edit(revision, json.loads(patch), author, at_s, restored)


def grant_from_columns(name: str, role: str, twin: str, machines: str) -> Grant:
    return Grant(name=name, role=Role.parse(role), twin=twin, machines=tuple(json.loads(machines)))


def token_listing(rows) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(name, role, twin, machines) of the `tokens` rows (name, role, twin, machines as JSON)."""
    return [(name, role, twin, tuple(json.loads(machines))) for name, role, twin, machines in rows]


def history_columns(row: HistoryRow) -> tuple:
    """A closed history bucket as the columns of a store's `history` table (twin, machine, property,
    t, n, mean, lo, hi, last as JSON for values that are not numbers, unit)."""
    return (row.twin, row.machine, row.property, row.t_s, row.count, row.mean, row.low, row.high,
            None if row.numeric else json.dumps(row.last, ensure_ascii=False), row.unit)


def history_series(rows: list[tuple]) -> HistorySeries:
    """The series of merged buckets `rows`, each (t, mean, min, max, last as JSON, unit, ...), oldest first."""
    points = [[t, mean, low, high] if mean is not None else [t, json.loads(last)]
              for t, mean, low, high, last, *_ in rows if mean is not None or last is not None]
    return HistorySeries(unit=rows[-1][5] if rows else None, points=points)


class Store(abc.ABC):
    """Twins, their edit log, step events and tokens. Methods may block: the server calls them
    from one thread of its own (`checkpoint` from another)."""

    path: Path | str  # where the data lives, shown to the user

    @abc.abstractmethod
    def import_twin(self, name: str, document: dict) -> int:
        """Make `name` known with `document` as imported from its folder; return its head revision.

        A twin already stored keeps its edits. If the imported document differs from the one it
        was last imported from (a re-export), it becomes a new revision replacing the whole
        document, by the author `IMPORT_AUTHOR`."""

    @abc.abstractmethod
    def twin_names(self) -> list[str]: ...

    @abc.abstractmethod
    def head(self, name: str) -> tuple[int, dict]:
        """The head revision of twin `name` and its document (KeyError if unknown)."""

    @abc.abstractmethod
    def base_document(self, name: str) -> dict:
        """The document of twin `name` at revision 0."""

    @abc.abstractmethod
    def commit_edit(self, name: str, base_revision: int, patch: list, document: dict, author: str,
                    restored: int | None = None) -> int:
        """Append `patch` (which turns the head into `document`) as the next revision; return it once
        committed. `StaleRevision` if `base_revision` is not the head. `restored`: the revision whose
        document the edit brings back, when it is a restore."""

    @abc.abstractmethod
    def edits(self, name: str, after: int = 0, up_to: int | None = None) -> list[Edit]:
        """The logged edits of twin `name` with a revision above `after` (and at most `up_to`), in order."""

    @abc.abstractmethod
    def recent_edits(self, name: str, before: int | None, limit: int) -> list[Edit]:
        """At most `limit` logged edits of twin `name` below revision `before` (None: the head's too),
        newest first: a page of its history."""

    def document_at(self, name: str, revision: int) -> dict:
        """The document of twin `name` as it was at `revision` (0 .. the head), replayed from the log."""
        head, document = self.head(name)
        if not 0 <= revision <= head:
            raise ValueError(f"twin {name!r} has revisions 0 to {head}, not {revision}")
        if revision == head:
            return document
        return replay(self.base_document(name), [edit.patch for edit in self.edits(name, up_to=revision)])

    @abc.abstractmethod
    def record_step(self, twin: str, procedure: str, step: int | str, done: bool, author: str,
                    revision: int) -> None: ...

    @abc.abstractmethod
    def steps(self, twin: str) -> list[StepEvent]:
        """The step events of `twin`, oldest first."""

    @abc.abstractmethod
    def add_token(self, token: str, name: str, role: Role, twin: str, machines: tuple[str, ...] = ()) -> None:
        """Remember `token` (only its hash) as granting `role` on `twin` (or ALL_TWINS); an artisan's
        edits only on `machines` (machine ids; () for every machine)."""

    @abc.abstractmethod
    def grant(self, token: str) -> Grant | None:
        """What `token` allows, or None if the store does not know it."""

    @abc.abstractmethod
    def remove_tokens(self, name: str) -> int:
        """Forget every token held by `name`; return how many there were."""

    @abc.abstractmethod
    def token_names(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(name, role, twin, machines) of every stored token; the tokens themselves are not stored."""

    @abc.abstractmethod
    def record_history(self, rows: list[HistoryRow]) -> None:
        """Keep closed history buckets; a bucket already stored (same twin, machine, property, time) is merged."""

    @abc.abstractmethod
    def history(self, twin: str, machine: str, property: str, from_s: float, to_s: float,
                max_points: int) -> HistorySeries:
        """The history of one property in [from_s, to_s], in at most `max_points` points, oldest first."""

    @abc.abstractmethod
    def prune_history(self, before_s: float) -> int:
        """Forget history older than `before_s` (the retention); return how many buckets went."""

    def checkpoint(self) -> None:
        """Housekeeping the server runs every few seconds beside the commits (none by default)."""

    @abc.abstractmethod
    def close(self) -> None: ...
