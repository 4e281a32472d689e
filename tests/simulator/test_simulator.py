"""The simulated workshop: values that change like machines do, spoken over real MQTT (Mosquitto)
and OPC UA (asyncua), read by `twin serve`'s own bridges into a viewer's machine state."""
from __future__ import annotations

import asyncio

import pytest
import yaml
from live_harness import LiveHarness

from twin.serve.access import Role
from twin.simulator import SimulatedWorkshop
from twin.simulator.broker import find_mosquitto
from twin.simulator.machines import ALARM_EVERY_PRINTS, PRINTER_CYCLE_S, SimulatedMachine
from twin.synth import DEFAULT_SPEC

SAMPLE_DOCUMENT = DEFAULT_SPEC.with_name("sample_workshop.twin.yaml")


def test_a_printer_heats_prints_to_100_percent_cools_and_every_third_print_raises_an_alarm():
    printer = SimulatedMachine("printer-1", "3d_printer", seed=1)
    samples = [printer.values(t) for t in range(0, int(PRINTER_CYCLE_S * ALARM_EVERY_PRINTS), 2)]
    states = [s["state"] for s in samples]
    assert {"Heating", "Printing", "Cooling", "Operational"} <= set(states)
    progress = [s["progress"] for s in samples if s["state"] == "Printing"]
    assert min(progress) < 5 and max(progress) > 95
    hot = [s["nozzle_temp"] for s in samples if s["state"] == "Printing"]
    assert 200 < sorted(hot)[len(hot) // 2] < 230  # printing temperature most of the time
    assert sum(t > 265 for t in hot) >= 2 and sum(t > 265 for t in hot) < len(hot) / 10  # a short alarm
    assert printer.values(100.0) == SimulatedMachine("printer-1", "3d_printer", seed=1).values(100.0)


def test_a_spindle_starts_and_stops_and_unknown_kinds_are_refused_by_name():
    mill = SimulatedMachine("cnc-1", "cnc_mill")
    rpm = [mill.values(t)["spindle_rpm"] for t in range(90)]
    assert min(rpm) == 0 and max(rpm) == 12000
    with pytest.raises(ValueError, match="'robot-1'.*'robot_arm' is not simulated"):
        SimulatedMachine("robot-1", "robot_arm")
    with pytest.raises(ValueError, match="no machine of a simulated kind"):
        SimulatedWorkshop({"machines": [{"id": "x", "kind": "robot_arm"}]})


def test_without_a_broker_every_machine_is_served_over_opcua_and_the_document_says_so():
    sample = yaml.safe_load(SAMPLE_DOCUMENT.read_text(encoding="utf-8"))
    workshop = SimulatedWorkshop(sample, own_broker=False)
    assert [s["kind"] for s in workshop.sources()] == ["opcua"]
    assert set(workshop.sources()[0]["machines"]) == {"printer-1", "laser-1", "cnc-1", "lathe-1"}
    document = workshop.document_with_sources({**sample, "sources": [{"id": "simulated-mqtt", "kind": "mqtt",
                                                                       "url": "mqtt://old", "machines": {}}]})
    assert [s["id"] for s in document["sources"]] == ["simulated-opcua"]  # the earlier simulation's replaced
    printer = next(m for m in document["machines"] if m["id"] == "printer-1")
    assert printer["status_rules"]["alarm"] == "nozzle_temp > 265"


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed (scripts/setup.sh --test)")
def test_twin_serve_reads_every_simulated_machine_over_mqtt_and_opcua_with_its_status(tmp_path, write_twin_folder):
    sample = yaml.safe_load(SAMPLE_DOCUMENT.read_text(encoding="utf-8"))
    workshop = SimulatedWorkshop(sample, interval_s=0.2)
    assert {s["kind"] for s in workshop.sources()} == {"mqtt", "opcua"}
    document = workshop.document_with_sources(sample)
    harness = LiveHarness(tmp_path, write_twin_folder, document)

    wanted = {"printer-1": "nozzle_temp", "laser-1": "power", "cnc-1": "spindle_rpm", "lathe-1": "spindle_rpm"}

    async def scenario():
        merged: dict[str, dict] = {machine: {} for machine in wanted}

        def complete(message) -> bool:
            if isinstance(message, dict) and message.get("op") == "machine_states":
                for machine, properties in message["machines"].items():
                    merged[machine].update(properties)
            return all(wanted[m] in merged[m] and "status" in merged[m] for m in wanted)

        async with harness.running(), harness.client(Role.VIEWER) as viewer:
            await viewer.wait(complete)
        return merged

    try:
        with workshop.running_in_thread():
            merged = asyncio.run(scenario())
    finally:
        harness.close()
    assert merged["printer-1"]["nozzle_temp"]["unit"] == "°C"
    assert merged["cnc-1"]["spindle_rpm"]["unit"] == "rpm"
    for machine in merged.values():
        assert machine["status"]["value"] in ("idle", "running", "alarm") and machine["status"]["quality"] == "good"


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed (scripts/setup.sh --test)")
def test_twin_simulate_writes_the_sources_into_the_twin_and_stops_on_ctrl_c(tmp_path, write_twin_folder):
    import json
    import signal
    import subprocess
    import sys

    from twin.document import validate

    sample = yaml.safe_load(SAMPLE_DOCUMENT.read_text(encoding="utf-8"))
    folder = write_twin_folder(tmp_path / "shop", document=sample)
    process = subprocess.Popen([sys.executable, "-m", "twin", "simulate", str(folder), "--write-sources",
                                "--opcua-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("simulating"):
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    printed = "".join(lines) + out
    assert "OPC UA  opc.tcp://127.0.0.1:" in printed and "cnc-1, lathe-1" in printed
    assert "MQTT    mqtt://127.0.0.1:" in printed and "stopped" in printed
    written = json.loads((folder / "twin.json").read_text(encoding="utf-8"))
    validate(written)
    assert {s["id"] for s in written["sources"]} == {"simulated-opcua", "simulated-mqtt"}
