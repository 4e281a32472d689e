"""A machine's status from its document's rules (twin.live.status), and the document's checks of them."""
import pytest
from twin_folder import sample_document

from twin.document import validate as validate_document
from twin.live.status import MachineStatus


def value(v, quality="good", t=100.0):
    return {"value": v, "source_time_s": t, "quality": quality}


def printer_document(rules: dict | None) -> dict:
    document = sample_document("shop")
    if rules is not None:
        document["machines"][0]["status_rules"] = rules
    return document


RULES = {"alarm": "nozzle_temp > 265", "running": "state == 'Printing'"}


def test_status_follows_the_rules_alarm_winning_over_running_and_idle_when_none_holds():
    status = MachineStatus(printer_document(RULES))
    seen = status.with_status("printer-1", {"state": value("Printing"), "nozzle_temp": value(210.0)})
    assert seen["status"] == value("running")
    # The status is sent only when it changes.
    assert "status" not in status.with_status("printer-1", {"nozzle_temp": value(215.0, t=101.0)})
    assert status.with_status("printer-1", {"nozzle_temp": value(270.0, t=102.0)})["status"] == value("alarm", t=102.0)
    assert status.with_status("printer-1", {"nozzle_temp": value(200.0, t=103.0),
                                            "state": value("Operational", t=103.0)})["status"]["value"] == "idle"


def test_offline_sources_make_the_machine_offline_and_stale_inputs_make_the_status_stale():
    status = MachineStatus(printer_document(RULES))
    status.with_status("printer-1", {"state": value("Printing"), "nozzle_temp": value(210.0)})
    stale = status.with_status("printer-1", {"nozzle_temp": value(210.0, "stale")})["status"]
    assert (stale["value"], stale["quality"]) == ("running", "stale")
    offline = status.with_status("printer-1", {"state": value("Printing", "offline"),
                                               "nozzle_temp": value(210.0, "offline")})["status"]
    assert (offline["value"], offline["quality"]) == ("offline", "offline")
    # An offline value takes no part in the rules: a hot nozzle last seen before the outage is no alarm now.
    status.with_status("printer-1", {"nozzle_temp": value(300.0, "offline")})
    back = status.with_status("printer-1", {"state": value("Operational")})["status"]
    assert (back["value"], back["quality"]) == ("idle", "stale")  # idle as far as it knows: nozzle_temp is not back
    assert status.with_status("printer-1", {"nozzle_temp": value(200.0)})["status"]["quality"] == "good"


def test_machines_without_rules_get_no_status_and_a_payloads_own_status_never_contradicts_the_rules():
    assert MachineStatus(printer_document(None)).with_status("printer-1", {"status": value("weird")}) == {
        "status": value("weird")}
    status = MachineStatus(printer_document(RULES))
    assert status.with_status("printer-1", {"status": value("running")}) == {}
    assert status.with_status("printer-1", {"status": value("x"), "nozzle_temp": value(300.0)})["status"][
        "value"] == "alarm"


@pytest.mark.parametrize("rules, pointer, words", [
    ({"alarm": "nozzle_temp >"}, "machines[0].status_rules.alarm", "expected a number"),
    ({"broken": "a > 1"}, "machines[0].status_rules", "broken"),
    ({}, "machines[0].status_rules", ""),
])
def test_the_document_refuses_rules_that_do_not_parse_or_are_not_alarm_and_running(rules, pointer, words):
    with pytest.raises(ValueError) as error:
        validate_document(printer_document(rules))
    assert pointer in str(error.value) and words in str(error.value)


def test_the_document_refuses_a_source_status_property_on_a_machine_whose_rules_make_its_status():
    document = printer_document(RULES)
    document["sources"] = [{"id": "mill", "kind": "opcua", "url": "opc.tcp://127.0.0.1:4840", "machines": {
        "printer-1": {"nodes": {"status": "ns=2;s=Machine.State"}}}}]
    with pytest.raises(ValueError, match=r"sources\[0\]\.machines\.printer-1: .*status_rules"):
        validate_document(document)
    document["sources"][0]["machines"]["printer-1"]["nodes"] = {"state": "ns=2;s=Machine.State"}
    validate_document(document)
