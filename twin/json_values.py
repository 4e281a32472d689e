"""What a JSON value must be for twin to keep it and send it on: the edge rule's one definition.

Python's `json` accepts what no UTF-8 file or socket can carry (`"\\ud800"` escapes decode to lone
surrogates) and numbers a viewer's JavaScript cannot hold exactly; one such value stored in a twin
would break every later subscriber. Client messages (`twin.serve.fields`), what bridges bring in
(`twin.live.values`) and documents (`twin.document.validation`) are all checked with this module.
Imports the standard library only, so every room may use it.
"""
from __future__ import annotations

import math

MAX_SAFE_INTEGER = 2**53 - 1
"""JavaScript's Number holds integers exactly up to here; larger ones would reach viewers changed."""
NOT_UNICODE = "holds text that is not valid Unicode (a lone surrogate such as \\ud800)"


def encodable(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (Python strings may hold lone surrogates; UTF-8 cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> str:
    """`text` with lone surrogates spelled as escapes, for error messages."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def reject_constant(name: str):
    """`json.loads`' parse_constant: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON number")


def finite_float(text: str) -> float:
    """`json.loads`' parse_float: a number too large for a float (1e999) is refused, not infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def value_problem(value, *, max_depth: int, max_text_chars: int | None = None,
                  pointer: str = "", depth: int = 0) -> tuple[str, str] | None:
    """(JSON pointer, what is wrong) of the first part of `value` that cannot be kept and sent, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not encodable(value):
            return pointer, NOT_UNICODE
        if max_text_chars is not None and len(value) > max_text_chars:
            return pointer, f"is a text longer than {max_text_chars} characters"
        return None
    if isinstance(value, int):
        return None if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else (
            pointer, "is an integer beyond +-2^53, which viewers cannot hold exactly")
    if isinstance(value, float):
        return None if math.isfinite(value) else (pointer, "is not a finite number")
    if depth >= max_depth and isinstance(value, (dict, list, tuple)):
        return pointer, f"nests deeper than {max_depth} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return pointer, f"has a key that is a {type(key).__name__}, not text"
            where = f"{pointer}/{printable(key).replace('~', '~0').replace('/', '~1')}"
            if not encodable(key):
                return where, "is a key that " + NOT_UNICODE
            problem = value_problem(item, max_depth=max_depth, max_text_chars=max_text_chars, pointer=where,
                                    depth=depth + 1)
            if problem is not None:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = value_problem(item, max_depth=max_depth, max_text_chars=max_text_chars,
                                    pointer=f"{pointer}/{index}", depth=depth + 1)
            if problem is not None:
                return problem
        return None
    return pointer, f"is a {type(value).__name__}, not a number, text, true/false, list or object"
