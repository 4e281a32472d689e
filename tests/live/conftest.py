"""The live tests' broker: a real Mosquitto on a free loopback port, per test."""
import pytest
from live_harness import Mosquitto

from twin.simulator.broker import find_mosquitto


@pytest.fixture
def mosquitto():
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh --test installs it)")
    broker = Mosquitto()
    broker.start()
    yield broker
    broker.close()
