"""Roles, grants and path-scoped permissions, without sockets."""
from __future__ import annotations

import pytest

from twin.serve.access import (ALL_TWINS, VISITOR, Grant, Role, forbidden_path, hash_token, may_edit_path, new_token,
                               served_view, touches)


def test_roles_parse_by_name_and_refuse_others_with_the_choices():
    assert Role.parse("Planner") is Role.PLANNER
    for bad in ("visitor", "owner", ""):
        with pytest.raises(ValueError, match="viewer, artisan, planner, admin"):
            Role.parse(bad)


def test_a_grant_reads_its_twin_and_published_ones_only():
    maria = Grant("maria", Role.PLANNER, "shop")
    assert maria.role_on("shop", published=False) is Role.PLANNER
    assert maria.role_on("other", published=True) is Role.VISITOR
    assert maria.role_on("other", published=False) is None
    assert Grant("root", Role.ADMIN, ALL_TWINS).role_on("other", published=False) is Role.ADMIN
    assert VISITOR.role_on("shop", published=True) is Role.VISITOR


def test_pointer_tokens_must_match_whole_segments():
    assert may_edit_path(Role.PLANNER, "/layouts")
    assert not may_edit_path(Role.PLANNER, "/layoutsX/0")
    assert not may_edit_path(Role.ARTISAN, "/machines/0/properties")
    assert may_edit_path(Role.ARTISAN, "/machines/3/properties/notes/0")
    assert not may_edit_path(Role.ARTISAN, "/machines/3/properties/notesX")


def test_test_operations_read_anywhere_and_copy_reads_its_source():
    patch = [{"op": "test", "path": "/name", "value": "shop"},
             {"op": "copy", "from": "/machines/0/pose", "path": "/layouts/0/poses/printer-1"}]
    assert forbidden_path(Role.PLANNER, patch) is None
    assert forbidden_path(Role.VIEWER, patch) == "/layouts/0/poses/printer-1"


def test_touches_sees_paths_and_sources_and_the_root():
    assert touches([{"op": "replace", "path": "/tours/0/public", "value": True}], "tours")
    assert touches([{"op": "move", "from": "/tours/1", "path": "/layouts/-"}], "tours")
    assert touches([{"op": "replace", "path": "", "value": {}}], "tours")
    assert not touches([{"op": "replace", "path": "/machines/0/pose", "value": {}}], "tours")


def test_visitors_see_only_public_tours_and_the_rest_unchanged():
    document = {"name": "shop", "tours": [{"id": "a", "public": True}, {"id": "b", "public": False}, {"id": "c"}]}
    view = served_view(document, Role.VISITOR)
    assert view == {"name": "shop", "tours": [{"id": "a", "public": True}]}
    assert len(document["tours"]) == 3
    assert served_view({"name": "x"}, Role.VISITOR) == {"name": "x"}
    assert served_view(document, Role.VIEWER) == document


@pytest.mark.parametrize("role", list(Role))
def test_no_role_sees_the_sources_their_addresses_and_credential_names(role):
    document = {"name": "shop", "sources": [{"id": "mqtt", "kind": "mqtt", "url": "mqtt://10.0.0.2",
                                             "username_env": "SHOP_USER"}]}
    assert served_view(document, role) == {"name": "shop"}
    assert "sources" in document, "the server keeps them"


def test_tokens_are_long_random_and_hashed_stably():
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 40
    assert hash_token(a) == hash_token(a) != hash_token(b) and len(hash_token(a)) == 64
