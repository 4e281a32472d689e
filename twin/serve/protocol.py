"""The twin wire protocol (docs/protocol.md) as a sans-I/O state machine: no sockets, no asyncio.

One `Connection` per client. The shell feeds it what arrives (`receive_text`, `receive_bytes`,
with the current time) and collects two things:

- `events_received()`: requests that passed every check the protocol can make on its own
  (shape, session state, rate, role and path permissions) and that need the shell's I/O
  (the store, the fan-out, files);
- `data_to_send()`: frames (str for text, bytes for binary) to send to this client, in order.

The shell answers events by calling `welcome`, `snapshot`, `ack`, `asset`, `error`, ... which
queue frames. Messages pushed to many clients (deltas, presence, machine state, steps) are
encoded once with the `encode_*` functions and handed to the fan-out.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any, Union

from twin import __version__
from twin.serve.access import VISITOR, Grant, Role, forbidden_path
from twin.serve.json_patch import JsonPatchError, validate_patch

PROTOCOL_VERSION = 1
ASSET_OPCODE = 0x01
MAX_REQUEST_ID = 2**32 - 1
CAPABILITIES = ("edit", "presence", "machine_state", "step", "assets")


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


# Events: requests for the shell.

@dataclass(frozen=True)
class Hello:
    id: int
    token: str | None


@dataclass(frozen=True)
class Subscribe:
    id: int
    twin: str
    role: Role


@dataclass(frozen=True)
class Unsubscribe:
    id: int
    twin: str


@dataclass(frozen=True)
class Edit:
    id: int
    twin: str
    base_revision: int
    patch: list


@dataclass(frozen=True)
class Presence:
    twin: str
    pose: dict
    mode: str


@dataclass(frozen=True)
class MachineState:
    id: int | None
    twin: str
    machine: str
    properties: dict


@dataclass(frozen=True)
class Step:
    id: int
    twin: str
    procedure: str
    step: Union[int, str]
    done: bool


@dataclass(frozen=True)
class GetAsset:
    id: int
    twin: str
    path: str


@dataclass(frozen=True)
class Close:
    """The protocol wants the connection closed (the shell sends the close frame)."""

    code: int
    reason: str


Event = Union[Hello, Subscribe, Unsubscribe, Edit, Presence, MachineState, Step, GetAsset, Close]

CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


class ProtocolError(ValueError):
    """A message that breaks the protocol; answered with an error, the connection stays usable."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code = code
        self.extra = extra


