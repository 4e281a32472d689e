"""What a bridge lets in (the edge rule), how payloads become properties, and value qualities."""
from __future__ import annotations

import pytest

from twin.document import LiveProperty, SourceMachine
from twin.document.model import Source
from twin.live.bridge import Backoff, Bridge
from twin.live.mqtt import properties_of, take
from twin.live.state import LiveValue, Quality, SourceState
from twin.live.values import Malformed, parse_payload, resolve_pointer, value_problem


def bridge(updates: list, clock=lambda: 1000.0) -> Bridge:
    source = Source("shop-mqtt", "mqtt", "mqtt://127.0.0.1", {"printer-1": SourceMachine(topic="a/#")})
    return Bridge(source, None, lambda machine, props: updates.append((machine, props)), clock=clock)


@pytest.mark.parametrize("value", ["\ud800", {"k\udfff": 1}, [1, "\ud800"], 2**53, -(2**53), float("nan"),
                                   float("inf"), b"bytes", {"deep": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}])
def test_the_edge_rule_refuses_what_viewers_could_not_get(value):
    assert value_problem(value) is not None


@pytest.mark.parametrize("value", [None, True, 0, 2**53 - 1, -1.5, "héllo °C", [1, "a"], {"a": {"b": [1.0]}}])
def test_the_edge_rule_lets_plain_json_through(value):
    assert value_problem(value) is None


@pytest.mark.parametrize("payload", [b"not json", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe", b"[" * 5000,
                                     b" " * (64 * 1024 + 1)])
def test_payloads_are_parsed_strictly(payload):
    with pytest.raises(Malformed):
        parse_payload(payload)


def test_json_pointers_follow_rfc_6901():
    document = {"a/b": {"~x": [10, 20]}, "": 3}
    assert resolve_pointer(document, "") is document
    assert resolve_pointer(document, "/a~1b/~0x/1") == 20
    assert resolve_pointer(document, "/") == 3
    for missing in ("/nope", "/a~1b/~0x/2", "/a~1b/~0x/01"):
        with pytest.raises(KeyError):
            resolve_pointer(document, missing)


def test_each_top_level_key_is_a_property_and_bad_values_alone_are_dropped():
    updates = []
    where = SourceMachine(topic="a/#")
    take(bridge(updates), "printer-1", where, b'{"nozzle_temp": 212.5, "label": "\\ud800", "big": 9007199254740993}')
    [(machine, properties)] = updates
    assert machine == "printer-1"
    assert properties == {"nozzle_temp": {"value": 212.5, "source_time_s": 1000.0, "quality": "good"}}
    b = bridge(updates := [])
    for payload in (b"[1, 2]", b"nope", b'{"label": "\\ud800"}'):
        take(b, "printer-1", where, payload)
    assert updates == [] and b.stats.malformed == 3 and b.stats.malformed_by_machine == {"printer-1": 3}


def test_properties_by_pointer_with_units_and_the_whole_payload():
    where = SourceMachine(topic="a/+", properties={"power": LiveProperty(path="/laser/power_w", unit="W"),
                                                   "raw": LiveProperty(path="", unit="%")})
    values, problems = properties_of(b'{"laser": {"power_w": 40}}', where, bridge([]))
    assert values["power"].as_json() == {"value": 40, "unit": "W", "source_time_s": 1000.0, "quality": "good"}
    assert values["raw"].value == {"laser": {"power_w": 40}} and problems == []
    values, problems = properties_of(b"62.5", where, bridge([]))
    assert set(values) == {"raw"} and values["raw"].value == 62.5  # /laser/power_w is simply not in this one


def test_offline_and_stale_mark_the_last_values():
    state = SourceState(stale_after_s=10)
    state.update("printer-1", {"t": LiveValue(200, 0.0, received_s=0.0), "u": LiveValue(1, 0.0, received_s=8.0)})
    assert state.stale(5.0) == {}
    assert {k: v.quality for k, v in state.stale(12.0)["printer-1"].items()} == {"t": Quality.STALE}
    offline = state.offline()["printer-1"]
    assert {k: (v.value, v.quality) for k, v in offline.items()} == {"t": (200, Quality.OFFLINE),
                                                                      "u": (1, Quality.OFFLINE)}
    assert state.offline() == {} and SourceState(None).stale(1e9) == {}


def test_backoff_doubles_up_to_its_cap():
    backoff = Backoff(first_s=0.5, max_s=4.0, jitter=0.0)
    assert [backoff.wait_s(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_missing_credential_variable_is_a_connection_fault_that_names_it():
    b = bridge([])
    b.env = {}
    with pytest.raises(ConnectionError, match="SHOP_MQTT_PASSWORD"):
        b.secret("SHOP_MQTT_PASSWORD")
    assert b.secret(None) is None
