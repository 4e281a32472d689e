"""Who may do what: roles, tokens (stored hashed) and path-scoped edit permissions.

Pure functions and small value types; the store keeps the token hashes, the protocol asks
these functions before it lets a request through.
"""
from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

from twin.serve.json_patch import parse_pointer

ALL_TWINS = "*"


class Role(enum.IntEnum):
    """Roles from least to most; each role may do everything the roles below it may."""

    VISITOR = 0  # anonymous, published twins only
    VIEWER = 1
    ARTISAN = 2
    PLANNER = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Role":
        try:
            role = cls[text.upper()]
        except KeyError:
            role = None
        if role is None or role is cls.VISITOR:
            names = ", ".join(r.label for r in cls if r is not cls.VISITOR)
            raise ValueError(f"unknown role {text!r}: use one of {names}")
        return role


# Path patterns each role may edit ("*" matches one array index or member name); a role may
# also edit everything the roles below it may. Admins may edit every path.
_EDITABLE = {
    Role.ARTISAN: (("machines", "*", "properties", "notes"),),
    Role.PLANNER: (("layouts",), ("anchors",), ("procedures",), ("tours",), ("measurements",),
                   ("machines", "*", "pose"), ("floor_plan",)),
}


@dataclass(frozen=True)
class Grant:
    """What one token allows: a role on one twin (or on every twin)."""

    name: str
    role: Role
    twin: str  # a twin name, or ALL_TWINS

    def role_on(self, twin: str, published: bool) -> Role | None:
        """The role this grant gives on `twin`, or None if it may not even read it."""
        if self.twin in (ALL_TWINS, twin):
            return self.role
        return Role.VISITOR if published else None


VISITOR = Grant(name="visitor", role=Role.VISITOR, twin="")


def new_token() -> str:
    """A fresh random token (256 bits), shown to its owner once."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The form a token is stored in. Tokens are long random strings, so a plain hash suffices."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _inside(path: list[str], pattern: tuple[str, ...]) -> bool:
    if len(path) < len(pattern):
        return False
    return all(p == "*" or p == token for p, token in zip(pattern, path))


def may_edit_path(role: Role, pointer: str) -> bool:
    """Whether `role` may change the document at the JSON Pointer `pointer`."""
    if role is Role.ADMIN:
        return True
    path = parse_pointer(pointer)
    return any(_inside(path, pattern)
               for granting, patterns in _EDITABLE.items() if role >= granting
               for pattern in patterns)


def forbidden_path(role: Role, patch: list[dict]) -> str | None:
    """The first path of `patch` that `role` may not change, or None if it may apply all of it."""
    for operation in patch:
        changed = [operation["path"]]
        if operation["op"] == "move":
            changed.append(operation["from"])
        elif operation["op"] == "test":
            changed = []
        for pointer in changed:
            if not may_edit_path(role, pointer):
                return pointer
    return None


def touches(patch: list[dict], top: str) -> bool:
    """Whether any operation of `patch` reads or writes under the top-level member `top`."""
    for operation in patch:
        for key in ("path", "from"):
            pointer = operation.get(key)
            if pointer is not None:
                path = parse_pointer(pointer)
                if not path or path[0] == top:
                    return True
    return False


SERVER_ONLY = ("sources",)
"""Members the server acts on and no client sees: `sources` name machines' addresses and the
environment variables holding their credentials. Edits may not touch them (`touches`)."""


def served_view(document: dict, role: Role) -> dict:
    """The document as `role` sees it: never the server-only members; anonymous visitors, only public tours."""
    view = {key: value for key, value in document.items() if key not in SERVER_ONLY}
    tours = view.get("tours")
    if role is Role.VISITOR and isinstance(tours, list):
        view["tours"] = [t for t in tours if isinstance(t, dict) and t.get("public") is True]
    return view