def encode(message: dict) -> str:
    """The text frame of a control message."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_asset(request_id: int, data: bytes) -> bytes:
    """The binary frame answering `get_asset` request `request_id`."""
    return struct.pack("<BI", ASSET_OPCODE, request_id) + data


def decode_asset(frame: bytes) -> tuple[int, bytes]:
    """(request id, asset bytes) of a binary asset frame."""
    if len(frame) < 5 or frame[0] != ASSET_OPCODE:
        raise ValueError("not an asset frame: it must start with opcode 0x01 and a 4-byte request id")
    return struct.unpack_from("<I", frame, 1)[0], bytes(frame[5:])


def encode_snapshot(twin: str, revision: int, document: dict, role: Role, request_id: int | None = None) -> str:
    message = {"op": "snapshot", "twin": twin, "revision": revision, "role": role.label, "document": document}
    if request_id is not None:
        message["id"] = request_id
    return encode(message)


def encode_delta(twin: str, revision: int, patch: list, author: str, client: int) -> str:
    return encode({"op": "delta", "twin": twin, "revision": revision, "patch": patch,
                   "author": author, "client": client})


def presence_message(twin: str, client: int, name: str, pose: dict, mode: str) -> dict:
    return {"op": "presence", "twin": twin, "client": client, "name": name, "pose": pose, "mode": mode}


def presence_left_message(twin: str, client: int) -> dict:
    return {"op": "presence", "twin": twin, "client": client, "left": True}


def machine_state_message(twin: str, machine: str, properties: dict, client: int) -> dict:
    return {"op": "machine_state", "twin": twin, "machine": machine, "properties": properties, "client": client}


def encode_step(twin: str, procedure: str, step, done: bool, author: str, client: int, revision: int) -> str:
    return encode({"op": "step", "twin": twin, "procedure": procedure, "step": step, "done": done,
                   "author": author, "client": client, "revision": revision})


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


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


_JSON_KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "an object",
               list: "an array"}


def _field(message: dict, name: str, kind, *, optional: bool = False):
    value = message.get(name)
    if value is None and optional:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # JSON true/false are not numbers, although Python's bool is an int.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join(_JSON_KINDS[k] for k in kinds)
        what = "nothing" if name not in message else _JSON_KINDS.get(type(value), "null")
        raise ProtocolError("bad_message", f"{message.get('op')!r} needs field {name!r} as {expected} (got {what})")
    return value


def _request_id(message: dict, *, optional: bool = False) -> int | None:
    request_id = _field(message, "id", int, optional=optional)
    if request_id is not None and not 0 <= request_id <= MAX_REQUEST_ID:
        raise ProtocolError("bad_message", f"request id {request_id} is outside 0 .. 2^32-1")
    return request_id


def _finite_numbers(value, count: int, what: str) -> list[float]:
    if (not isinstance(value, list) or len(value) != count
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise ProtocolError("bad_message", f"presence {what} must be an array of {count} finite numbers")
    return [float(v) for v in value]


def _pose(value) -> dict:
    if not isinstance(value, dict):
        raise ProtocolError("bad_message", "presence needs 'pose' as an object {position, quaternion}")
    return {"position": _finite_numbers(value.get("position"), 3, "pose.position"),
            "quaternion": _finite_numbers(value.get("quaternion"), 4, "pose.quaternion")}


@dataclass
class Connection:
    """The protocol state of one client connection."""

    client: int
    limits: Limits = field(default_factory=Limits)
    grant: Grant | None = None  # None until a hello was welcomed
    roles: dict[str, Role] = field(default_factory=dict)  # twin -> role, for twins this client may read
    known_twins: frozenset[str] = frozenset()
    subscriptions: set[str] = field(default_factory=set)
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
            try:
                message = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
            except (ValueError, RecursionError):
                raise ProtocolError("bad_message", "the message is not valid JSON") from None
            if not isinstance(message, dict):
                raise ProtocolError("bad_message", "a message must be a JSON object with an 'op' field")
            raw_id = message.get("id")
            if isinstance(raw_id, int) and not isinstance(raw_id, bool) and 0 <= raw_id <= MAX_REQUEST_ID:
                request_id = raw_id
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
        request_id = _request_id(message)
        version = message.get("protocol")
        if version != PROTOCOL_VERSION:
            raise ProtocolError("unsupported_protocol",
                                f"this server speaks protocol {PROTOCOL_VERSION}, the client asked for {version!r}")
        self._events.append(Hello(request_id, _field(message, "token", str, optional=True)))

    def _readable(self, message: dict) -> tuple[str, Role]:
        twin = _field(message, "twin", str)
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
        request_id = _request_id(message)
        twin, role = self._readable(message)
        self.subscriptions.add(twin)
        self._events.append(Subscribe(request_id, twin, role))

    def _on_unsubscribe(self, message: dict) -> None:
        request_id = _request_id(message)
        twin, _ = self._readable(message)
        self.subscriptions.discard(twin)
        self._events.append(Unsubscribe(request_id, twin))

    def _on_edit(self, message: dict) -> None:
        request_id = _request_id(message)
        twin, role = self._readable(message)
        base = _field(message, "base_revision", int)
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
        _request_id(message, optional=True)
        twin, _ = self._subscribed(message)
        mode = _field(message, "mode", str)
        if len(mode) > 64:
            raise ProtocolError("bad_message", "presence mode must be at most 64 characters")
        self._events.append(Presence(twin, _pose(message.get("pose")), mode))

    def _on_machine_state(self, message: dict) -> None:
        request_id = _request_id(message, optional=True)
        twin, role = self._readable(message)
        machine = _field(message, "machine", str)
        properties = _field(message, "properties", dict)
        self._need_role(role, Role.ARTISAN, "send machine state")
        self._events.append(MachineState(request_id, twin, machine, properties))

    def _on_step(self, message: dict) -> None:
        request_id = _request_id(message)
        twin, role = self._readable(message)
        procedure = _field(message, "procedure", str)
        step = _field(message, "step", (int, str))
        done = _field(message, "done", bool)
        self._need_role(role, Role.ARTISAN, "record instruction progress")
        self._events.append(Step(request_id, twin, procedure, step, done))

    def _on_get_asset(self, message: dict) -> None:
        request_id = _request_id(message)
        twin, _ = self._readable(message)
        self._events.append(GetAsset(request_id, twin, _field(message, "path", str)))

    # Answers from the shell.

    def welcome(self, request_id: int, grant: Grant | None, twins: list[TwinInfo]) -> None:
        """Accept a hello: `grant` from the token (None: anonymous visitor); `twins`: all twins served.

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
                                "published": info.published})
        # New rights may change what a subscription shows (visitors see less): subscribe again.
        self.subscriptions.clear()
        self._send({"op": "welcome", "id": request_id, "protocol": PROTOCOL_VERSION, "server": f"twin/{__version__}",
                    "client": self.client, "name": self.grant.name, "capabilities": list(CAPABILITIES),
                    "twins": visible,
                    "limits": {"max_message_bytes": self.limits.max_message_bytes,
                               "messages_per_second": self.limits.messages_per_second, "burst": self.limits.burst}})

    def snapshot(self, request_id: int, twin: str, revision: int, document: dict) -> None:
        self._outgoing.append(encode_snapshot(twin, revision, document, self.roles[twin], request_id))

    def ack(self, request_id: int | None, **fields: Any) -> None:
        if request_id is not None:
            self._send({"op": "ack", "id": request_id, **fields})

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
}
