"""Conditions on live values: the shared cases (the viewer's conditions.js reads the same file)."""
import json
from pathlib import Path

import pytest

from twin.document.conditions import MAX_CONDITION_CHARS, names_in, parse_condition

CASES = json.loads((Path(__file__).parent.parent / "condition_cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES["holds"], ids=lambda case: case["condition"])
def test_a_condition_holds_as_the_shared_case_says(case):
    assert parse_condition(case["condition"]).holds(case["values"]) is case["holds"]


@pytest.mark.parametrize("case", CASES["invalid"], ids=lambda case: case["condition"] or "empty")
def test_a_malformed_condition_is_refused_with_what_was_expected(case):
    with pytest.raises(ValueError, match="condition") as error:
        parse_condition(case["condition"])
    assert case["error"] in str(error.value)


def test_names_in_lists_every_property_a_condition_reads():
    assert names_in(parse_condition("not (a > 1 or b == 'x') and c.d != 0")) == {"a", "b", "c.d"}


def test_a_condition_longer_than_the_limit_is_refused_before_parsing():
    with pytest.raises(ValueError, match=str(MAX_CONDITION_CHARS)):
        parse_condition("a > 1 and " * 60 + "a > 1")


@pytest.mark.parametrize("opening", ["(", "not ", "not ("])
def test_deep_nesting_is_refused_with_a_sentence_not_a_crash(opening):
    text = opening * 40 + "a > 1" + ")" * (40 * opening.count("("))
    with pytest.raises(ValueError, match="nests deeper than 16"):
        parse_condition(text[:500])
    assert parse_condition(opening * 3 + "a > 1" + ")" * (3 * opening.count("("))).holds({"a": 2}) is ("not" not in opening)  # three nots negate
