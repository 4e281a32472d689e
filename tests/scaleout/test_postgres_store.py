"""The PostgreSQL store against a real, throw-away PostgreSQL: the Store interface's guarantees under
writers in several connections, its schema by `migrate`, and a restart in the middle."""
from __future__ import annotations

import threading

import pytest
from store_contract import history_pages_and_old_documents, machine_scoped_tokens

from twin.live.history import HistoryRow
from twin.scaleout.postgres_store import MIGRATIONS, SCHEMA_VERSION, PostgresStore, migrate
from twin.serve.access import Grant, Role, hash_token
from twin.serve.store import StaleRevision, StoreError

DOCUMENT = {"name": "shop", "counter": 0}


def bump(store: PostgresStore, author: str, times: int, committed: list) -> None:
    """Edit `times` times from the head this writer last saw, rebasing on StaleRevision."""
    for _ in range(times):
        while True:
            revision, document = store.head("shop")
            edited = {**document, "counter": document["counter"] + 1}
            try:
                committed.append(store.commit_edit("shop", revision, [{"op": "replace", "path": "/counter",
                                                                       "value": edited["counter"]}], edited, author))
                break
            except StaleRevision:
                continue


def test_writers_in_two_stores_get_strictly_increasing_revisions_and_lose_none(postgres_server):
    stores = [PostgresStore(postgres_server.url) for _ in range(2)]
    try:
        assert stores[0].import_twin("shop", DOCUMENT) == 0
        assert stores[1].import_twin("shop", DOCUMENT) == 0  # the same document: imported once
        committed: list[int] = []
        writers = [threading.Thread(target=bump, args=(store, f"writer{n}", 25, committed))
                   for n, store in enumerate(stores * 2)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert sorted(committed) == list(range(1, 101))  # each revision once: none lost, none twice
        revision, document = stores[0].head("shop")
        assert (revision, document["counter"]) == (100, 100)
        assert [edit.revision for edit in stores[1].edits("shop")] == list(range(1, 101))
    finally:
        for store in stores:
            store.close()


def test_the_interface_round_trips_steps_tokens_and_a_stale_base(postgres_server):
    store = PostgresStore(postgres_server.url)
    try:
        store.import_twin("shop", DOCUMENT)
        assert store.import_twin("shop", {**DOCUMENT, "counter": 5}) == 1  # a re-export: one revision
        assert store.edits("shop")[0].author == "import"
        with pytest.raises(StaleRevision):
            store.commit_edit("shop", 0, [], DOCUMENT, "late")
        with pytest.raises(KeyError):
            store.head("nowhere")
        store.record_step("shop", "setup", 0, True, "ann", 1)
        store.record_step("shop", "setup", "clamp", False, "bob", 1)
        assert [(s.step, s.done, s.author) for s in store.steps("shop")] == [(0, True, "ann"), ("clamp", False, "bob")]
        store.add_token("secret", "ann", Role.PLANNER, "shop")
        assert store.grant("secret").role is Role.PLANNER and store.grant("other") is None
        assert store.token_names() == [("ann", "planner", "shop", ())]
        assert store.remove_tokens("ann") == 1 and store.grant("secret") is None
    finally:
        store.close()


def test_a_database_without_the_schema_is_refused_until_migrated(postgres_server):
    postgres_server_url = postgres_server.url
    with PostgresStore(postgres_server_url)._pool.connection() as connection:
        connection.execute("DROP TABLE schema_version, edits, steps, history, tokens, twins")
    with pytest.raises(ValueError, match="twin db migrate"):
        PostgresStore(postgres_server_url)
    assert migrate(postgres_server_url) == (0, SCHEMA_VERSION)
    assert migrate(postgres_server_url) == (SCHEMA_VERSION, SCHEMA_VERSION)  # idempotent
    PostgresStore(postgres_server_url).close()


def test_artisan_tokens_keep_their_machines_and_the_history_pages(postgres_server):
    store = PostgresStore(postgres_server.url)
    try:
        machine_scoped_tokens(store)
        history_pages_and_old_documents(store)
    finally:
        store.close()


def test_a_database_of_the_first_schema_is_migrated_keeping_its_tokens_and_edits(postgres_server):
    with PostgresStore(postgres_server.url)._pool.connection() as connection:
        connection.execute("DROP TABLE schema_version, edits, steps, history, tokens, twins")
        connection.execute(MIGRATIONS[0])
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL); "
                           "INSERT INTO schema_version VALUES (1)")
        connection.execute("INSERT INTO twins VALUES ('shop', 1, '{\"n\":1}', '{\"n\":0}', 'x')")
        connection.execute("INSERT INTO edits VALUES ('shop', 1, %s, 'ann', 5)",
                           ('[{"op":"replace","path":"/n","value":1}]',))
        connection.execute("INSERT INTO tokens VALUES (%s, 'ann', 'planner', 'shop', 1)", (hash_token("t"),))
    with pytest.raises(ValueError, match="schema version 1"):
        PostgresStore(postgres_server.url)
    assert migrate(postgres_server.url) == (1, SCHEMA_VERSION)
    store = PostgresStore(postgres_server.url)
    try:
        assert store.grant("t") == Grant("ann", Role.PLANNER, "shop")
        [logged] = store.edits("shop")
        assert (logged.author, logged.at_s, logged.restored) == ("ann", 5.0, None)
    finally:
        store.close()


