"""`twin demo`, the README's main command: the sample workshop from capture to a served twin."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

SMALL = ["--frames", "60", "--photos", "3"]
MACHINES = {"printer-1", "cnc-1", "lathe-1", "laser-1"}


def twin_command(*args: str, **kwargs):
    return subprocess.run([sys.executable, "-m", "twin", "demo", *args], capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def demo_scan(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "sample_workshop"
    result = twin_command("--no-serve", "-o", str(out), *SMALL, timeout=900)
    assert result.returncode == 0, result.stderr
    return out


def test_demo_builds_the_sample_twin_end_to_end(demo_scan):
    for name in ("cloud.ply", "mesh.ply", "cameras.json", "report.json", "twin.glb", "twin.json", "tiles/tileset.json"):
        assert (demo_scan / name).is_file(), f"the demo did not write {name}"
    report = json.loads((demo_scan / "report.json").read_text())
    assert report["frames"]["used"] >= 50, report["frames"]
    document = json.loads((demo_scan / "twin.json").read_text())
    assert {m["id"] for m in document["machines"]} == MACHINES
    assert len(document["procedures"]) >= 2 and document["tours"]
    cameras = json.loads((demo_scan / "cameras.json").read_text())["frames"]
    assert len(cameras) == report["frames"]["used"]


def test_demo_rerun_reuses_the_capture(demo_scan):
    result = twin_command("--no-serve", "-o", str(demo_scan), *SMALL, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "reusing" in result.stdout


def test_demo_serves_the_twin_and_the_viewer(demo_scan):
    server = subprocess.Popen([sys.executable, "-m", "twin", "demo", "-o", str(demo_scan), *SMALL, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        for line in server.stdout:
            if line.startswith("open "):
                url = line.split()[1].rstrip("/")
                break
        assert url, "twin demo never printed the URL to open"
        with urllib.request.urlopen(f"{url}/twins/{demo_scan.name}/twin.glb", timeout=30) as response:
            assert response.read(4) == b"glTF"
        with urllib.request.urlopen(f"{url}/", timeout=30) as response:
            assert b"<html" in response.read().lower()
    finally:
        server.terminate()
        server.wait(timeout=30)
