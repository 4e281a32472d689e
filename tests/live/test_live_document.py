"""The `sources` part of the twin document: schema, references, model and round trip."""
from __future__ import annotations

import copy

import pytest
from twin_folder import sample_document

from twin.document import DocumentError, LiveProperty, from_dict, to_dict, validate


def document_with_sources() -> dict:
    document = sample_document("shop")
    laser = copy.deepcopy(document["machines"][0])
    laser.update(id="laser-1", name="Laser", kind="laser_cutter")
    mill = copy.deepcopy(document["machines"][0])
    mill.update(id="cnc-1", name="Mill", kind="cnc_mill")
    document["machines"] += [laser, mill]
    document["sources"] = [  # the issue's example
        {"id": "shop-mqtt", "kind": "mqtt", "url": "mqtt://127.0.0.1:1883", "machines": {
            "printer-1": {"topic": "fablab/printer-1/state"},
            "laser-1": {"topic": "fablab/laser/+", "properties": {"power": {"path": "/power_w", "unit": "W"}}}}},
        {"id": "mill", "kind": "opcua", "url": "opc.tcp://192.168.1.20:4840", "machines": {
            "cnc-1": {"nodes": {"spindle_rpm": "ns=2;s=Spindle.Speed", "status": "ns=2;s=Machine.State"}}}},
        {"id": "printers", "kind": "octoprint", "url": "http://octopi.local", "api_key_env": "OCTOPRINT_KEY",
         "machines": {"printer-1": {}}},
    ]
    return document


def problems(change) -> str:
    document = document_with_sources()
    change(document)
    with pytest.raises(DocumentError) as caught:
        validate(document)
    return str(caught.value)


def test_the_issues_sources_are_a_valid_document_and_round_trip():
    built = from_dict(document_with_sources())
    mqtt, opcua, octoprint = built.sources
    assert (mqtt.kind, mqtt.machines["printer-1"].topic, mqtt.machines["printer-1"].properties) == (
        "mqtt", "fablab/printer-1/state", {})
    assert mqtt.machines["laser-1"].properties == {"power": LiveProperty(path="/power_w", unit="W")}
    assert opcua.machines["cnc-1"].nodes["spindle_rpm"].node == "ns=2;s=Spindle.Speed"
    assert octoprint.api_key_env == "OCTOPRINT_KEY"
    assert to_dict(built)["sources"] == document_with_sources()["sources"]
    assert from_dict(to_dict(built)) == built
    with_units = document_with_sources()
    with_units["sources"][1]["machines"]["cnc-1"]["nodes"]["spindle_rpm"] = {"node": "ns=2;i=7", "unit": "rpm"}
    assert from_dict(with_units).sources[1].machines["cnc-1"].nodes["spindle_rpm"] == LiveProperty(node="ns=2;i=7",
                                                                                                  unit="rpm")


@pytest.mark.parametrize("field", ["password", "username", "api_key", "token"])
def test_secrets_are_refused_inline_and_never_repeated_in_the_error(field):
    message = problems(lambda d: d["sources"][0].update({field: "hunter2-secret"}))
    assert f"sources[0].{field}" in message and "environment variable" in message
    assert "hunter2-secret" not in message


def test_a_password_in_the_url_is_refused_without_repeating_it():
    message = problems(lambda d: d["sources"][0].update(url="mqtt://maria:hunter2-secret@broker:1883"))
    assert "sources[0].url" in message and "password_env" in message and "hunter2-secret" not in message


def test_sources_name_machines_of_the_document_and_have_unique_ids():
    assert "names the machine 'laser-9'" in problems(
        lambda d: d["sources"][0]["machines"].update({"laser-9": {"topic": "a/b"}}))
    assert "the id 'mill' is already used by sources[1]" in problems(
        lambda d: d["sources"].append(copy.deepcopy(d["sources"][1])))


def test_each_kind_has_its_own_mapping_and_clear_errors():
    assert "sources[1].machines.cnc-1" in problems(lambda d: d["sources"][1]["machines"]["cnc-1"].update(topic="x"))
    assert "OPC UA node id" in problems(
        lambda d: d["sources"][1]["machines"]["cnc-1"]["nodes"].update(x="Spindle.Speed"))
    assert "'#' stands for the remaining levels" in problems(
        lambda d: d["sources"][0]["machines"]["printer-1"].update(topic="fablab/#/state"))
    assert "'+' stands for one whole level" in problems(
        lambda d: d["sources"][0]["machines"]["printer-1"].update(topic="fablab/printer+"))
    assert "api_key_env: is for octoprint sources" in problems(lambda d: d["sources"][0].update(api_key_env="K"))
    assert "'modbus' is not one of" in problems(lambda d: d["sources"][0].update(kind="modbus"))
    assert "sources[1].url" in problems(lambda d: d["sources"][1].update(url="mqtt://127.0.0.1"))
    assert "sources[0].machines.printer-1" in problems(lambda d: d["sources"][0]["machines"]["printer-1"].pop("topic"))
    assert "a JSON pointer" in problems(
        lambda d: d["sources"][0]["machines"]["laser-1"]["properties"]["power"].update(path="power_w"))
