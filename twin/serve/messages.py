"""The protocol's messages (docs/protocol.md): the events a client's requests become, and the
frames the server sends, encoded once so that every client receives the same text.

Plain data and encoders; no state. `twin.serve.protocol` makes the events, the hub and the
shell send the frames.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from twin.serve.access import Role

PROTOCOL_SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "protocol.schema.json"
"""The published JSON schema of every message (docs/protocol.md); the tests hold the protocol to it."""

PROTOCOL_VERSION = 1
ASSET_OPCODE = 0x01
MAX_REQUEST_ID = 2**32 - 1
CAPABILITIES = ("edit", "presence", "machine_state", "step", "assets", "history", "revisions")
MAX_HISTORY_POINTS = 2000
DEFAULT_HISTORY_POINTS = 300
DEFAULT_HISTORY_SPAN_S = 3600.0  # a chart of the last hour
MAX_REVISIONS_PAGE = 200
DEFAULT_REVISIONS_PAGE = 50


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
class History:
    """A chart's request: one property of one machine over [from_s, to_s] (Unix seconds; None: the
    last hour until now)."""

    id: int
    twin: str
    machine: str
    property: str
    from_s: float | None
    to_s: float | None
    max_points: int


@dataclass(frozen=True)
class Revisions:
    """A page of the document's history: at most `limit` revisions below `before` (None: from the head),
    newest first."""

    id: int
    twin: str
    before: int | None
    limit: int


@dataclass(frozen=True)
class Restore:
    """Make the document as it was at `revision`, as a new edit on `base_revision` (the head)."""

    id: int
    twin: str
    base_revision: int
    revision: int


@dataclass(frozen=True)
class Close:
    """The protocol wants the connection closed (the shell sends the close frame)."""

    code: int
    reason: str


Event = Union[Hello, Subscribe, Unsubscribe, Edit, Presence, MachineState, Step, GetAsset, History, Revisions, Restore,
              Close]

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


def machine_states_message(twin: str, machines: dict[str, dict]) -> dict:
    """The pushed state of `twin`'s machines: machine id -> the properties that changed."""
    return {"op": "machine_states", "twin": twin, "machines": machines}


def encode_step(twin: str, procedure: str, step, done: bool, author: str, client: int, revision: int) -> str:
    return encode({"op": "step", "twin": twin, "procedure": procedure, "step": step, "done": done,
                   "author": author, "client": client, "revision": revision})
