"""Running a document's sources: one `Bridge` per source, of its kind's stream.

`bridges(document, on_update)` makes them (OctoPrint sources are accepted by the document but not
bridged yet: they are skipped with a warning); each bridge's `run()` is one asyncio task.
"""
from __future__ import annotations

import logging
from typing import Mapping

from twin.document.model import Source, source_from_dict
from twin.live import mqtt, opcua
from twin.live.bridge import Backoff, Bridge, OnUpdate

log = logging.getLogger(__name__)

STREAMS = {"mqtt": mqtt.stream, "opcua": opcua.stream}
"""The kinds that have a bridge; 'octoprint' is still to come."""


def sources_of(document: dict) -> tuple[Source, ...]:
    """The sources of a valid document in its JSON form."""
    return tuple(source_from_dict(s) for s in document.get("sources", ()))


def bridges(document: dict, on_update: OnUpdate, *, backoff: Backoff = Backoff(),
            env: Mapping[str, str] | None = None) -> list[Bridge]:
    """A bridge per bridged source of `document`, each calling `on_update(machine, properties)`."""
    made = []
    for source in sources_of(document):
        stream = STREAMS.get(source.kind)
        if stream is None:
            log.warning("source %s: %s sources are not bridged yet; its machines get no live state", source.id,
                        source.kind)
            continue
        made.append(Bridge(source, stream, on_update, backoff=backoff, env=env))
    return made
