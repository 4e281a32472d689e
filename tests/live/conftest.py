"""The live tests' broker: a real Mosquitto on a free loopback port, per test."""
import pytest
from live_harness import MOSQUITTO, Mosquitto


@pytest.fixture
def mosquitto(tmp_path):
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh --test installs it)")
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()
