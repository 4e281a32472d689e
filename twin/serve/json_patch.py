"""RFC 6902 JSON Patch (with RFC 6901 JSON Pointers), applied atomically.

The `jsonpatch` library applies the operations; this module is the guard around it: the
shape checks the protocol answers with `invalid_patch`, the keys the viewer must refuse, and
errors as one `JsonPatchError` sentence. tests/json_patch_cases.json holds the cases that this
and the viewer's json-patch.js must agree on.

`apply_patch` never changes its input: it patches a deep copy and returns it, so a patch
that fails half-way leaves the caller's document exactly as it was.
"""
from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

_OPS = {"add", "remove", "replace", "move", "copy", "test"}

# A path through these reaches Object.prototype in the viewer's JavaScript, which refuses them;
# refused here too, so that the server never commits a patch its viewers cannot apply.
PROTOTYPE_KEYS = frozenset({"__proto__", "constructor", "prototype"})

# Keep the library's pointer errors short: by default they quote the whole document, and
# they go back to the client.
jsonpointer.VERBOSE_EXCEPTIONS = False


class JsonPatchError(ValueError):
    """A patch that is malformed or does not apply to the document."""


def parse_pointer(pointer: str) -> list[str]:
    """The reference tokens of a JSON Pointer ("" is the whole document)."""
    if not isinstance(pointer, str):
        raise JsonPatchError(f"a JSON Pointer must be a string, got {type(pointer).__name__}")
    try:
        return jsonpointer.JsonPointer(pointer).parts
    except jsonpointer.JsonPointerException as error:
        raise JsonPatchError(f"{pointer!r} is not a JSON Pointer ({error}): use '' or '/'-separated tokens, "
                             "with '~0' for '~' and '~1' for '/'") from None


def validate_patch(patch: Any) -> list[dict]:
    """Check the shape of a patch (not whether it applies); return it."""
    if not isinstance(patch, list):
        raise JsonPatchError("a patch must be a JSON array of operations")
    for index, operation in enumerate(patch):
        where = f"patch operation {index}"
        if not isinstance(operation, dict):
            raise JsonPatchError(f"{where} must be an object")
        op = operation.get("op")
        if not isinstance(op, str) or op not in _OPS:
            raise JsonPatchError(f"{where} has op {op!r}; use one of {sorted(_OPS)}")
        members = ["path", "from"] if op in ("move", "copy") else ["path"]
        for member in members:
            if member not in operation:
                raise JsonPatchError(f"{where} ({op}) needs a {member!r}")
            try:
                tokens = parse_pointer(operation[member])
            except JsonPatchError as error:
                raise JsonPatchError(f"{where} ({op}) {member}: {error}") from None
            banned = next((token for token in tokens if token in PROTOTYPE_KEYS), None)
            if banned is not None:
                raise JsonPatchError(f"{where} ({op}) {member} {operation[member]!r} names {banned!r}, "
                                     "which is refused: in the viewer's JavaScript it reaches prototypes")
        if op in ("add", "replace", "test") and "value" not in operation:
            raise JsonPatchError(f"{where} ({op}) needs a 'value'")
    return patch


def apply_patch(document: Any, patch: list[dict]) -> Any:
    """Apply every operation of `patch` to a copy of `document`; all or nothing."""
    validate_patch(patch)
    result = copy.deepcopy(document)
    # One operation at a time on our own copy, so an error can name its operation.
    for index, operation in enumerate(patch):
        try:
            result = jsonpatch.JsonPatch([operation]).apply(result, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
            raise JsonPatchError(f"patch operation {index} ({operation['op']} {operation['path']!r}): "
                                 f"{_reason(error, operation)}") from None
    return result


def replay(document: Any, patches: list[list[dict]]) -> Any:
    """`document` after each of `patches` in turn (a log already checked when it was written), on one copy."""
    result = copy.deepcopy(document)
    for patch in patches:
        result = jsonpatch.JsonPatch(patch).apply(result, in_place=True)
    return result


def diff(source: Any, target: Any) -> list[dict]:
    """A patch that turns `source` into `target` (the library's), checked by applying it."""
    patch = jsonpatch.make_patch(source, target).patch
    if apply_patch(source, patch) != target:
        raise JsonPatchError("the patch between the two documents did not reproduce the target")
    return patch


def _reason(error: Exception, operation: dict) -> str:
    """The library's message, reworded where it speaks Python rather than JSON."""
    if isinstance(error, jsonpatch.JsonPatchTestFailed):
        missing = isinstance(error.__context__, jsonpointer.JsonPointerException)
        return f"the test failed: {error if missing else 'the value differs'}"  # not Python's reprs and types
    if isinstance(error, jsonpatch.JsonPatchPathNotFound) and isinstance(error.__context__, (KeyError, IndexError)) \
            and operation["op"] in ("move", "copy"):
        return f"'from' {operation['from']!r} does not exist"  # the library says only the key
    text = str(error)
    if "does not support indexing" in text or "non-container" in text:
        return "the path leads through a value that is neither an object nor an array"
    return text
