"""The twins' live state and its rules, sans I/O: what an edit, a machine state, a step or a pose
changes, what the requester is answered and which frames go to which topic.

The shell (`twin.serve.server`) asks the hub, does the I/O the hub cannot (the store, sockets),
and hands the hub's frames to the fan-out; so every rule here is tested without sockets, as the
protocol is. A rule that refuses raises `ProtocolError` (code, sentence, extra fields), which the
shell sends to the requester as an `error`; nothing has changed then.

Topics: a twin's viewers (and above) subscribe to `TWIN`, its anonymous visitors to
`TWIN/visitor`, whose documents hide the tours that are not public.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from twin.document import validate as validate_document
from twin.serve import access
from twin.serve.access import ALL_TWINS, Grant, Role
from twin.serve.fanout import Latest
from twin.serve.json_patch import JsonPatchError, apply_patch, diff
from twin.serve.messages import (DEFAULT_HISTORY_SPAN_S, History, ProtocolError, encode_delta, encode_snapshot,
                                 encode_step, machine_states_message, presence_left_message, presence_message)
from twin.serve.store import StepEvent

EVERY_RIGHT = Grant(name="server", role=Role.ADMIN, twin=ALL_TWINS)  # what a caller without a client's grant checks
MAX_MACHINE_PROPERTIES = 256  # live state is kept in memory: bound what one machine may hold
ROLE_TOPICS = (Role.VIEWER, Role.VISITOR)


def topic(twin: str, role: Role) -> str:
    """The fan-out topic of `role`'s subscribers to `twin` (visitors have their own view)."""
    return f"{twin}/visitor" if role is Role.VISITOR else twin


def topics(twin: str) -> tuple[str, ...]:
    return tuple(topic(twin, role) for role in ROLE_TOPICS)


@dataclass(frozen=True)
class Publish:
    """A frame for every subscriber of `topic` (but `exclude`, a client id)."""

    topic: str
    frame: str | Latest
    exclude: int | None = None


@dataclass(frozen=True)
class CheckedEdit:
    """An edit the hub accepted, to be committed by the store before `Hub.commit_edit`."""

    twin: str
    base_revision: int
    patch: list
    document: dict
    restored: int | None = None  # the revision a restore brings back


