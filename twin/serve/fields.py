"""Checks on what a client sends, before anything is stored, broadcast or logged (the edge rule).

Every message is parsed strictly (no NaN or Infinity, no duplicate keys, no numbers a viewer's
JavaScript cannot hold, bounded nesting) and every text in it, keys included, must be encodable
as UTF-8: JSON's `\\ud800` escapes decode to lone surrogates that Python holds but no socket can
send, so one such value stored in a twin would break every later subscriber. A message that fails
is answered with `bad_message` naming the field, and nothing changes.
"""
from __future__ import annotations

import json
import math

from twin.json_values import finite_float, reject_constant, value_problem
from twin.serve.messages import MAX_REQUEST_ID, ProtocolError

MAX_DEPTH = 64
"""Nesting deeper than this is refused (documents are a few levels deep; recursion must stay bounded)."""

def parse_message(text: str) -> dict:
    """The JSON object of a text frame, parsed strictly; ProtocolError (bad_message) otherwise."""
    try:
        message = json.loads(text, parse_constant=reject_constant, parse_float=finite_float,
                             object_pairs_hook=_object_without_duplicates)
    except _DuplicateKey as error:
        raise ProtocolError("bad_message", f"the message has the key {error.key!r} twice in one object; "
                                           "send each key once") from None
    except (ValueError, RecursionError):
        raise ProtocolError("bad_message", "the message is not valid JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_message", "a message must be a JSON object with an 'op' field")
    return message


def check_edge(message: dict) -> None:
    """ProtocolError (bad_message, naming the field) unless every text, key and number can be kept and sent."""
    problem = value_problem(message, max_depth=MAX_DEPTH)
    if problem is not None:
        pointer, what = problem
        raise ProtocolError("bad_message", f"field {pointer} {what}", field=pointer)


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


_JSON_KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "an object",
               list: "an array"}


def field(message: dict, name: str, kind, *, optional: bool = False):
    """`message[name]` if it is of `kind` (a type or tuple of types); `optional`: may be absent (not null)."""
    if optional and name not in message:
        return None
    value = message.get(name)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # JSON true/false are not numbers, although Python's bool is an int.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(_JSON_KINDS[k] for k in kinds)
        what = "nothing" if name not in message else _JSON_KINDS.get(type(value), "null")
        raise ProtocolError("bad_message", f"{message.get('op')!r} needs field {name!r} as {expected} (got {what})")
    return value


def request_id(message: dict, *, optional: bool = False) -> int | None:
    value = field(message, "id", int, optional=optional)
    if value is not None and not 0 <= value <= MAX_REQUEST_ID:
        raise ProtocolError("bad_message", f"request id {value} is outside 0 .. 2^32-1")
    return value


def _finite_numbers(value, count: int, what: str) -> list[float]:
    if (not isinstance(value, list) or len(value) != count
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise ProtocolError("bad_message", f"presence {what} must be an array of {count} finite numbers")
    return [float(v) for v in value]


def pose(value) -> dict:
    """A presence pose {position: [3], quaternion: [4]} of finite numbers."""
    if not isinstance(value, dict):
        raise ProtocolError("bad_message", "presence needs 'pose' as an object {position, quaternion}")
    return {"position": _finite_numbers(value.get("position"), 3, "pose.position"),
            "quaternion": _finite_numbers(value.get("quaternion"), 4, "pose.quaternion")}
