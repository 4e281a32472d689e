"""Running a document's sources: one `Bridge` per source, of its kind's stream.

`bridges(document, on_update)` makes them (a kind without a stream is skipped with a warning); each
bridge's `run()` is one asyncio task. Machines with `status_rules` get their `status` added to the
updates (twin.live.status).
"""
from __future__ import annotations

import logging
from typing import Mapping

from twin.document.model import Source, source_from_dict
from twin.live import mqtt, octoprint, opcua
from twin.live.bridge import Backoff, Bridge, OnUpdate
from twin.live.status import MachineStatus

log = logging.getLogger(__name__)

STREAMS = {"mqtt": mqtt.stream, "opcua": opcua.stream, "octoprint": octoprint.stream}
"""The kinds that have a bridge: MQTT, OPC UA and OctoPrint (twin.live.octoprint)."""


def sources_of(document: dict) -> tuple[Source, ...]:
    """The sources of a valid document in its JSON form."""
    return tuple(source_from_dict(s) for s in document.get("sources", ()))


def bridges(document: dict, on_update: OnUpdate, *, backoff: Backoff = Backoff(),
            env: Mapping[str, str] | None = None) -> list[Bridge]:
    """A bridge per bridged source of `document`, each calling `on_update(machine, properties)`."""
    status = MachineStatus(document)

    def update(machine: str, properties: dict[str, dict]) -> None:
        with_status = status.with_status(machine, properties)
        if with_status:
            on_update(machine, with_status)

    made = []
    for source in sources_of(document):
        stream = STREAMS.get(source.kind)
        if stream is None:
            log.warning("source %s: %s sources are not bridged yet; its machines get no live state", source.id,
                        source.kind)
            continue
        made.append(Bridge(source, stream, update, backoff=backoff, env=env))
    return made
