"""`twin db migrate` on a fresh PostgreSQL database and on a SQLite file, and the sentences the CLI
answers bad --db and --fanout values with."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import psycopg

from twin.scaleout.postgres_store import SCHEMA_VERSION


def twin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_migrate_creates_the_postgres_schema_once(postgres_server):
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        connection.execute("CREATE DATABASE fresh")
    fresh = postgres_server.url.rsplit("/", 1)[0] + "/fresh"
    refused = twin("token", "list", "--db", fresh)
    assert refused.returncode == 2 and "run `twin db migrate --db" in refused.stderr
    first, again = twin("db", "migrate", "--db", fresh, "--json"), twin("db", "migrate", "--db", fresh)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"db": fresh, "schema_version_before": 0,
                                         "schema_version": SCHEMA_VERSION}
    assert again.returncode == 0 and f"already at schema version {SCHEMA_VERSION}" in again.stdout
    made = twin("token", "create", "--db", fresh, "--twin", "shop", "--role", "viewer", "--name", "ann")
    assert made.returncode == 0 and len(made.stdout.strip()) >= 40
    assert twin("token", "list", "--db", fresh).stdout.split() == ["ann", "viewer", "shop"]


def test_migrate_makes_a_sqlite_file_with_its_tables(tmp_path):
    db = tmp_path / "twin.db"
    done = twin("db", "migrate", "--db", str(db))
    assert done.returncode == 0 and "SQLite schema is in place" in done.stdout
    tables = {row[0] for row in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"twins", "edits", "steps", "tokens", "history"} <= tables


def test_bad_db_and_fanout_values_get_sentences(tmp_path, write_twin_folder):
    folder = write_twin_folder(tmp_path / "shop")
    engine = twin("db", "migrate", "--db", "mysql://root@localhost/twin")
    assert engine.returncode == 2 and "SQLite file or in PostgreSQL" in engine.stderr
    unreachable = twin("db", "migrate", "--db", "postgresql://twin@127.0.0.1:9/twin")
    assert unreachable.returncode == 2 and "cannot reach PostgreSQL at postgresql://twin@127.0.0.1:9/twin" in unreachable.stderr
    for fanout, says in (("http://cache:6379", "give a Redis URL"), ("redis://cache:6379/zero", "database number"),
                         ("redis://cache:port/0", "port is not a number")):
        served = twin("serve", str(folder), "--db", str(tmp_path / "twin.db"), "--port", "0", "--fanout", fanout)
        assert served.returncode == 2 and says in served.stderr, served.stderr
