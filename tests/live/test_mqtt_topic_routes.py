"""twin.live.mqtt's topic filter matching agrees with aiomqtt's own `Topic.matches`, and keeps MQTT's
rule for `$` topics (MQTT 5.0, 4.7.2), which aiomqtt leaves to the broker."""
from __future__ import annotations

import itertools

import aiomqtt

from twin.document import SourceMachine
from twin.live.mqtt import TopicRoutes, filter_matches

FILTERS = ["fablab/printer-1/state", "fablab/+/state", "fablab/#", "#", "+", "+/+", "fablab/laser/+",
           "fablab/+/+/x", "+/printer-1/#", "fablab/printer-1/state/#", "$SYS/#", "other"]
TOPICS = ["fablab/printer-1/state", "fablab/laser/state", "fablab", "fablab/laser", "fablab/a/b/x", "other",
          "fablab/printer-1/state/extra", "a", "a/b", "fablab//state", "/state"]


def test_every_filter_and_topic_pair_matches_as_aiomqtt_says():
    pairs = list(itertools.product(FILTERS, TOPICS))
    ours = [filter_matches(f.split("/"), t.split("/")) for f, t in pairs]
    theirs = [aiomqtt.Topic(t).matches(f) for f, t in pairs]
    assert [p for p, a, b in zip(pairs, ours, theirs) if a != b] == []
    assert sum(ours) > 20 and sum(not m for m in ours) > 20, "the cases cover both answers"


def test_a_dollar_topic_is_matched_only_by_a_filter_that_names_its_first_level():
    matched = [f for f in FILTERS if filter_matches(f.split("/"), "$SYS/broker/load".split("/"))]
    assert matched == ["$SYS/#"]


def test_routes_name_each_matching_machine_once_and_remember_what_they_found():
    machines = {"printer-1": SourceMachine(topic="fablab/printer-1/state"),
                "any": SourceMachine(topic="fablab/+/state"), "laser-1": SourceMachine(topic="fablab/laser/+")}
    routes = TopicRoutes(machines)
    assert [m for m, _ in routes.machines_of("fablab/printer-1/state")] == ["printer-1", "any"]
    assert [m for m, _ in routes.machines_of("fablab/laser/state")] == ["any", "laser-1"]
    assert routes.machines_of("elsewhere") == []
    assert routes.machines_of("fablab/laser/state") is routes.machines_of("fablab/laser/state")
