"""The edge rule for what a bridge brings in: a value reaches viewers only if it can be kept and sent.

The same rule as for what clients send (docs/protocol.md): texts (keys too) must encode as UTF-8
(JSON's `\\ud800` escapes decode to lone surrogates that no socket can carry), numbers must be
finite, integers within +-2^53 (what a viewer's JavaScript holds exactly), nesting bounded. Payloads
are parsed strictly (no NaN or Infinity). The text check is the document's own
(`twin.document.validation.encodable`); live never imports the server.
"""
from __future__ import annotations

import json
import math

from twin.document.validation import encodable

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 16
"""Live values are numbers, texts and small objects; deeper nesting is refused."""
MAX_PAYLOAD_BYTES = 64 * 1024
"""A machine's state message is small; bigger payloads are refused unread."""
MAX_TEXT_CHARS = 4096


class Malformed(ValueError):
    """A payload or value that breaks the edge rule (counted and logged by the bridge, never fatal)."""


def parse_payload(payload: bytes) -> object:
    """The JSON value of an MQTT payload, parsed strictly; Malformed otherwise."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Malformed(f"the payload has {len(payload)} bytes, more than {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise Malformed("the payload is not UTF-8 text") from None
    except (ValueError, RecursionError) as error:
        raise Malformed(f"the payload is not JSON ({str(error)[:80]})") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def value_problem(value, depth: int = 0) -> str | None:
    """What breaks the edge rule in `value` (a sentence), or None when it may reach viewers."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not encodable(value):
            return "holds text that is not valid Unicode (a lone surrogate such as \\ud800)"
        return None if len(value) <= MAX_TEXT_CHARS else f"is a text longer than {MAX_TEXT_CHARS} characters"
    if isinstance(value, int):
        return None if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else "is an integer beyond +-2^53"
    if isinstance(value, float):
        return None if math.isfinite(value) else "is not a finite number"
    if depth >= MAX_DEPTH:
        return f"nests deeper than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not encodable(key):
                return "has a key that is not valid Unicode text"
            problem = value_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = value_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"is a {type(value).__name__}, not a number, text, true/false, list or object"


def resolve_pointer(document: object, pointer: str) -> object:
    """The value at a JSON pointer (RFC 6901; '' is the whole document); KeyError where there is none."""
    if pointer == "":
        return document
    value = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and (token == "0" or not token.startswith("0")):
            index = int(token)
            if index >= len(value):
                raise KeyError(token)
            value = value[index]
        else:
            raise KeyError(token)
    return value
