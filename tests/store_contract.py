"""What every store (SQLite, PostgreSQL) must do for artisans' machine-scoped tokens and the
document's history (issue 14); each store's tests run these on a real database."""
from __future__ import annotations

import time

import pytest

from twin.serve.access import Grant, Role
from twin.serve.json_patch import apply_patch


def machine_scoped_tokens(store) -> None:
    store.add_token("lathe-token", "luca", Role.ARTISAN, "shop", machines=("lathe-1", "mill-1"))
    store.add_token("any-token", "anna", Role.ARTISAN, "shop")
    assert store.grant("lathe-token") == Grant("luca", Role.ARTISAN, "shop", machines=("lathe-1", "mill-1"))
    assert store.grant("any-token").machines == ()
    assert store.token_names() == [("luca", "artisan", "shop", ("lathe-1", "mill-1")), ("anna", "artisan", "shop", ())]
    with pytest.raises(ValueError, match="only artisan tokens"):
        store.add_token("planner-token", "maria", Role.PLANNER, "shop", machines=("lathe-1",))
    assert store.grant("planner-token") is None


def history_pages_and_old_documents(store) -> None:
    """Edits keep their time and what they restored; pages newest first; any revision's document."""
    store.import_twin("shop", {"name": "shop", "counter": 0})
    started = time.time()
    for value in range(1, 6):
        revision, document = store.head("shop")
        patch = [{"op": "replace", "path": "/counter", "value": value}]
        store.commit_edit("shop", revision, patch, apply_patch(document, patch), f"author-{value}")
    patch = [{"op": "replace", "path": "/counter", "value": 2}]
    assert store.commit_edit("shop", 5, patch, {"name": "shop", "counter": 2}, "maria", restored=2) == 6
    newest = store.recent_edits("shop", None, 2)
    assert [e.revision for e in newest] == [6, 5] and newest[0].restored == 2 and newest[1].restored is None
    assert newest[1].author == "author-5" and started - 1 <= newest[1].at_s <= time.time() + 1
    assert [e.revision for e in store.recent_edits("shop", 5, 10)] == [4, 3, 2, 1]
    assert [e.revision for e in store.edits("shop", after=1, up_to=3)] == [2, 3]
    assert [store.document_at("shop", r)["counter"] for r in range(7)] == [0, 1, 2, 3, 4, 5, 2]
    with pytest.raises(ValueError, match="revisions 0 to 6"):
        store.document_at("shop", 7)
