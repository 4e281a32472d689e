"""Checking a twin document: against the published JSON schema, then the references between its parts.

The structure is defined once, by the JSON schema `twin/schemas/twin-document.schema.json` (the
server checks edits against it through `validate`; the viewer does not read it, it only follows its
shape in viewer-web/src/document/document.js); what a schema cannot say is checked by `twin.document.references`.
Errors name the file, the field path and what was expected.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from twin.document.references import semantic_problems
from twin.json_values import NOT_UNICODE, encodable, printable

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "twin-document.schema.json"
SCHEMA_VERSION = 1
_MAX_PROBLEMS_SHOWN = 10


class DocumentError(ValueError):
    """A twin document that is not valid. `problems` lists (JSON pointer, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        shown = [f"{source}: {_dotted(pointer) or 'the document'}: {message}"
                 for pointer, message in problems[:_MAX_PROBLEMS_SHOWN]]
        more = len(problems) - len(shown)
        if more:
            shown.append(f"... and {more} more problem(s)")
        super().__init__("the twin document is not valid; fix these and try again:\n  " + "\n  ".join(shown))


@functools.cache
def schema() -> dict[str, Any]:
    """The published JSON schema (version 1)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def _edit_validator(data: dict, valid_before: dict, settled: set[str]):
    """A validator that takes as valid what `data` kept from the valid `valid_before`: the top-level
    members `settled`, equal in both (their schema replaced by `true`) and, in list members, items
    equal to an item of the same index or id before (`prefixItems` of `true`: an item's schema does not depend on
    its place). The root's and the lists' own keywords stay, so what spans items is still checked."""
    properties = {}
    for name, member in schema()["properties"].items():
        before, now = valid_before.get(name), data.get(name)
        if name in settled:
            properties[name] = True
        elif isinstance(now, list) and isinstance(before, list) and isinstance(member, dict) and "items" in member:
            by_id = {item.get("id"): item for item in before if isinstance(item, dict)}
            kept = [index < len(before) and item == before[index]
                    or isinstance(item, dict) and "id" in item and by_id.get(item["id"]) == item
                    for index, item in enumerate(now)]
            properties[name] = {**member, "prefixItems": [True if same else member["items"] for same in kept]}
        else:
            properties[name] = member
    return _validator().evolve(schema={**schema(), "properties": properties})


def validate(data: Any, source: str = "<twin document>", valid_before: dict | None = None) -> None:
    """Raises DocumentError naming every problem (field path and what was expected); returns None if valid.

    `valid_before`: a document known to be valid that `data` was edited from; what the edit kept is
    not checked against the schema again (see `_edit_validator`: an edit of one step re-checked the
    whole document, 7 ms of each edit on the sample). References between members are always checked."""
    settled = set()
    validator = _validator()
    if isinstance(data, dict) and valid_before is not None:
        settled = {name for name, value in valid_before.items() if name in data and data[name] == value}
        validator = _edit_validator(data, valid_before, settled)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = [(_pointer(error.absolute_path), _explain(error)) for error in errors]
    problems += _unstorable_values({name: value for name, value in data.items() if name not in settled}
                                   if settled else data, "")
    if not problems:
        problems = semantic_problems(data)
    if problems:
        raise DocumentError(source, problems)


def _explain(error) -> str:
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    secretive = error.validator == "not" or (error.validator == "pattern" and list(error.absolute_path)[:1] == ["sources"])
    if secretive and description:  # the value may be a password (a URL with user:password): never repeat it
        return f"is not allowed here; expected {description}"
    if error.validator in ("type", "minItems", "maxItems", "pattern", "const", "enum", "contains",
                           "minimum", "exclusiveMinimum", "oneOf") and description:
        return f"{error.message}; expected {description}"
    if error.validator == "dependentRequired":
        return f"{error.message}: give both"
    return error.message


def _unstorable_values(value: Any, pointer: str) -> list[tuple[str, str]]:
    """Values JSON can spell but a twin cannot keep: NaN and infinities, and text with lone surrogates
    (`"\\ud800"` escapes), which no UTF-8 file or socket can carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(pointer, f"{value} is not a finite number; write a real number of metres")]
    if isinstance(value, str):
        return [] if encodable(value) else [(pointer, NOT_UNICODE + "; write UTF-8 text")]
    if isinstance(value, dict):
        return [p for k, v in value.items()
                for p in ([] if encodable(k) else [(pointer, "has a key that " + NOT_UNICODE)])
                + _unstorable_values(v, f"{pointer}/{printable(k)}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unstorable_values(v, f"{pointer}/{i}")]
    return []


def _pointer(path) -> str:
    return "".join(f"/{part}" for part in path)


def _dotted(pointer: str) -> str:
    """'/machines/2/pose' -> 'machines[2].pose', the way people read field paths."""
    out = ""
    for part in pointer.split("/")[1:]:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out
