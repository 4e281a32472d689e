"""`twin db`: the database of `twin serve` (edits, tokens, history)."""
from __future__ import annotations

import argparse
import json

from twin.scaleout.cluster import open_store
from twin.scaleout.postgres_store import migrate, shown_url
from twin.scaleout.urls import is_postgres_url
from twin.serve.run import DEFAULT_DB

COMMAND = "db"
HELP = "create or upgrade the database twin serve keeps edits and tokens in (SQLite or PostgreSQL)"
DESCRIPTION = """Create or upgrade the schema of twin serve's database.

A SQLite file gets its tables when a server first opens it; `migrate` does the same without
serving. A PostgreSQL database must be migrated before `twin serve --db postgresql://...` uses
it, and again after an upgrade of twin (servers refuse an older schema and say so). Migrating
twice changes nothing; several machines may run it at once (one waits for the other).

examples:
  twin db migrate --db postgresql://twin:secret@db.local:5432/twin
  twin db migrate --db scans/twin.db --json
"""


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    migrating = actions.add_parser("migrate", help="create the schema, or upgrade it to this twin's version",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    migrating.add_argument("--db", default=str(DEFAULT_DB), metavar="FILE_OR_URL",
                           help=f"a SQLite file (default {DEFAULT_DB}) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    migrating.add_argument("--json", action="store_true", help="print the outcome as JSON")


def run(args) -> int:
    if is_postgres_url(args.db):
        before, after = migrate(args.db)
        where = shown_url(args.db)
    else:
        open_store(args.db, durability="full").close()  # SQLite makes what is missing on opening
        before = after = None
        where = args.db
    if args.json:
        print(json.dumps({"db": where, "schema_version_before": before, "schema_version": after}))
    elif before is None:
        print(f"{where}: the SQLite schema is in place")
    elif before == after:
        print(f"{where}: already at schema version {after}")
    else:
        print(f"{where}: schema version {before} -> {after}")
    return 0