def test_an_unreachable_server_is_a_sentence_naming_it():
    with pytest.raises(ValueError, match="cannot reach PostgreSQL at postgresql://twin:\\*\\*\\*@127.0.0.1:9/"):
        PostgresStore("postgresql://twin:hunter2@127.0.0.1:9/twin")


def test_edits_while_postgres_is_down_fail_and_the_store_recovers_when_it_returns(postgres_server):
    store = PostgresStore(postgres_server.url)
    try:
        store.import_twin("shop", DOCUMENT)
        assert store.commit_edit("shop", 0, [], DOCUMENT, "ann") == 1
        postgres_server.stop("immediate")
        with pytest.raises(StoreError, match="unreachable"):
            store.commit_edit("shop", 1, [], DOCUMENT, "ann")
        postgres_server.start()
        assert store.commit_edit("shop", 1, [], DOCUMENT, "ann") == 2  # the failed one was not stored
        assert [edit.revision for edit in store.edits("shop")] == [1, 2]
    finally:
        store.close()


def test_history_buckets_merge_downsample_keep_texts_and_prune(postgres_server):
    store = PostgresStore(postgres_server.url)
    try:
        store.record_history([HistoryRow("shop", "m", "rpm", 1000.0 + i, True, 10, float(i), i - 1.0, i + 1.0, unit="rpm")
                              for i in range(4)])
        store.record_history([HistoryRow("shop", "m", "rpm", 1000.0, True, 30, 4.0, -5.0, 5.0)])  # merged, weighted
        store.record_history([HistoryRow("shop", "m", "state", 1000.0 + i, False, 1, last=s)
                              for i, s in enumerate(["idle", "printing"])])
        full = store.history("shop", "m", "rpm", 1000, 1004, 100)
        assert full.unit == "rpm" and full.points == [[1000.0, 3.0, -5.0, 5.0], [1001.0, 1.0, 0.0, 2.0],
                                                      [1002.0, 2.0, 1.0, 3.0], [1003.0, 3.0, 2.0, 4.0]]
        halves = store.history("shop", "m", "rpm", 1000, 1004, 2).points
        assert halves == [[1000.0, pytest.approx(2.6), -5.0, 5.0], [1002.0, 2.5, 1.0, 4.0]]
        assert store.history("shop", "m", "state", 1000, 1004, 1).points == [[1000.0, "printing"]]  # the latest
        assert store.prune_history(1002.0) == 4  # two buckets of each property
        assert [p[0] for p in store.history("shop", "m", "rpm", 0, 2000, 2000).points] == [1002.0, 1003.0]
    finally:
        store.close()
