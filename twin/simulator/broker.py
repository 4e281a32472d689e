"""A Mosquitto broker of the simulation's own (Debian's `mosquitto`), on a loopback port, while it runs."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 10.0


def find_mosquitto() -> str | None:
    """The mosquitto program (Debian installs it in /usr/sbin, often not on a user's PATH), or None."""
    return shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if Path(p).is_file()), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MosquittoBroker:
    """A real broker on 127.0.0.1:`port` (a free one by default), anonymous, without persistence;
    stopped and started again at will."""

    def __init__(self, port: int | None = None, program: str | None = None):
        self.program = program or find_mosquitto()
        if self.program is None:
            raise ValueError("mosquitto is not installed (Debian: apt install mosquitto)")
        self.port = port or free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="twin-mosquitto-")
        self.config = Path(self._folder.name) / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([self.program, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at once (port {self.port} taken?)")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {START_TIMEOUT_S:g} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(START_TIMEOUT_S)
            self.process = None

    def close(self) -> None:
        self.stop()
        self._folder.cleanup()