class Hub:
    """Every served twin's head revision and document, the latest machine states, step events and poses."""

    def __init__(self, heads: dict[str, tuple[int, dict]], steps: dict[str, list[StepEvent]] | None = None):
        self.heads = dict(heads)
        self._machine_states: dict[str, dict[str, dict]] = {name: {} for name in heads}
        # The latest step frame of each (procedure, step), as sent to late subscribers.
        self._steps: dict[str, dict[tuple, str]] = {name: {} for name in heads}
        self._presence: dict[str, dict[int, dict]] = {name: {} for name in heads}
        for name, events in (steps or {}).items():
            for event in events:
                self._remember_step(name, event, client=0)

    def revision(self, twin: str) -> int:
        return self.heads[twin][0]

    # Subscribing.

    def snapshot(self, twin: str, role: Role, request_id: int | None = None) -> str:
        """The snapshot frame a new subscriber with `role` gets first."""
        revision, document = self.heads[twin]
        return encode_snapshot(twin, revision, access.served_view(document, role), role, request_id)

    def catch_up(self, twin: str, client: int) -> list[str | Latest]:
        """What a new subscriber gets right after its snapshot: machine states, steps, others' poses."""
        frames: list[str | Latest] = []
        if self._machine_states[twin]:
            frames.append(_machine_states(twin, {machine: dict(properties)
                                                 for machine, properties in self._machine_states[twin].items()}))
        frames += self._steps[twin].values()
        frames += [Latest(("presence", twin, other), payload)
                   for other, payload in self._presence[twin].items() if other != client]
        return frames

    # Edits.

    def check_edit(self, twin: str, base_revision: int, patch: list, grant: Grant = EVERY_RIGHT) -> CheckedEdit:
        """The edited document if `patch` applies to the head and leaves a valid document, and changes
        only what `grant` may (an artisan: their machines' items; the protocol checked the paths)."""
        revision, document = self.heads[twin]
        for member in access.SERVER_ONLY:
            if access.touches(patch, member):  # not even a `test` or `copy`: they would tell its content
                raise ProtocolError("forbidden", f"an edit may not touch /{member} (nor replace the whole document): "
                                                 f"{member} are configured in the scan folder's twin document",
                                    path=f"/{member}")
        if base_revision != revision:
            raise ProtocolError("stale_revision",
                                f"twin {twin!r} is at revision {revision}, not {base_revision}: rebase and resend",
                                revision=revision)
        try:
            edited = apply_patch(document, patch)
        except JsonPatchError as error:
            raise ProtocolError("invalid_patch", str(error)) from None
        if not isinstance(edited, dict):
            raise ProtocolError("invalid_document", "the patch must leave the document a JSON object")
        try:
            validate_document(edited, valid_before=document)
        except ValueError as error:
            raise ProtocolError("invalid_document", f"the edit would make the document invalid: {error}") from None
        if grant.role is Role.ARTISAN:
            refused = access.artisan_refusal(grant, document, edited)
            if refused is not None:
                raise ProtocolError("forbidden", refused[1], path=refused[0])
        return CheckedEdit(twin, base_revision, patch, edited)

    def check_restore(self, twin: str, base_revision: int, revision: int, then: dict, role: Role) -> CheckedEdit:
        """The edit that makes the head as `then` (the document at `revision`) was, on `base_revision`.

        The server-only members stay as they are now (an import changes them, never a restore), and
        the edit may change only what `role` may edit."""
        head, document = self.heads[twin]
        if base_revision != head:
            raise ProtocolError("stale_revision",
                                f"twin {twin!r} is at revision {head}, not {base_revision}: look again and resend",
                                revision=head)
        target = {key: value for key, value in then.items() if key not in access.SERVER_ONLY}
        target.update({key: document[key] for key in access.SERVER_ONLY if key in document})
        try:
            patch = diff(document, target)
        except JsonPatchError as error:
            raise ProtocolError("internal", f"cannot restore revision {revision}: {error}") from None
        denied = access.forbidden_path(role, patch)
        if denied is not None:
            raise ProtocolError("forbidden", f"restoring revision {revision} would change {denied!r}, which your role "
                                             f"{role.label} may not change; ask an admin", path=denied)
        edit = self.check_edit(twin, base_revision, patch)
        return CheckedEdit(twin, base_revision, patch, edit.document, restored=revision)

    def commit_edit(self, edit: CheckedEdit, revision: int, author: str, client: int) -> list[Publish]:
        """The store committed `edit` as `revision`: the new head, and the frames for subscribers."""
        twin = edit.twin
        self.heads[twin] = (revision, edit.document)
        delta = encode_delta(twin, revision, edit.patch, author, client)
        visitors = delta
        if access.touches(edit.patch, "tours"):  # which tours are public may have changed: send visitors all
            visitors = encode_snapshot(twin, revision, access.served_view(edit.document, Role.VISITOR),
                                       Role.VISITOR)
        return [Publish(topic(twin, Role.VIEWER), delta), Publish(topic(twin, Role.VISITOR), visitors)]

    # Machine state.

    def machine_state(self, twin: str, machine: str, properties: dict) -> Latest:
        """Merge `properties` into `machine`'s latest state; the message to offer the throttle, which
        merges it with the twin's other machines' updates into one frame per interval."""
        self._check_machine(twin, machine)
        latest = self._machine_states[twin].get(machine, {})
        if len(latest.keys() | properties.keys()) > MAX_MACHINE_PROPERTIES:
            raise ProtocolError("bad_message", f"machine {machine!r} would have more than {MAX_MACHINE_PROPERTIES} "
                                               "state properties; reuse property names")
        self._machine_states[twin][machine] = {**latest, **properties}
        return _machine_states(twin, {machine: properties})

    def history_span(self, event: History, now_s: float) -> tuple[float, float]:
        """The time range a `history` request asks for, its defaults filled (the hour until `now_s`)."""
        self._check_machine(event.twin, event.machine)
        to_s = now_s if event.to_s is None else event.to_s
        from_s = to_s - DEFAULT_HISTORY_SPAN_S if event.from_s is None else event.from_s
        if not from_s < to_s:
            raise ProtocolError("bad_message", "history needs from_s before to_s (Unix seconds)")
        return from_s, to_s

    def _check_machine(self, twin: str, machine: str) -> None:
        document = self.heads[twin][1]
        machines = {m.get("id") for m in document.get("machines", []) if isinstance(m, dict)}
        if machine not in machines:
            raise ProtocolError("bad_message", f"twin {twin!r} has no machine {machine!r}; use a machine id of its "
                                               "document")

    # Steps.

    def check_step(self, twin: str, procedure: str, step: int | str) -> int:
        """The revision a step of `procedure` is recorded at, if the head document has that step."""
        revision, document = self.heads[twin]
        found = next((p for p in document.get("procedures", [])
                      if isinstance(p, dict) and p.get("id") == procedure), None)
        if found is None:
            raise ProtocolError("bad_message", f"twin {twin!r} has no procedure {procedure!r}")
        steps = found.get("steps", [])
        known = (0 <= step < len(steps) if isinstance(step, int)
                 else any(isinstance(s, dict) and s.get("id") == step for s in steps))
        if not known:
            raise ProtocolError("bad_message", f"procedure {procedure!r} has no step {step!r}")
        return revision

    def record_step(self, twin: str, event: StepEvent, client: int) -> list[Publish]:
        """The store recorded `event`: keep it for late subscribers and send it to everyone."""
        frame = self._remember_step(twin, event, client)
        return [Publish(name, frame) for name in topics(twin)]

    def _remember_step(self, twin: str, event: StepEvent, client: int) -> str:
        frame = encode_step(twin, event.procedure, event.step, event.done, event.author, client, event.revision)
        self._steps[twin][(event.procedure, json.dumps(event.step))] = frame
        return frame

    # Presence.

    def presence(self, twin: str, client: int, name: str, pose: dict, mode: str) -> Latest:
        """`client`'s new pose: kept for late subscribers; the message to offer the throttle."""
        payload = presence_message(twin, client, name, pose, mode)
        self._presence[twin][client] = payload
        return Latest(("presence", twin, client), payload)

    def leave(self, twin: str, client: int) -> Latest | None:
        """`client` stopped following `twin`: the message that says so, or None if it had no pose."""
        if self._presence[twin].pop(client, None) is None:
            return None
        return Latest(("presence", twin, client), presence_left_message(twin, client))


def _machine_states(twin: str, machines: dict[str, dict]) -> Latest:
    """One latest-value-wins frame per twin for all its machines (fifty machines cost a viewer one frame)."""
    return Latest(("machines", twin), machine_states_message(twin, machines), merge_field="machines")
