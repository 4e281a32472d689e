"""The twin wire protocol (docs/protocol.md) as a sans-I/O state machine: no sockets, no asyncio.

One `Connection` per client. The shell feeds it what arrives (`receive_text`, `receive_bytes`,
with the current time) and collects two things:

- `events_received()`: requests that passed every check the protocol can make on its own
  (the edge rule of `twin.serve.fields`, shape, session state, rate, role and path permissions)
  and that need the twin's state (`twin.serve.hub`) or the shell's I/O (store, files);
- `data_to_send()`: frames (str for text, bytes for binary) to send to this client, in order.

The shell answers events by calling `welcome`, `snapshot`, `ack`, `asset`, `error`, ... which
queue frames. Messages pushed to many clients are made by the hub (`twin.serve.messages`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from twin import __version__
from twin.serve.access import VISITOR, Grant, Role, forbidden_path
from twin.serve.fields import check_edge, field, parse_message, pose
from twin.serve.fields import request_id as checked_request_id
from twin.serve.json_patch import JsonPatchError, validate_patch
from twin.serve.messages import (CAPABILITIES, CLOSE_POLICY, CLOSE_TOO_BIG, DEFAULT_HISTORY_POINTS,
                                 DEFAULT_REVISIONS_PAGE, MAX_HISTORY_POINTS, MAX_REQUEST_ID, MAX_REVISIONS_PAGE,
                                 PROTOCOL_VERSION, Close, Edit, Event, GetAsset, Hello, History, MachineState, Presence,
                                 ProtocolError, Restore, Revisions, Step, Subscribe, Unsubscribe, encode, encode_asset)


@dataclass(frozen=True)
class Limits:
    """What one connection may send."""

    max_message_bytes: int = 1 << 20
    messages_per_second: float = 100.0
    burst: int = 400
    # A client still over `abuse_factor` times the rate after `abuse_seconds` is closed.
    abuse_factor: float = 4.0
    abuse_seconds: float = 5.0
    # A connection that has not been welcomed this long after opening is closed.
    hello_timeout_s: float = 30.0


@dataclass(frozen=True)
class TwinInfo:
    """What the shell tells the protocol about a twin when a client says hello."""

    name: str
    revision: int
    published: bool


class _RateLimiter:
    """A token bucket, plus a longer-term check for clients that never slow down."""

    def __init__(self, limits: Limits):
        self._limits = limits
        self._tokens = float(limits.burst)
        self._last: float | None = None
        self._window_start: float | None = None
        self._window_count = 0
        self._last_warning = -math.inf

    def admit(self, now: float) -> tuple[bool, bool, bool]:
        """(admitted, warn about it, abusive: close the connection)."""
        limits = self._limits
        if self._last is None:
            self._last = self._window_start = now
        self._tokens = min(limits.burst, self._tokens + max(0.0, now - self._last) * limits.messages_per_second)
        self._last = now
        self._window_count += 1
        elapsed = now - self._window_start
        abusive = False
        if elapsed >= limits.abuse_seconds:
            abusive = self._window_count > limits.abuse_factor * limits.messages_per_second * elapsed
            self._window_start, self._window_count = now, 0
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True, False, abusive
        warn = now - self._last_warning >= 1.0
        if warn:
            self._last_warning = now
        return False, warn, abusive



@dataclass
class Connection:
    """The protocol state of one client connection."""

    client: int
    limits: Limits = dataclass_field(default_factory=Limits)
    grant: Grant | None = None  # None until a hello was welcomed
    roles: dict[str, Role] = dataclass_field(default_factory=dict)  # twin -> role, for twins this client may read
    known_twins: frozenset[str] = frozenset()
    subscriptions: set[str] = dataclass_field(default_factory=set)
    closed: bool = False

    def __post_init__(self):
        self._events: list[Event] = []
        self._outgoing: list[str | bytes] = []
        self._rate = _RateLimiter(self.limits)

    # What the shell collects.

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[str | bytes]:
        frames, self._outgoing = self._outgoing, []
        return frames

    # What arrives.

    def receive_bytes(self, data: bytes, now: float) -> None:
        if self._admit(now, len(data)):
            self.error(None, "binary_not_accepted", "clients send JSON text frames only; binary frames go server to client")

    def receive_text(self, text: str, now: float) -> None:
        if not self._admit(now, len(text.encode("utf-8", "surrogatepass"))):
            return
        request_id = None
        try:
            message = parse_message(text)
            raw_id = message.get("id")
            if isinstance(raw_id, int) and not isinstance(raw_id, bool) and 0 <= raw_id <= MAX_REQUEST_ID:
                request_id = raw_id
            check_edge(message)
            op = message.get("op")
            handler = _HANDLERS.get(op) if isinstance(op, str) else None
            if handler is None:
                raise ProtocolError("unknown_op", f"unknown op {op!r}; the ops are {', '.join(sorted(_HANDLERS))}")
            if op != "hello" and self.grant is None:
                raise ProtocolError("hello_required", "send 'hello' first")
            handler(self, message)
        except ProtocolError as error:
            self.error(request_id, error.code, str(error), **error.extra)

    def _admit(self, now: float, size: int) -> bool:
        if self.closed:
            return False
        if size > self.limits.max_message_bytes:
            self._close(CLOSE_TOO_BIG, f"message of {size} bytes is over the limit of {self.limits.max_message_bytes}")
            return False
        admitted, warn, abusive = self._rate.admit(now)
        if abusive:
            self._close(CLOSE_POLICY, "rate limit")
            return False
        if warn:
            self.error(None, "rate_limited",
                       f"more than {self.limits.messages_per_second:g} messages per second; messages are being dropped")
        return admitted

    def _close(self, code: int, reason: str) -> None:
        self.closed = True
        self._events.append(Close(code, reason))

    # Request handlers: check, then hand to the shell as an event.

    def _on_hello(self, message: dict) -> None:
        request_id = checked_request_id(message)
        version = message.get("protocol")
        if type(version) is not int or version != PROTOCOL_VERSION:  # JSON true is not the number 1
            raise ProtocolError("unsupported_protocol",
                                f"this server speaks protocol {PROTOCOL_VERSION}, the client asked for {version!r}")
        self._events.append(Hello(request_id, field(message, "token", str, optional=True)))

    def _readable(self, message: dict) -> tuple[str, Role]:
        twin = field(message, "twin", str)
        role = self.roles.get(twin)
        if role is None:
            if twin in self.known_twins:
                raise ProtocolError("forbidden", f"you may not read twin {twin!r}; ask for a token")
            raise ProtocolError("unknown_twin", f"there is no twin {twin!r}; the welcome message lists the twins")
        return twin, role

    def _subscribed(self, message: dict) -> tuple[str, Role]:
        twin, role = self._readable(message)
        if twin not in self.subscriptions:
            raise ProtocolError("not_subscribed", f"subscribe to twin {twin!r} first")
        return twin, role

    def _need_role(self, role: Role, needed: Role, action: str) -> None:
        if role < needed:
            raise ProtocolError("forbidden", f"your role {role.label} may not {action}; it needs {needed.label} or above")

    def _on_subscribe(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, role = self._readable(message)
        self.subscriptions.add(twin)
        self._events.append(Subscribe(request_id, twin, role))

    def _on_unsubscribe(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, _ = self._readable(message)
        self.subscriptions.discard(twin)
        self._events.append(Unsubscribe(request_id, twin))

    def _on_edit(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, role = self._readable(message)
        base = field(message, "base_revision", int)
        try:
            patch = validate_patch(message.get("patch"))
        except JsonPatchError as error:
            raise ProtocolError("invalid_patch", str(error)) from None
        self._need_role(role, Role.ARTISAN, "edit the twin")
        denied = forbidden_path(role, patch)
        if denied is not None:
            raise ProtocolError("forbidden", f"your role {role.label} may not change {denied!r}", path=denied)
        self._events.append(Edit(request_id, twin, base, patch))

    def _on_presence(self, message: dict) -> None:
        checked_request_id(message, optional=True)
        twin, _ = self._subscribed(message)
        mode = field(message, "mode", str)
        if len(mode) > 64:
            raise ProtocolError("bad_message", "presence mode must be at most 64 characters")
        self._events.append(Presence(twin, pose(message.get("pose")), mode))

    def _on_machine_state(self, message: dict) -> None:
        request_id = checked_request_id(message, optional=True)
        twin, role = self._readable(message)
        machine = field(message, "machine", str)
        properties = field(message, "properties", dict)
        self._need_role(role, Role.ARTISAN, "send machine state")
        if role is Role.ARTISAN and not self.grant.may_change_machine(machine):
            raise ProtocolError("forbidden", f"your token may send the state of {', '.join(self.grant.machines)} only, "
                                             f"not of {machine!r}")
        self._events.append(MachineState(request_id, twin, machine, properties))

    def _on_step(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, role = self._readable(message)
        procedure = field(message, "procedure", str)
        step = field(message, "step", (int, str))
        done = field(message, "done", bool)
        self._need_role(role, Role.ARTISAN, "record instruction progress")
        self._events.append(Step(request_id, twin, procedure, step, done))

    def _on_get_asset(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, _ = self._readable(message)
        self._events.append(GetAsset(request_id, twin, field(message, "path", str)))

    def _on_history(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, _ = self._readable(message)
        machine = field(message, "machine", str)
        name = field(message, "property", str)
        from_s = field(message, "from_s", (int, float), optional=True)
        to_s = field(message, "to_s", (int, float), optional=True)
        if from_s is not None and to_s is not None and not from_s < to_s:
            raise ProtocolError("bad_message", "history needs from_s before to_s (Unix seconds)")
        max_points = field(message, "max_points", int, optional=True)
        max_points = DEFAULT_HISTORY_POINTS if max_points is None else max_points
        if not 1 <= max_points <= MAX_HISTORY_POINTS:
            raise ProtocolError("bad_message", f"history max_points must be within 1 .. {MAX_HISTORY_POINTS}")
        self._events.append(History(request_id, twin, machine, name, None if from_s is None else float(from_s),
                                    None if to_s is None else float(to_s), max_points))

    def _on_revisions(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, role = self._readable(message)
        before = field(message, "before", int, optional=True)
        limit = field(message, "limit", int, optional=True)
        limit = DEFAULT_REVISIONS_PAGE if limit is None else limit
        if not 1 <= limit <= MAX_REVISIONS_PAGE:
            raise ProtocolError("bad_message", f"revisions limit must be within 1 .. {MAX_REVISIONS_PAGE}")
        if before is not None and before < 1:
            raise ProtocolError("bad_message", "revisions before must be a revision of 1 or more")
        self._need_role(role, Role.PLANNER, "see the document's history")
        self._events.append(Revisions(request_id, twin, before, limit))

    def _on_restore(self, message: dict) -> None:
        request_id = checked_request_id(message)
        twin, role = self._readable(message)
        base = field(message, "base_revision", int)
        revision = field(message, "revision", int)
        if revision < 0:
            raise ProtocolError("bad_message", "restore needs a revision of 0 or more")
        self._need_role(role, Role.PLANNER, "restore a revision")
        self._events.append(Restore(request_id, twin, base, revision))

    # Answers from the shell.

    def welcome(self, request_id: int, grant: Grant | None, twins: list[TwinInfo], degraded: str | None = None) -> None:
        """Accept a hello: `grant` from the token (None: anonymous visitor); `twins`: all twins served;
        `degraded`: why this server cannot reach the other processes serving the twins, if it cannot.

        The shell ends the client's subscriptions in the fan-out before calling this."""
        self.grant = grant or VISITOR
        self.known_twins = frozenset(t.name for t in twins)
        self.roles = {}
        visible = []
        for info in twins:
            role = self.grant.role_on(info.name, info.published)
            if role is not None:
                self.roles[info.name] = role
                visible.append({"name": info.name, "role": role.label, "revision": info.revision,
                                "published": info.published,
                                # so that a viewer offers the editor on these machines only
                                **({"machines": list(self.grant.machines)}
                                   if role is Role.ARTISAN and self.grant.machines else {})})
        # New rights may change what a subscription shows (visitors see less): subscribe again.
        self.subscriptions.clear()
        self._send({"op": "welcome", "id": request_id, "protocol": PROTOCOL_VERSION, "server": f"twin/{__version__}",
                    "client": self.client, "name": self.grant.name, "capabilities": list(CAPABILITIES),
                    "twins": visible,
                    "limits": {"max_message_bytes": self.limits.max_message_bytes,
                               "messages_per_second": self.limits.messages_per_second, "burst": self.limits.burst},
                    **({"degraded": degraded} if degraded else {})})

    def ack(self, request_id: int | None, **fields: Any) -> None:
        if request_id is not None:
            self._send({"op": "ack", "id": request_id, **fields})

    def history(self, event: History, from_s: float, to_s: float, unit: str | None, points: list[list]) -> None:
        reply = {"op": "history", "id": event.id, "twin": event.twin, "machine": event.machine,
                 "property": event.property, "from_s": from_s, "to_s": to_s, "points": points}
        if unit is not None:
            reply["unit"] = unit
        self._send(reply)

    def revisions(self, event: Revisions, head: int, entries: list[dict], more: bool) -> None:
        self._send({"op": "revisions", "id": event.id, "twin": event.twin, "revision": head, "revisions": entries,
                    "more": more})

    def asset(self, request_id: int, data: bytes) -> None:
        self._outgoing.append(encode_asset(request_id, data))

    def error(self, request_id: int | None, code: str, message: str, **extra: Any) -> None:
        reply = {"op": "error", "code": code, "message": message, **extra}
        if request_id is not None:
            reply["id"] = request_id
        self._send(reply)

    def _send(self, message: dict) -> None:
        self._outgoing.append(encode(message))


_HANDLERS = {
    "hello": Connection._on_hello,
    "subscribe": Connection._on_subscribe,
    "unsubscribe": Connection._on_unsubscribe,
    "edit": Connection._on_edit,
    "presence": Connection._on_presence,
    "machine_state": Connection._on_machine_state,
    "step": Connection._on_step,
    "get_asset": Connection._on_get_asset,
    "history": Connection._on_history,
    "revisions": Connection._on_revisions,
    "restore": Connection._on_restore,
}
