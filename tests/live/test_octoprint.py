"""The OctoPrint bridge against the real OctoPrint (PyPI, in .venv-octoprint from scripts/setup.sh --test)
and its bundled virtual printer, started here on loopback; values reach a viewer of `twin serve`."""
from __future__ import annotations

import asyncio
import http.client
import http.cookiejar
import json
import logging
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from live_harness import TIMEOUT, LiveHarness, free_port, live_document, machine_properties, wait_merged

from twin.serve.access import Role

OCTOPRINT = Path(__file__).resolve().parents[2] / ".venv-octoprint" / "bin" / "octoprint"
CONFIG = """server: {firstRun: false, onlineCheck: {enabled: false}, pluginBlacklist: {enabled: false}}
serial: {autoconnect: true, port: VIRTUAL, baudrate: 115200}
plugins:
  _disabled: [announcements, softwareupdate, tracking, pluginmanager, errortracking, discovery, backup, achievements,
              health_check]
  virtual_printer: {enabled: true}
"""
GCODE = "G28\n" + "G4 P150\nG1 X10 Y10 F600\n" * 40  # dwells: a print of a few seconds


class OctoPrint:
    """A real OctoPrint with a user, an application key made through its API, and the virtual printer."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir()
        (folder / "config.yaml").write_text(CONFIG)
        subprocess.run([OCTOPRINT, "--basedir", folder, "user", "add", "--password", "pw", "--admin", "twin"],
                       check=True, capture_output=True)
        self.process = None
        self.api_key = None

    def start(self) -> None:
        self.process = subprocess.Popen([OCTOPRINT, "serve", "--basedir", self.folder, "--port", str(self.port),
                                         "--host", "127.0.0.1", "--iknowwhatimdoing"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._answers():
                return
            time.sleep(0.2)
        raise RuntimeError("OctoPrint did not start")

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/api/version", timeout=1)
        except urllib.error.HTTPError:
            return True  # 403 without a key: it is serving
        except (OSError, http.client.HTTPException):  # not listening yet, or still starting up
            return False
        return True

    def make_key(self) -> str:
        """An application key, as a user makes one in the settings: password login, then appkeys' generate."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(self.url + "/", timeout=TIMEOUT)
        csrf = next(c.value for c in jar if c.name.startswith("csrf_token"))

        def post(path, body):
            request = urllib.request.Request(self.url + path, json.dumps(body).encode(), method="POST", headers={
                "Content-Type": "application/json", "X-CSRF-Token": csrf})
            return json.loads(opener.open(request, timeout=TIMEOUT).read())

        post("/api/login", {"user": "twin", "pass": "pw"})
        self.api_key = post("/api/plugin/appkeys", {"command": "generate", "app": "twin-test"})["api_key"]
        return self.api_key

    def upload_and_print(self, name: str, gcode: str) -> None:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n{gcode}\r\n--{boundary}\r\n"
                f"Content-Disposition: form-data; name=\"print\"\r\n\r\ntrue\r\n--{boundary}--\r\n").encode()
        request = urllib.request.Request(self.url + "/api/files/local", body, method="POST", headers={
            "X-Api-Key": self.api_key, "Content-Type": f"multipart/form-data; boundary={boundary}"})
        urllib.request.urlopen(request, timeout=TIMEOUT).read()

    def serial(self, command: str) -> None:
        """`connect` or `disconnect` the printer's serial port, as a user does in OctoPrint's Connection panel."""
        request = urllib.request.Request(self.url + "/api/connection", json.dumps({"command": command}).encode(),
                                         method="POST", headers={"X-Api-Key": self.api_key,
                                                                 "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=TIMEOUT).read()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(TIMEOUT)
            self.process = None


@pytest.fixture
def octoprint(tmp_path):
    if not OCTOPRINT.is_file():
        pytest.skip("OctoPrint is not installed in .venv-octoprint (scripts/setup.sh --test installs it)")
    server = OctoPrint(tmp_path / "octoprint")
    server.start()
    server.make_key()
    yield server
    server.stop()


def octoprint_document(url: str) -> dict:
    document = live_document()
    document["sources"] = [{"id": "printers", "kind": "octoprint", "url": url, "api_key_env": "TWIN_TEST_OCTOPRINT_KEY",
                            "machines": {"printer-1": {}}}]
    return document


@pytest.mark.slow
def test_the_virtual_printer_reaches_a_viewer_prints_and_goes_offline(tmp_path, write_twin_folder, octoprint,
                                                                       monkeypatch):
    monkeypatch.setenv("TWIN_TEST_OCTOPRINT_KEY", octoprint.api_key)
    harness = LiveHarness(tmp_path, write_twin_folder, octoprint_document(octoprint.url))

    async def scenario():
        async with harness.running(), harness.client(Role.VIEWER) as viewer:
            first = await wait_merged(viewer, "printer-1", state=("Operational", "good"), bed_target=(0.0, "good"))
            assert first["nozzle_temp"]["unit"] == "°C" and isinstance(first["nozzle_temp"]["value"], float)
            assert first["progress"]["value"] is None
            await asyncio.to_thread(octoprint.upload_and_print, "cube.gcode", GCODE)
            printing = await wait_merged(viewer, "printer-1", state=("Printing", "good"), file=("cube.gcode", "good"))
            assert printing["progress"]["unit"] == "%"
            progress = []

            def rising(message) -> bool:
                value = machine_properties(message, "printer-1").get("progress", {}).get("value")
                if isinstance(value, (int, float)):
                    progress.append(value)
                return len(progress) >= 2 and progress[-1] > progress[0] > 0 or progress[-1:] == [100.0]
            await viewer.wait(rising)
            assert progress[-1] > progress[0]
            assert harness.server.bridges["shop"][0].stats.malformed == 0
            # The printer's serial port closed (cable pulled, printer off): OctoPrint is up, the printer is not.
            await asyncio.to_thread(octoprint.serial, "disconnect")
            await wait_merged(viewer, "printer-1", state=("Offline", "good"))
            await asyncio.to_thread(octoprint.serial, "connect")
            await wait_merged(viewer, "printer-1", state=("Operational", "good"))
            octoprint.stop()
            await wait_merged(viewer, "printer-1", state=(viewer.merged["printer-1"]["state"]["value"], "offline"))
            seen = json.dumps(viewer.received)
        assert octoprint.api_key not in seen

    try:
        asyncio.run(scenario())
    finally:
        harness.close()


@pytest.mark.slow
def test_a_wrong_api_key_leaves_the_source_offline_with_a_clear_log_line(tmp_path, write_twin_folder, octoprint,
                                                                          monkeypatch, caplog):
    monkeypatch.setenv("TWIN_TEST_OCTOPRINT_KEY", "not-the-key")
    harness = LiveHarness(tmp_path, write_twin_folder, octoprint_document(octoprint.url))

    async def scenario():
        with caplog.at_level(logging.WARNING, logger="twin.live.bridge"):
            async with harness.running():
                bridge = harness.server.bridges["shop"][0]
                async with asyncio.timeout(TIMEOUT):
                    while bridge.stats.failures < 1:
                        await asyncio.sleep(0.05)
                assert not bridge.online and bridge.stats.connects == 0

    try:
        asyncio.run(scenario())
    finally:
        harness.close()
    assert "refused the API key in TWIN_TEST_OCTOPRINT_KEY" in caplog.text
    assert "not-the-key" not in caplog.text
