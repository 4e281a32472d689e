"""The OctoPrint bridge: one printer per source, read from OctoPrint's push socket.

The push socket (SockJS's raw websocket, `/sockjs/websocket`) rather than polling the REST API
(`/api/printer`, `/api/job`): OctoPrint pushes a `current` message on every change and temperature
reading (about 2 Hz), so state, job, progress and temperatures arrive together, as soon as they
change, over one connection, and a stopped OctoPrint ends the socket at once. The socket needs a
login: one `POST /api/login {"passive": true}` with the `X-Api-Key` header (stdlib HTTP, in a
thread) gives the user's name and session, sent as `{"auth": "name:session"}`.

Properties (the source's one machine): `state` (OctoPrint's state text; `Offline` while the printer
is not connected to its serial port, `Error` after a printer error), `progress` (%), `file` (the
selected file's name), `print_time_left_s` (s), `nozzle_temp`, `nozzle_target`, `bed_temp`,
`bed_target` (°C); null where OctoPrint has none (no job, no heated bed). A field of the wrong type
is counted as malformed and the others pass. Read only: nothing but the login and `auth` is sent.
"""
from __future__ import annotations

import asyncio
import json
import math
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import connect

from twin.live.bridge import Bridge
from twin.live.state import LiveValue
from twin.live.values import Malformed, parse_payload, value_problem

CONNECT_TIMEOUT_S = 5.0
PING_INTERVAL_S = 5.0
"""A silent OctoPrint (hung, cable pulled) is noticed by the socket's pings within about 10 s."""
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""The `history` message after `auth` carries up to 30 min of temperatures and the terminal log."""

TEXT, NUMBER = str, (int, float)
# (property, unit, path in a `current`/`history` message, expected type); `temps` is the latest reading.
PROPERTIES = (
    ("progress", "%", ("progress", "completion"), NUMBER),
    ("file", None, ("job", "file", "name"), TEXT),
    ("print_time_left_s", "s", ("progress", "printTimeLeft"), NUMBER),
    ("nozzle_temp", "°C", ("temps", "tool0", "actual"), NUMBER),
    ("nozzle_target", "°C", ("temps", "tool0", "target"), NUMBER),
    ("bed_temp", "°C", ("temps", "bed", "actual"), NUMBER),
    ("bed_target", "°C", ("temps", "bed", "target"), NUMBER),
)


def socket_url(url: str) -> str:
    """The push socket's ws:// (wss:// for https) URL of an OctoPrint at `url`, under its path prefix."""
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/sockjs/websocket", "", ""))


