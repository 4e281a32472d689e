"""The MQTT bridge (aiomqtt): topic filters with wildcards, retained messages, JSON payloads.

Each machine of an `mqtt` source names a topic filter (`+` one level, `#` the rest). A payload is
JSON: without `properties` each top-level key of the object is a property; with
`properties: {name: {path: /json/pointer, unit}}` (Home Assistant's habit) each name takes the
value at its pointer ('' for the whole payload, e.g. a bare number), and a pointer the payload
lacks is simply not in that message. Retained messages arrive on subscribing, so a restarted server
knows the latest state at once. Only subscribes: the bridge never publishes.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
from urllib.parse import urlsplit

import aiomqtt

from twin.document import SourceMachine
from twin.live.bridge import Bridge
from twin.live.state import LiveValue
from twin.live.values import Malformed, parse_payload, resolve_pointer, value_problem

log = logging.getLogger(__name__)

MAX_PROPERTIES = 256
MAX_NAME_CHARS = 64
MAX_QUEUED_MESSAGES = 10_000
"""What waits unread is bounded: in a flood, the oldest messages make room for the newest."""
CONNECT_TIMEOUT_S = 5.0
KEEPALIVE_S = 15


def broker_address(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of an mqtt:// or mqtts:// URL (ports 1883 and 8883 by default)."""
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    return parts.hostname or "localhost", parts.port or (8883 if tls else 1883), tls


async def stream(bridge: Bridge) -> None:
    source = bridge.source
    host, port, tls = broker_address(source.url)
    client = aiomqtt.Client(host, port, username=bridge.secret(source.username_env),
                            password=bridge.secret(source.password_env), timeout=CONNECT_TIMEOUT_S,
                            keepalive=KEEPALIVE_S, tls_context=ssl.create_default_context() if tls else None,
                            max_queued_incoming_messages=MAX_QUEUED_MESSAGES, queue_type=NewestMessages)
    async with client:
        for topic in sorted({where.topic for where in source.machines.values()}):
            await client.subscribe(topic)
        bridge.connected()
        routes = TopicRoutes(source.machines)
        async for message in client.messages:
            bridge.stats.messages += 1
            for machine, where in routes.machines_of(message.topic.value):
                take(bridge, machine, where, bytes(message.payload or b""))


class NewestMessages(asyncio.Queue):
    """aiomqtt's incoming queue, bounded, that drops its oldest message for a new one when full.

    aiomqtt's own bounded queue drops the new message instead, so a flood could end with a
    machine's last value lost and an old one shown as current until the machine sends again.
    """

    def __init__(self, maxsize: int = 0):
        super().__init__(maxsize)
        self.dropped = 0

    def put_nowait(self, item) -> None:
        if self.full():
            self.get_nowait()
            self.dropped += 1
            if self.dropped % MAX_QUEUED_MESSAGES == 1:
                log.warning("MQTT flood: %d messages not read in time were dropped (the newest are kept)",
                            self.dropped)
        super().put_nowait(item)


class TopicRoutes:
    """Which machines' topic filters a topic matches, by MQTT's rules, remembered per topic.

    aiomqtt's `Topic.matches` parses and validates the filter anew on every call: fifty machines
    at a thousand messages a second made that the bridge's largest cost.
    """

    MAX_REMEMBERED = 4096  # topics under a wildcard can be many: bound what is remembered

    def __init__(self, machines: dict[str, SourceMachine]):
        self._filters = [(where.topic.split("/"), machine, where) for machine, where in machines.items()]
        self._routes: dict[str, list[tuple[str, SourceMachine]]] = {}

    def machines_of(self, topic: str) -> list[tuple[str, SourceMachine]]:
        routes = self._routes.get(topic)
        if routes is None:
            levels = topic.split("/")
            routes = [(machine, where) for filter_levels, machine, where in self._filters
                      if filter_matches(filter_levels, levels)]
            if len(self._routes) >= self.MAX_REMEMBERED:
                self._routes.clear()
            self._routes[topic] = routes
        return routes


def filter_matches(filter_levels: list[str], topic_levels: list[str]) -> bool:
    """MQTT's matching: `+` is one level, `#` the rest (the parent level too); a topic that
    starts with `$` is matched by no filter that starts with a wildcard."""
    if topic_levels[0].startswith("$") and filter_levels[0] in ("+", "#"):
        return False
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels) or level not in ("+", topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)


def take(bridge: Bridge, machine: str, where: SourceMachine, payload: bytes) -> None:
    """Hand on the properties of one payload for `machine`; a malformed payload or value is counted."""
    try:
        values, problems = properties_of(payload, where, bridge)
    except Malformed as error:
        bridge.malformed(machine, str(error))
        return
    bridge.emit_checked(machine, values, problems)


def properties_of(payload: bytes, where: SourceMachine, bridge: Bridge) -> tuple[dict[str, LiveValue], list[str]]:
    """The properties in `payload` that pass the edge rule, and what was wrong with the others."""
    document = parse_payload(payload)
    problems: list[str] = []
    found: dict[str, tuple[object, str | None]] = {}
    if where.properties:
        for name, wanted in where.properties.items():
            try:
                found[name] = (resolve_pointer(document, wanted.path), wanted.unit)
            except KeyError:
                continue  # not in this message
    else:
        if not isinstance(document, dict):
            raise Malformed("the payload is not a JSON object (give `properties` with paths to read other payloads)")
        if len(document) > MAX_PROPERTIES:
            raise Malformed(f"the payload has {len(document)} keys, more than {MAX_PROPERTIES} properties")
        for name, value in document.items():
            if value_problem(name) or len(name) > MAX_NAME_CHARS or not name:
                problems.append(f"a key {value_problem(name) or f'is empty or longer than {MAX_NAME_CHARS}'}")
                continue
            found[name] = (value, None)
    values = {}
    for name, (value, unit) in found.items():
        problem = value_problem(value)
        if problem:
            problems.append(f"property {name!r} {problem}")
        else:
            values[name] = bridge.value(value, unit)
    return values, problems
