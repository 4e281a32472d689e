"""Conditions on live values, as the document writes them: `nozzle_temp > 265`, `state == 'Printing'`.

A condition compares a machine's live properties with literals: `NAME OP LITERAL` with OP one of
`> >= < <= == !=` (`≥ ≤ ≠` too), literals numbers, 'texts' or "texts", `true`, `false`; joined by
`and`, `or`, `not` and parentheses. Names are property names (letters, digits, `_` and `.`, not
starting with a digit). A comparison whose property is unknown, or whose types differ (a number
against a text), is false: a condition never holds on a value it does not have.

Machine `status_rules` and step `live.wait_for` are conditions; the server evaluates status rules
(twin.live.status), the viewer evaluates both with the same grammar
(viewer-web/src/document/conditions.js; both read tests/condition_cases.json).
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Union

MAX_CONDITION_CHARS = 500
MAX_NESTING = 16
"""Parentheses and `not` nest at most this deep (a hostile text must not exhaust the stack)."""

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<text>'[^']*'|"[^"]*")
  | (?P<op>>=|<=|==|!=|>|<|≥|≤|≠)
  | (?P<paren>[()])
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
)""", re.VERBOSE)

_COMPARE: dict[str, Callable[[object, object], bool]] = {
    ">": operator.gt, ">=": operator.ge, "≥": operator.ge, "<": operator.lt, "<=": operator.le, "≤": operator.le,
    "==": operator.eq, "!=": operator.ne, "≠": operator.ne,
}
_KEYWORDS = {"and", "or", "not", "true", "false"}


@dataclass(frozen=True)
class Comparison:
    name: str
    op: str
    literal: object

    def holds(self, values: Mapping[str, object]) -> bool:
        if self.name not in values:
            return False
        value = values[self.name]
        if _kind(value) != _kind(self.literal) or _kind(value) is None:
            return False
        if isinstance(value, bool) and self.op not in ("==", "!=", "≠"):
            return False
        return _COMPARE[self.op](value, self.literal)


@dataclass(frozen=True)
class Not:
    operand: "Condition"

    def holds(self, values: Mapping[str, object]) -> bool:
        return not self.operand.holds(values)


@dataclass(frozen=True)
class AllOf:
    operands: tuple["Condition", ...]

    def holds(self, values: Mapping[str, object]) -> bool:
        return all(operand.holds(values) for operand in self.operands)


@dataclass(frozen=True)
class AnyOf:
    operands: tuple["Condition", ...]

    def holds(self, values: Mapping[str, object]) -> bool:
        return any(operand.holds(values) for operand in self.operands)


Condition = Union[Comparison, Not, AllOf, AnyOf]


def _kind(value) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    return None


def names_in(condition: Condition) -> set[str]:
    """The property names a condition reads."""
    if isinstance(condition, Comparison):
        return {condition.name}
    if isinstance(condition, Not):
        return names_in(condition.operand)
    return set().union(*(names_in(operand) for operand in condition.operands))


def parse_condition(text: str) -> Condition:
    """The condition `text` says; ValueError with a sentence saying what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a condition must be a non-empty text, e.g. \"nozzle_temp > 265\"")
    if len(text) > MAX_CONDITION_CHARS:
        raise ValueError(f"a condition may have at most {MAX_CONDITION_CHARS} characters")
    parser = _Parser(text)
    condition = parser.disjunction()
    if parser.peek() is not None:
        raise parser.error("expected `and`, `or` or the end")
    return condition


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise ValueError(f"condition {text!r}: cannot read {text[position:].strip()[:20]!r} "
                                 f"(at character {position + 1})")
            kind = match.lastgroup
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()
        self.index = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def error(self, expected: str) -> ValueError:
        token = self.peek()
        where = f"at {token[1]!r} (character {token[2] + 1})" if token else "at the end"
        return ValueError(f"condition {self.text!r}: {expected} {where}")

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "name" and token[1] == word:
            self.index += 1
            return True
        return False

    def disjunction(self) -> Condition:
        operands = [self.conjunction()]
        while self._keyword("or"):
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def conjunction(self) -> Condition:
        operands = [self.negation()]
        while self._keyword("and"):
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def negation(self) -> Condition:
        token = self.peek()
        if token is None or token[:2] not in (("name", "not"), ("paren", "(")):
            return self.comparison()
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nests deeper than {MAX_NESTING} levels")
        self.index += 1
        if token[1] == "not":
            inner = Not(self.negation())
        else:
            inner = self.disjunction()
            if self.peek() is None or self.peek()[:2] != ("paren", ")"):
                raise self.error("expected `)`")
            self.index += 1
        self.depth -= 1
        return inner

    def comparison(self) -> Condition:
        token = self.peek()
        if token is None or token[0] != "name" or token[1] in _KEYWORDS:
            raise self.error("expected a property name")
        self.index += 1
        op = self.peek()
        if op is None or op[0] != "op":
            raise self.error(f"expected a comparison (> >= < <= == !=) after {token[1]!r}")
        self.index += 1
        return Comparison(token[1], op[1], self.literal())

    def literal(self) -> object:
        token = self.peek()
        if token is None:
            raise self.error("expected a number, a 'text', true or false")
        kind, text, _ = token
        self.index += 1
        if kind == "number":
            value = float(text)
            return int(value) if value.is_integer() and re.fullmatch(r"-?\d+", text) else value
        if kind == "text":
            return text[1:-1]
        if kind == "name" and text in ("true", "false"):
            return text == "true"
        self.index -= 1
        raise self.error("expected a number, a 'text', true or false")