def login(url: str, api_key: str, source_env: str) -> str:
    """'name:session' for the socket's `auth`, from a passive login with the API key (blocking)."""
    request = urllib.request.Request(url.rstrip("/") + "/api/login", data=b'{"passive": true}', method="POST",
                                     headers={"X-Api-Key": api_key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_S) as response:
            user = json.loads(response.read(MAX_MESSAGE_BYTES))
    except urllib.error.HTTPError as error:
        if error.code in (400, 401, 403):  # 400: an unknown key leaves the login unauthenticated (CSRF)
            raise ConnectionError(f"OctoPrint at {url} refused the API key in {source_env} (HTTP {error.code}); "
                                  "make an application key in OctoPrint's settings (Application Keys) and set "
                                  f"{source_env} to it") from None
        raise ConnectionError(f"OctoPrint at {url} answered the login with HTTP {error.code}") from None
    except ValueError:
        raise ConnectionError(f"OctoPrint at {url} answered the login with something that is not JSON") from None
    if not (isinstance(user, dict) and isinstance(user.get("name"), str) and isinstance(user.get("session"), str)):
        raise ConnectionError(f"OctoPrint at {url} answered the login without a user name and session "
                              "(is it OctoPrint 1.5 or newer?)")
    return f"{user['name']}:{user['session']}"


async def stream(bridge: Bridge) -> None:
    source = bridge.source
    if source.api_key_env is None:
        raise ConnectionError(f"source {source.id!r} names no api_key_env; OctoPrint needs an API key")
    api_key = bridge.secret(source.api_key_env)
    machine = next(iter(source.machines))
    auth = await asyncio.to_thread(login, source.url, api_key, source.api_key_env)
    async with connect(socket_url(source.url), open_timeout=CONNECT_TIMEOUT_S, ping_interval=PING_INTERVAL_S,
                       ping_timeout=PING_INTERVAL_S, max_size=MAX_MESSAGE_BYTES) as socket:
        await socket.send(json.dumps({"auth": auth}))
        bridge.connected()
        async for message in socket:
            bridge.stats.messages += 1
            take(bridge, machine, message.encode("utf-8", "surrogatepass") if isinstance(message, str) else message)


def take(bridge: Bridge, machine: str, payload: bytes) -> None:
    """Hand on the printer's properties in one socket message; what is malformed is counted."""
    try:
        message = parse_payload(payload, MAX_MESSAGE_BYTES)
        if not isinstance(message, dict):
            raise Malformed("a socket message is not a JSON object")
        if "reauthRequired" in message:
            raise ConnectionError("OctoPrint ended the session (reauthRequired); logging in again")
        update = message.get("current", message.get("history"))
        if update is None:
            return  # connected, event, plugin, slicing... messages carry no printer state
        if not isinstance(update, dict):
            raise Malformed("a 'current' message is not a JSON object")
        values, problems = properties_of(update, bridge)
    except Malformed as error:
        bridge.malformed(machine, str(error))
        return
    bridge.emit_checked(machine, values, problems)


def properties_of(update: dict, bridge: Bridge) -> tuple[dict[str, LiveValue], list[str]]:
    """The properties in a `current` message that pass the edge rule, and what was wrong with the others."""
    problems: list[str] = []
    server_time = update.get("serverTime")
    source_time_s = server_time if isinstance(server_time, (int, float)) and math.isfinite(server_time) else None
    values: dict[str, LiveValue] = {}
    state = printer_state(update.get("state"))
    if isinstance(state, Malformed):
        problems.append(str(state))
    elif state is not None:
        values["state"] = bridge.value(state, None, source_time_s)
    temps = update.get("temps")
    sections = {**update, "temps": temps[-1] if isinstance(temps, list) and temps else None}
    for name, unit, path, wanted in PROPERTIES:
        if sections.get(path[0]) is None:
            continue  # not in this message (e.g. no temperature reading since the last one)
        try:
            value = field_at(sections, path)
        except Malformed as error:
            problems.append(f"{name}: {error}")
            continue
        problem = value_problem(value)
        if problem is None and value is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
            problem = f"is {type(value).__name__}, not {'text' if wanted is TEXT else 'a number'}"
        if problem:
            problems.append(f"{'.'.join(path)} ({name}) {problem}")
        else:
            values[name] = bridge.value(value, unit, source_time_s)
    return values, problems


def field_at(sections: dict, path: tuple[str, ...]) -> object:
    """The value at `path`; null where OctoPrint leaves part of it out (no file selected, no bed)."""
    value: object = sections
    for depth, key in enumerate(path):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise Malformed(f"{'.'.join(path[:depth])} is not a JSON object")
        value = value.get(key)
    return value


def printer_state(state: object) -> str | Malformed | None:
    """The `state` property: OctoPrint's state text, `Offline` when not connected, `Error` after an error."""
    if state is None:
        return None
    if not (isinstance(state, dict) and isinstance(state.get("text"), str) and isinstance(state.get("flags"), dict)):
        return Malformed("state is not an object with a text and flags")
    flags = state["flags"]
    if flags.get("error") is True:
        return "Error"
    if flags.get("closedOrError") is True or state["text"].startswith("Offline"):
        return "Offline"
    problem = value_problem(state["text"])
    return Malformed(f"state.text {problem}") if problem else state["text"]
