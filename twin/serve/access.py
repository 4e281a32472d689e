"""Who may do what: roles, tokens (stored hashed), path-scoped edit permissions and artisans'
machine-scoped rights.

Pure functions and small value types; the store keeps the token hashes, the protocol asks
these functions before it lets a request through (paths), the hub once it has applied an edit
(which machines' items it changes).
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
    # Procedures and anchors only of the artisan's machines: `artisan_refusal` checks what changed.
    Role.ARTISAN: (("machines", "*", "properties", "notes"), ("procedures",), ("anchors",)),
    Role.PLANNER: (("layouts",), ("anchors",), ("procedures",), ("tours",), ("measurements",),
                   ("machines", "*", "pose"), ("floor_plan",)),
}


@dataclass(frozen=True)
class Grant:
    """What one token allows: a role on one twin (or on every twin); an artisan's, on some machines."""

    name: str
    role: Role
    twin: str  # a twin name, or ALL_TWINS
    machines: tuple[str, ...] = ()  # the machine ids an artisan's edits may change; () for every machine

    def may_change_machine(self, machine: str | None) -> bool:
        """Whether this grant's edits may change what belongs to `machine` (None: the room's)."""
        return machine is not None and (not self.machines or machine in self.machines)

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


def artisan_refusal(grant: Grant, before: dict, after: dict) -> tuple[str, str] | None:
    """Why an artisan's edit that turns `before` into `after` is refused, as (JSON Pointer, sentence),
    or None when it changes only their machines' notes, procedures (steps included) and anchors.

    Items are compared by id, so what counts is what the edit does, not the indices it names:
    a procedure moved to another machine, or another machine's procedure reached by index, is
    refused. An anchor is the artisan's when it sits on one of their machines and nothing they
    may not edit (a tour stop, another machine's step) targets it."""
    mine = ", ".join(grant.machines) if grant.machines else "this twin's machines"
    foreign_targets: dict[str, str] = {}  # anchor id -> the first item not theirs that targets it
    for procedure in before.get("procedures", []):
        if not grant.may_change_machine(procedure.get("machine")):
            for step in procedure.get("steps", []):
                foreign_targets.setdefault(step.get("anchor"), f"procedure {procedure.get('id')!r}")
    for tour in before.get("tours", []):
        for stop in tour.get("stops", []):
            foreign_targets.setdefault(stop.get("anchor"), f"tour {tour.get('id')!r}")

    def refusal(kind: str, item: dict) -> str | None:
        machine = item.get("machine") if kind != "machines" else item.get("id")
        if kind == "anchors" and machine is None:
            return f"anchor {item.get('id')!r} is in the room, not on a machine: room anchors are for planners"
        if not grant.may_change_machine(machine):
            what = "machine" if kind == "machines" else f"{kind[:-1]} {item.get('id')!r} is on machine"
            return f"{what} {machine!r}, which is not among yours ({mine})"
        if kind == "anchors" and item.get("id") in foreign_targets:
            return (f"anchor {item.get('id')!r} is also the target of {foreign_targets[item.get('id')]}, "
                    "which is not yours: ask a planner")
        return None

    for kind in ("machines", "procedures", "anchors"):
        old, new = _by_id(before.get(kind, [])), _by_id(after.get(kind, []))
        for item_id in [*old, *(i for i in new if i not in old)]:
            was, now = old.get(item_id), new.get(item_id)
            if was is not None and now is not None and was[1] == now[1]:
                continue
            if was is not None and (reason := refusal(kind, was[1])):
                pointer = f"/{kind}/{was[0]}"
            elif now is not None and (reason := refusal(kind, now[1])):
                # A new item not theirs, or one of theirs moved off their machines.
                pointer = f"/{kind}/{now[0]}" if was is None else f"/{kind}/{was[0]}/machine"
                reason = f"after this edit, {reason}"
            else:
                continue
            return pointer, f"your token may not change {pointer}: {reason}"
        others = [i for i in old if refusal(kind, old[i][1])]
        if others != [i for i in new if i in old and refusal(kind, old[i][1])]:
            return f"/{kind}", f"your token may not reorder /{kind}: it holds items that are not yours"
    return None


def _by_id(items: list) -> dict:
    """id -> (index, item) of a document list (ids are unique in a valid document)."""
    return {item.get("id"): (index, item) for index, item in enumerate(items) if isinstance(item, dict)}


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
