"""RFC 6902 JSON Patch (with RFC 6901 JSON Pointers), applied atomically.

`apply_patch` never changes its input: it works on a deep copy and returns it, so a patch
that fails half-way leaves the caller's document exactly as it was.
"""
from __future__ import annotations

import copy
from typing import Any

_OPS = {"add", "remove", "replace", "move", "copy", "test"}


class JsonPatchError(ValueError):
    """A patch that is malformed or does not apply to the document."""


def parse_pointer(pointer: str) -> list[str]:
    """The reference tokens of a JSON Pointer ("" is the whole document)."""
    if not isinstance(pointer, str):
        raise JsonPatchError(f"a JSON Pointer must be a string, got {type(pointer).__name__}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError(f"the JSON Pointer {pointer!r} must be empty or start with '/'")
    tokens = pointer[1:].split("/")
    for token in tokens:
        stripped = token.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            raise JsonPatchError(f"the JSON Pointer {pointer!r} has a '~' not followed by 0 or 1")
    return [t.replace("~1", "/").replace("~0", "~") for t in tokens]


def validate_patch(patch: Any) -> list[dict]:
    """Check the shape of a patch (not whether it applies); return it."""
    if not isinstance(patch, list):
        raise JsonPatchError("a patch must be a JSON array of operations")
    for index, operation in enumerate(patch):
        where = f"patch operation {index}"
        if not isinstance(operation, dict):
            raise JsonPatchError(f"{where} must be an object")
        op = operation.get("op")
        if op not in _OPS:
            raise JsonPatchError(f"{where} has op {op!r}; use one of {sorted(_OPS)}")
        parse_pointer(operation.get("path"))
        if op in ("add", "replace", "test") and "value" not in operation:
            raise JsonPatchError(f"{where} ({op}) needs a 'value'")
        if op in ("move", "copy"):
            if "from" not in operation:
                raise JsonPatchError(f"{where} ({op}) needs a 'from'")
            parse_pointer(operation["from"])
    return patch


def apply_patch(document: Any, patch: list[dict]) -> Any:
    """Apply every operation of `patch` to a copy of `document`; all or nothing."""
    validate_patch(patch)
    result = copy.deepcopy(document)
    for index, operation in enumerate(patch):
        try:
            result = _apply_one(result, operation)
        except JsonPatchError as error:
            raise JsonPatchError(f"patch operation {index} ({operation['op']} {operation['path']!r}): {error}") from None
    return result


def _apply_one(document: Any, operation: dict) -> Any:
    op = operation["op"]
    path = parse_pointer(operation["path"])
    if op == "add":
        return _add(document, path, copy.deepcopy(operation["value"]))
    if op == "remove":
        return _remove(document, path)[0]
    if op == "replace":
        document, _ = _remove(document, path)
        return _add(document, path, copy.deepcopy(operation["value"]))
    if op == "test":
        if not _json_equal(_get(document, path), operation["value"]):
            raise JsonPatchError("the test failed: the value differs")
        return document
    source = parse_pointer(operation["from"])
    if op == "move":
        if path[: len(source)] == source and path != source:
            raise JsonPatchError("cannot move a value into one of its own children")
        document, value = _remove(document, source)
        return _add(document, path, value)
    value = copy.deepcopy(_get(document, source))  # copy
    return _add(document, path, value)


def _array_index(token: str, length: int, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return length
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise JsonPatchError(f"{token!r} is not an array index")
    index = int(token)
    if index > length or (index == length and not allow_end):
        raise JsonPatchError(f"array index {index} is out of range (length {length})")
    return index


def _get(document: Any, path: list[str]) -> Any:
    node = document
    for token in path:
        if isinstance(node, dict):
            if token not in node:
                raise JsonPatchError(f"member {token!r} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_array_index(token, len(node), allow_end=False)]
        else:
            raise JsonPatchError(f"cannot look up {token!r} inside a {type(node).__name__}")
    return node


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(document, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_array_index(last, len(parent), allow_end=True), value)
    else:
        raise JsonPatchError(f"cannot add {last!r} to a {type(parent).__name__}")
    return document


def _remove(document: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        return None, document
    parent = _get(document, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise JsonPatchError(f"member {last!r} does not exist")
        return document, parent.pop(last)
    if isinstance(parent, list):
        return document, parent.pop(_array_index(last, len(parent), allow_end=False))
    raise JsonPatchError(f"cannot remove {last!r} from a {type(parent).__name__}")


def _json_equal(a: Any, b: Any) -> bool:
    # JSON has no bool/number confusion: true is not 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return a == b
