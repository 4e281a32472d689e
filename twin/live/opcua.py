"""The OPC UA bridge (asyncua): one subscription per source, data changes pushed by the server.

Each machine of an `opcua` source maps property names to node ids (`ns=2;s=Spindle.Speed`, or
`{node, unit}`). The bridge subscribes to their values (the server samples and sends changes: no
polling), takes each value's source timestamp, and watches the session; a lost session ends the
stream, and the bridge (`twin.live.bridge`) marks the values offline and reconnects. Read only:
nothing is ever written to the server.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime
import enum
import logging

from twin.live.bridge import Bridge
from twin.live.state import Quality
from twin.live.values import Malformed, value_problem

PUBLISH_INTERVAL_MS = 100
"""How often the server sends what changed (the viewers' throttle is 10 Hz too)."""
SAMPLING_INTERVAL_MS = 50
CONNECT_TIMEOUT_S = 4.0
SESSION_CHECK_S = 0.5

logging.getLogger("asyncua").setLevel(logging.WARNING)  # asyncua tells every session step at INFO


async def stream(bridge: Bridge) -> None:
    from asyncua import Client, ua  # here, not at the top: asyncua takes 0.45 s to import, every twin command paid it

    source = bridge.source
    client = Client(source.url, timeout=CONNECT_TIMEOUT_S, watchdog_intervall=1.0)
    username = bridge.secret(source.username_env)
    if username is not None:
        client.set_user(username)
    password = bridge.secret(source.password_env)
    if password is not None:
        client.set_password(password)
    await client.connect()
    try:
        wanted = {}  # node id -> [(machine, property, unit)]
        for machine, where in source.machines.items():
            for name, prop in where.nodes.items():
                wanted.setdefault(ua.NodeId.from_string(prop.node), []).append((machine, name, prop.unit))
        handler = _Changes(bridge, wanted)
        subscription = await client.create_subscription(PUBLISH_INTERVAL_MS, handler)
        node_ids = list(wanted)
        results = await subscription.subscribe_data_change([client.get_node(n) for n in node_ids],
                                                           sampling_interval=SAMPLING_INTERVAL_MS)
        for node_id, result in zip(node_ids, results):
            if isinstance(result, ua.StatusCode):
                for machine, name, _ in wanted[node_id]:
                    bridge.malformed(machine, f"property {name!r}: the server refused node {node_id.to_string()} "
                                              f"({result.name}); check the node id with an OPC UA browser")
        bridge.connected()
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            await client.check_connection()  # raises once the supervisor has seen the session end
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), CONNECT_TIMEOUT_S)


class _Changes:
    """asyncua's subscription handler: each data change becomes a live value of its properties."""

    def __init__(self, bridge: Bridge, wanted: dict):
        from asyncua import ua

        self.localized_text = ua.LocalizedText
        self.bridge = bridge
        self.wanted = wanted

    def datachange_notification(self, node, value, data) -> None:
        self.bridge.stats.messages += 1
        targets = self.wanted.get(node.nodeid, ())
        data_value = data.monitored_item.Value
        timestamp = data_value.SourceTimestamp or data_value.ServerTimestamp
        source_time_s = timestamp.replace(tzinfo=timestamp.tzinfo or datetime.timezone.utc).timestamp() \
            if timestamp else None
        good = data_value.StatusCode is None or data_value.StatusCode.is_good()
        for machine, name, unit in targets:
            try:
                plain = _plain(value, self.localized_text)
                problem = value_problem(plain)
                if problem:
                    raise Malformed(f"property {name!r} {problem}")
            except Malformed as error:
                self.bridge.malformed(machine, str(error))
                continue
            live = self.bridge.value(plain, unit, source_time_s)
            if not good:
                live = type(live)(live.value, live.source_time_s, Quality.STALE, live.unit, live.received_s)
            self.bridge.emit(machine, {name: live})

    def status_change_notification(self, status) -> None:
        pass


def _plain(value, localized_text: type):
    """An OPC UA value as JSON can carry it (texts for times and `localized_text`s)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, localized_text):
        return value.Text
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (list, tuple)):
        return [_plain(v, localized_text) for v in value]
    raise Malformed(f"is an OPC UA {type(value).__name__}, which twin does not pass on")
