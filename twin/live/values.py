"""The edge rule for what a bridge brings in: a value reaches viewers only if it can be kept and sent.

The same rule as for what clients send (docs/protocol.md): texts (keys too) must encode as UTF-8
(JSON's `\\ud800` escapes decode to lone surrogates that no socket can carry), numbers must be
finite, integers within +-2^53 (what a viewer's JavaScript holds exactly), nesting bounded. Payloads
are parsed strictly (no NaN or Infinity). The rule itself is `twin.json_values`
(live never imports the server).
"""
from __future__ import annotations

import json

from twin import json_values

MAX_DEPTH = 16
"""Live values are numbers, texts and small objects; deeper nesting is refused."""
MAX_PAYLOAD_BYTES = 64 * 1024
"""A machine's state message is small; bigger payloads are refused unread."""
MAX_TEXT_CHARS = 4096


class Malformed(ValueError):
    """A payload or value that breaks the edge rule (counted and logged by the bridge, never fatal)."""


def parse_payload(payload: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> object:
    """The JSON value of a payload (MQTT, OctoPrint's socket), parsed strictly; Malformed otherwise."""
    if len(payload) > max_bytes:
        raise Malformed(f"the payload has {len(payload)} bytes, more than {max_bytes}")
    try:
        text = payload.decode("utf-8")
        return json.loads(text, parse_constant=json_values.reject_constant)
    except UnicodeDecodeError:
        raise Malformed("the payload is not UTF-8 text") from None
    except (ValueError, RecursionError) as error:
        raise Malformed(f"the payload is not JSON ({str(error)[:80]})") from None


def value_problem(value) -> str | None:
    """What breaks the edge rule in `value` (a sentence), or None when it may reach viewers."""
    problem = json_values.value_problem(value, max_depth=MAX_DEPTH, max_text_chars=MAX_TEXT_CHARS)
    return None if problem is None else (f"{problem[0]} {problem[1]}" if problem[0] else problem[1])


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
