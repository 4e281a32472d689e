"""Shared fixtures: where the real captures are, and skipping cleanly where they are not; the
core's thread count put back after a test that changes it; the small scan folder to serve; a real Mosquitto.

Helper modules beside this file (`twin_folder`, `rgbd_scene`, ...) import by name: pytest puts this
folder on `sys.path` for its conftest and its package-less test files, so no test inserts paths.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import twin_folder

from twin import registration

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TWIN_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real test captures (../shared/data); skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (set TWIN_SHARED_DATA to use another copy)")
    return SHARED_DATA


@pytest.fixture
def restore_num_threads():
    """For a test that sets the core's thread count (process-wide): the default is restored after
    it, pass or fail, so no later test runs on a count it did not choose."""
    yield
    registration.set_num_threads(0)


@pytest.fixture(scope="session")
def write_twin_folder():
    """`write_twin_folder(folder, tiles=4, document=None) -> folder`: a small but complete scan
    folder (twin.json, twin.glb, tiles/) to serve; see tests/twin_folder.py."""
    return twin_folder.write_twin_folder


@pytest.fixture
def mosquitto():
    """A real Mosquitto on a free loopback port, per test (the live and scale-out tests' broker)."""
    from live_harness import Mosquitto

    from twin.simulator.broker import find_mosquitto
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh --test installs it)")
    broker = Mosquitto()
    broker.start()
    yield broker
    broker.close()
