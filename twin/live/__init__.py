"""Live machine state: bridges from machines (MQTT, OPC UA, OctoPrint) into machine-state messages.

Room: may import `twin.document`; never `twin.serve` (the server takes what the bridges yield).

Modules, one per concept: `values` (the edge rule for what comes in, strict payload parsing, JSON
pointers), `state` (a live value: value, unit, source time, quality; a source's latest values),
`bridge` (one source kept connected with backoff, malformed payloads counted), `mqtt`, `opcua` and
`octoprint` (the kinds' streams), `sources` (a document's bridges). docs/live.md describes the format.
"""
