"""A machine's status from its document's `status_rules`: `alarm`, `running`, `idle` or `offline`.

A machine with `status_rules` (e.g. `{alarm: "nozzle_temp > 265", running: "state == 'Printing'"}`)
gets a live property `status`, recomputed whenever one of its properties changes, from all of its
sources' latest values: `offline` when every value known is offline (its sources are down), else
`alarm` if that rule holds, else `running` if that one holds, else `idle`. Its quality is `stale`
when a value the rules read is stale or offline, else `good`. Offline values do not take part in
the rules: a condition never holds on a value the machine does not have now. A machine without rules
gets no status from twin (a source may still bring one of its own, as any property).
"""
from __future__ import annotations

from twin.document.conditions import Condition, names_in, parse_condition

STATUS = "status"
"""The property the status is sent as (so a source may not map a property of that name on a machine with rules)."""
PRECEDENCE = ("alarm", "running")
"""Rules in the order they are tried; 'idle' when none holds."""


class MachineStatus:
    """The latest values and status of the machines of one document that have status rules."""

    def __init__(self, document: dict):
        self.rules: dict[str, list[tuple[str, Condition]]] = {}
        for machine in document.get("machines", []):
            rules = machine.get("status_rules") or {}
            if rules:
                self.rules[machine["id"]] = [(status, parse_condition(rules[status]))
                                             for status in PRECEDENCE if status in rules]
        self._latest: dict[str, dict[str, dict]] = {}
        self._sent: dict[str, tuple[str, str]] = {}

    def with_status(self, machine: str, properties: dict[str, dict]) -> dict[str, dict]:
        """`properties` (as a bridge hands them on), with the machine's `status` added when it changed."""
        rules = self.rules.get(machine)
        if rules is None:
            return properties
        # The status is the rules' alone: a payload's own `status` key would contradict it.
        properties = {name: value for name, value in properties.items() if name != STATUS}
        if not properties:
            return properties
        latest = self._latest.setdefault(machine, {})
        latest.update(properties)
        status, quality = self._status(rules, latest)
        if self._sent.get(machine) == (status, quality):
            return properties
        self._sent[machine] = (status, quality)
        source_time_s = max(p["source_time_s"] for p in properties.values())
        return {**properties, STATUS: {"value": status, "source_time_s": source_time_s, "quality": quality}}

    @staticmethod
    def _status(rules: list[tuple[str, Condition]], latest: dict[str, dict]) -> tuple[str, str]:
        if all(p["quality"] == "offline" for p in latest.values()):
            return "offline", "offline"
        values = {name: p["value"] for name, p in latest.items() if p["quality"] != "offline"}
        read = set().union(*(names_in(condition) for _, condition in rules))
        quality = "stale" if any(latest[name]["quality"] != "good" for name in read if name in latest) else "good"
        for status, condition in rules:
            if condition.holds(values):
                return status, quality
        return "idle", quality
