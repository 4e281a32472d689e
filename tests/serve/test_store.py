"""The SQLite store: revisions, the append-only edit log, re-imports, steps and hashed tokens."""
from __future__ import annotations

import sqlite3

import pytest
from store_contract import history_pages_and_old_documents, machine_scoped_tokens

from twin.serve.access import ALL_TWINS, Role, hash_token, new_token
from twin.serve.json_patch import apply_patch
from twin.serve import sqlite_store
from twin.serve.sqlite_store import SqliteStore
from twin.serve.store import IMPORT_AUTHOR, StaleRevision


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "twin.db")
    yield store
    store.close()


def edit(store, name, base, patch, author="maria"):
    _, document = store.head(name)
    return store.commit_edit(name, base, patch, apply_patch(document, patch), author)


def test_a_new_twin_starts_at_revision_zero_in_wal_mode(store):
    assert store.import_twin("shop", {"name": "shop", "layouts": []}) == 0
    assert store.head("shop") == (0, {"name": "shop", "layouts": []})
    assert store.twin_names() == ["shop"]
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_edits_advance_one_revision_each_and_are_logged_with_their_author(store):
    store.import_twin("shop", {"layouts": []})
    for i in range(3):
        assert edit(store, "shop", i, [{"op": "add", "path": "/layouts/-", "value": i}], author=f"p{i}") == i + 1
    assert store.head("shop") == (3, {"layouts": [0, 1, 2]})
    log = store.edits("shop")
    assert [(e.revision, e.author) for e in log] == [(1, "p0"), (2, "p1"), (3, "p2")]
    assert [e.revision for e in store.edits("shop", after=2)] == [3]
    # The log rebuilds the head from the base document.
    document = store.base_document("shop")
    for logged in log:
        document = apply_patch(document, logged.patch)
    assert document == store.head("shop")[1]


def test_a_stale_base_is_refused_with_the_current_revision_and_changes_nothing(store):
    store.import_twin("shop", {"layouts": []})
    edit(store, "shop", 0, [{"op": "add", "path": "/layouts/-", "value": "a"}])
    with pytest.raises(StaleRevision) as refused:
        store.commit_edit("shop", 0, [{"op": "add", "path": "/x", "value": 1}], {"x": 1}, "late")
    assert refused.value.current == 1
    assert store.head("shop") == (1, {"layouts": ["a"]})
    assert len(store.edits("shop")) == 1


def test_unknown_twins_are_key_errors(store):
    with pytest.raises(KeyError):
        store.head("nowhere")
    with pytest.raises(KeyError):
        store.commit_edit("nowhere", 0, [], {}, "x")


def test_reopening_keeps_edits_and_a_changed_source_becomes_a_new_revision(tmp_path):
    path = tmp_path / "twin.db"
    store = SqliteStore(path)
    store.import_twin("shop", {"v": 1})
    edit(store, "shop", 0, [{"op": "add", "path": "/note", "value": "kept"}])
    store.close()
    store = SqliteStore(path)
    assert store.import_twin("shop", {"v": 1}) == 1, "same source: the edits stay"
    assert store.head("shop") == (1, {"v": 1, "note": "kept"})
    assert store.import_twin("shop", {"v": 2}) == 2, "re-export: a new revision replacing the document"
    assert store.head("shop") == (2, {"v": 2})
    last = store.edits("shop", after=1)[0]
    assert last.author == IMPORT_AUTHOR and last.patch == [{"op": "replace", "path": "", "value": {"v": 2}}]
    store.close()


def test_steps_are_recorded_in_order(store):
    store.import_twin("shop", {})
    store.record_step("shop", "load-filament", 0, True, "luca", 0)
    store.record_step("shop", "load-filament", 0, False, "luca", 0)
    store.record_step("shop", "load-filament", "insert", True, "anna", 3)
    assert [(s.step, s.done, s.author, s.revision) for s in store.steps("shop")] == [
        (0, True, "luca", 0), (0, False, "luca", 0), ("insert", True, "anna", 3)]


def test_tokens_are_stored_only_as_hashes(store):
    token = new_token()
    store.add_token(token, "maria", Role.PLANNER, "shop")
    grant = store.grant(token)
    assert (grant.name, grant.role, grant.twin) == ("maria", Role.PLANNER, "shop")
    assert store.grant(token + "x") is None
    rows = sqlite3.connect(store.path).execute("SELECT * FROM tokens").fetchall()
    assert token not in repr(rows) and hash_token(token) in repr(rows)
    store.add_token(new_token(), "root", Role.ADMIN, ALL_TWINS)
    assert [n for n, *_ in store.token_names()] == ["maria", "root"]
    assert store.remove_tokens("maria") == 1 and store.grant(token) is None
    with pytest.raises(ValueError, match="name"):
        store.add_token(new_token(), " ", Role.VIEWER, "shop")


def test_artisan_tokens_keep_their_machines(store):
    machine_scoped_tokens(store)


def test_the_history_pages_newest_first_and_gives_any_revisions_document(store):
    history_pages_and_old_documents(store)


def test_a_database_of_the_first_schema_gets_the_new_columns_and_keeps_its_tokens_and_edits(tmp_path):
    old = sqlite3.connect(tmp_path / "old.db")
    old.executescript(sqlite_store._SCHEMA)  # the tables as the first twin serve made them
    old.execute("INSERT INTO twins VALUES ('shop', 1, '{\"n\":1}', '{\"n\":0}', 'x')")
    old.execute("""INSERT INTO edits VALUES ('shop', 1, '[{"op":"replace","path":"/n","value":1}]', 'ann', 5.0)""")
    old.execute("INSERT INTO tokens VALUES (?, 'ann', 'planner', 'shop', 1.0)", (hash_token("t"),))
    old.commit()
    old.close()
    for _ in range(2):  # opening again finds the columns there
        store = SqliteStore(tmp_path / "old.db")
        assert store.grant("t").role is Role.PLANNER and store.grant("t").machines == ()
        [logged] = store.edits("shop")
        assert (logged.author, logged.at_s, logged.restored) == ("ann", 5.0, None)
        assert store.document_at("shop", 0) == {"n": 0}
        store.close()


def test_bad_database_paths_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        SqliteStore(tmp_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match="not a usable SQLite"):
        SqliteStore(junk)


def test_checkpoint_moves_committed_edits_into_the_database_file(tmp_path):
    store = SqliteStore(tmp_path / "twin.db")
    store.import_twin("shop", {"layouts": []})
    for i in range(5):
        edit(store, "shop", i, [{"op": "add", "path": "/layouts/-", "value": i}])
    store.checkpoint()
    # The database file alone, without its WAL, now holds every edit.
    alone = tmp_path / "copy" / "twin.db"
    alone.parent.mkdir()
    alone.write_bytes((tmp_path / "twin.db").read_bytes())
    copy = SqliteStore(alone)
    assert copy.head("shop") == (5, {"layouts": [0, 1, 2, 3, 4]})
    copy.close()
    store.close()
