"""RFC 6902 JSON Patch: the RFC's own examples, atomicity, and bad patches as clear errors."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.serve.json_patch import JsonPatchError, apply_patch, parse_pointer

# (document, patch, expected) from RFC 6902 appendix A.
RFC_EXAMPLES = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
    ({"foo": None}, [{"op": "add", "path": "/foo", "value": 1}], {"foo": 1}),
    ({"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    ({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}], {"a": {"b": 1}, "c": {"b": 1}}),
    ({"a": 1}, [{"op": "replace", "path": "", "value": [1, 2]}], [1, 2]),
]

# (document, patch) that must fail, from RFC 6902 appendix A and our own.
RFC_ERRORS = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
    ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/5", "value": 1}]),
    ({"foo": ["bar"]}, [{"op": "remove", "path": "/foo/01"}]),
    ({"foo": 1}, [{"op": "remove", "path": "/bar"}]),
    ({"foo": 1}, [{"op": "replace", "path": "/bar", "value": 2}]),
    ({"a": {"b": {}}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}]),
    ({"a": 1}, [{"op": "test", "path": "/a", "value": True}]),
    ({"a": 1}, [{"op": "frobnicate", "path": "/a"}]),
    ({"a": 1}, [{"op": "add", "path": "a", "value": 2}]),
    ({"a": 1}, [{"op": "add", "path": "/a"}]),
    ({"a": 1}, [{"op": "move", "path": "/b"}]),
    ({"a": 1}, {"op": "add", "path": "/a", "value": 2}),
    ({"a": "x"}, [{"op": "add", "path": "/a/b", "value": 2}]),
]


@pytest.mark.parametrize("document, patch, expected", RFC_EXAMPLES)
def test_rfc_examples_apply(document, patch, expected):
    before = copy.deepcopy(document)
    assert apply_patch(document, patch) == expected
    assert document == before, "apply_patch must not change its input"


@pytest.mark.parametrize("document, patch", RFC_ERRORS)
def test_bad_patches_are_value_errors(document, patch):
    before = copy.deepcopy(document)
    with pytest.raises(JsonPatchError):
        apply_patch(document, patch)
    assert document == before
    assert issubclass(JsonPatchError, ValueError)


def test_a_failing_operation_undoes_the_earlier_ones():
    document = {"a": 1, "list": [1, 2]}
    patch = [{"op": "replace", "path": "/a", "value": 2}, {"op": "remove", "path": "/list/0"},
             {"op": "test", "path": "/a", "value": 99}]
    with pytest.raises(JsonPatchError, match="operation 2"):
        apply_patch(document, patch)
    assert document == {"a": 1, "list": [1, 2]}


def test_pointer_escapes():
    assert parse_pointer("/a~1b/c~0d/") == ["a/b", "c~d", ""]
    assert parse_pointer("") == []
    with pytest.raises(JsonPatchError):
        parse_pointer("/bad~2escape")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text("ab", max_size=2), children, max_size=3),
    max_leaves=12)
pointers = st.lists(st.sampled_from(["a", "b", "0", "1", "-", "", "~0", "~1"]), max_size=3).map(
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
