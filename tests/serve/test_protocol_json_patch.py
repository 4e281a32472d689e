"""RFC 6902 JSON Patch: the cases shared with the viewer, atomicity, and bad patches as clear errors."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.serve.json_patch import JsonPatchError, apply_patch, parse_pointer, validate_patch

# The cases the viewer's json-patch.js must pass too (viewer-web/tests/json-patch.test.js).
CASES = json.loads((Path(__file__).parents[1] / "json_patch_cases.json").read_text(encoding="utf-8"))["cases"]


def _json_text(value):
    # Strict JSON equality: == would call True and 1 equal.
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_shared_case(case):
    document, patch = copy.deepcopy(case["doc"]), copy.deepcopy(case["patch"])
    if "error" in case:
        with pytest.raises(JsonPatchError) as raised:
            apply_patch(document, patch)
        if "error_op" in case:
            assert str(raised.value).startswith(f"patch operation {case['error_op']} "), str(raised.value)
    else:
        assert _json_text(apply_patch(document, patch)) == _json_text(case["expected"])
    assert _json_text(document) == _json_text(case["doc"]), "apply_patch must not change its input"
    assert _json_text(patch) == _json_text(case["patch"]), "apply_patch must not change the patch"


def test_errors_are_value_errors_and_shape_errors_are_caught_before_applying():
    assert issubclass(JsonPatchError, ValueError)
    with pytest.raises(JsonPatchError, match="needs a 'value'"):
        validate_patch([{"op": "add", "path": "/a"}])
    assert validate_patch([{"op": "remove", "path": "/missing"}]) == [{"op": "remove", "path": "/missing"}]


def test_pointer_escapes():
    assert parse_pointer("/a~1b/c~0d/") == ["a/b", "c~d", ""]
    assert parse_pointer("") == []
    with pytest.raises(JsonPatchError):
        parse_pointer("/bad~2escape")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text("ab", max_size=2), children, max_size=3),
    max_leaves=12)
pointers = st.lists(st.sampled_from(["a", "b", "0", "1", "01", "-", "", "~0", "~1", "__proto__"]), max_size=3).map(
    lambda tokens: "".join("/" + t for t in tokens))
operations = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]), "path": pointers},
    optional={"value": json_values, "from": pointers})


@settings(max_examples=400, deadline=None)
@given(document=json_values, patch=st.lists(operations, max_size=4))
def test_any_patch_applies_fully_or_raises_and_never_touches_the_input(document, patch):
    before = copy.deepcopy(document)
    try:
        apply_patch(document, patch)
    except JsonPatchError:
        pass
    assert document == before
