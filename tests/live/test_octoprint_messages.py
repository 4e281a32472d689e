"""What the OctoPrint bridge makes of push-socket messages, hostile ones included: each malformed
message or field is counted and dropped, the good fields of the same message pass, nothing raises.

These are the bridge's own parser and a real `Bridge`, fed the frames a faulty or hostile OctoPrint
(or something pretending to be one on its port) could send; the real OctoPrint is in test_octoprint.py.
"""
from __future__ import annotations

import json

import pytest

from twin.document import SourceMachine
from twin.document.model import Source
from twin.live.bridge import Bridge
from twin.live.octoprint import take


def bridge(updates: list) -> Bridge:
    source = Source("printers", "octoprint", "http://127.0.0.1:5000", {"printer-1": SourceMachine()},
                    api_key_env="KEY")
    return Bridge(source, None, lambda machine, props: updates.append((machine, props)), clock=lambda: 1000.0)


def current(**fields) -> bytes:
    update = {"state": {"text": "Printing", "flags": {"printing": True}}, "progress": {"completion": 42.0},
              "job": {"file": {"name": "cube.gcode"}}, "temps": [{"tool0": {"actual": 210.0, "target": 210.0}}],
              "serverTime": 1767441600.5}
    update.update(fields)
    return json.dumps({"current": update}).encode()


def test_a_good_current_message_gives_state_progress_file_and_temperatures():
    updates = []
    got = bridge(updates)
    take(got, "printer-1", current())
    [(machine, properties)] = updates
    assert machine == "printer-1" and got.stats.malformed == 0
    assert {name: value["value"] for name, value in properties.items()} == {
        "state": "Printing", "progress": 42.0, "file": "cube.gcode", "nozzle_temp": 210.0, "nozzle_target": 210.0,
        "print_time_left_s": None, "bed_temp": None, "bed_target": None}  # null: OctoPrint has none (no bed here)
    assert properties["nozzle_temp"]["source_time_s"] == 1767441600.5 and properties["progress"]["unit"] == "%"


@pytest.mark.parametrize("frame", [
    b"not json", b"[1, 2]", b'"current"', b'{"current": NaN}', b'{"current": [1]}', b'{"current": "Printing"}',
    b'{"current": {"state": "Printing"}}', b"\xff\xfe{}", b"{" * 5000, b'{"current": {"progress": 7}}',
    b'{"history": {"state": {"text": "\\ud800", "flags": {}}}}',
])
def test_a_malformed_message_is_counted_and_hands_on_nothing(frame):
    updates = []
    got = bridge(updates)
    take(got, "printer-1", frame)
    assert got.stats.malformed == 1 and got.stats.malformed_by_machine == {"printer-1": 1}
    assert updates == []


@pytest.mark.parametrize(("fields", "dropped"), [
    ({"progress": {"completion": "42"}}, "progress"),
    ({"progress": {"completion": True}}, "progress"),
    ({"progress": {"completion": 2**60}}, "progress"),
    ({"job": {"file": {"name": "\ud800.gcode"}}}, "file"),
    ({"job": {"file": {"name": "x" * 5000}}}, "file"),
    ({"job": {"file": "cube.gcode"}}, "file"),
    ({"temps": [{"tool0": {"actual": [210.0], "target": 210.0}}]}, "nozzle_temp"),
    ({"state": {"text": 3, "flags": {}}}, "state"),
])
def test_a_malformed_field_is_dropped_and_the_rest_of_its_message_passes(fields, dropped):
    updates = []
    got = bridge(updates)
    take(got, "printer-1", current(**fields))
    [(_, properties)] = updates
    assert got.stats.malformed == 1
    assert dropped not in properties and properties["nozzle_target"]["value"] == 210.0


def test_messages_without_printer_state_are_ignored_and_reauth_asks_for_a_new_login():
    updates = []
    got = bridge(updates)
    for frame in (b'{"connected": {"version": "1.11.8"}}', b'{"event": {"type": "PrintStarted"}}',
                  b'{"plugin": {"plugin": "x", "data": {}}}'):
        take(got, "printer-1", frame)
    assert updates == [] and got.stats.malformed == 0
    with pytest.raises(ConnectionError, match="reauthRequired"):
        take(got, "printer-1", b'{"reauthRequired": {"reason": "logout"}}')
