"""The document's history as people read it (the `revisions` op): for each logged edit, who,
when, the paths it touched and a one-line summary, made from the patch alone (no replay), so
a page of the history costs only reading its rows.
"""
from __future__ import annotations

from twin.serve.store import IMPORT_AUTHOR, Edit

MAX_PATHS = 20  # per revision listed; `operations` still counts them all
_SUMMARY_PARTS = 3
_VERBS = {"add": "added", "remove": "removed", "replace": "changed", "move": "moved", "copy": "copied"}


def revision_entry(edit: Edit) -> dict:
    """One line of the history: {revision, author, time_s, operations, paths, summary, restored?}."""
    paths: list[str] = []
    for operation in edit.patch:
        for key in ("from", "path"):
            pointer = operation.get(key)
            if pointer is not None and pointer not in paths:
                paths.append(pointer)
    entry = {"revision": edit.revision, "author": edit.author, "time_s": edit.at_s, "operations": len(edit.patch),
             "paths": paths[:MAX_PATHS], "summary": summary(edit)}
    if edit.restored is not None:
        entry["restored"] = edit.restored
    return entry


def summary(edit: Edit) -> str:
    """A short sentence of what `edit` did, e.g. "added procedures 'oil-change'; changed /machines/0/pose"."""
    if edit.restored is not None:
        return f"restored revision {edit.restored} ({_count(len(edit.patch))})"
    if edit.author == IMPORT_AUTHOR and [op.get("path") for op in edit.patch] == [""]:
        return "the scan folder's twin.json imported again (a re-export)"
    parts = [_phrase(operation) for operation in edit.patch if operation.get("op") != "test"]
    if not parts:
        return "no change"
    rest = len(parts) - _SUMMARY_PARTS
    return "; ".join(parts[:_SUMMARY_PARTS]) + (f"; and {_count(rest)} more" if rest > 0 else "")


def _phrase(operation: dict) -> str:
    verb = _VERBS.get(operation.get("op"), operation.get("op"))
    path = operation.get("path", "")
    value = operation.get("value")
    if isinstance(value, dict) and isinstance(value.get("id"), str) and path.count("/") == 2:
        return f"{verb} {path.split('/')[1]} {value['id']!r}"  # a whole item of a list: named by its id
    if operation.get("op") == "move":
        return f"moved {operation.get('from')} to {path}"
    return f"{verb} {path or 'the whole document'}"


def _count(operations: int) -> str:
    return f"{operations} change{'s' if operations != 1 else ''}"
