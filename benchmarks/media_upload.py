"""A 50 MB media upload to `twin serve` over loopback: throughput, and the server's memory during it.

A real `twin serve` process is started on a fresh scan folder and database; this process streams
an H.264 MP4 of --megabytes (built box by box, tests/media_files.py) from disk to
`POST /twins/NAME/media` while a thread samples the server's resident memory (VmRSS in
/proc/PID/status) every 10 ms. The body is streamed to a temporary file in media/, so the peak
should stay near the resting size whatever the upload's size. Reports, per run: MB/s from the
first byte sent to the answer (sniffing, the MP4 walk, hashing and fsync included), the server's
RSS before, its peak during, and the difference, for an upload half as large first and then the
full one, to show the difference does not grow with the size. Loopback only; other work on the machine's cores shows
up in the throughput.

    python benchmarks/media_upload.py                 # 50 MB
    python benchmarks/media_upload.py --megabytes 20
"""
from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Benchmarks run as scripts and share helpers with the tests; tests/ is no package, so a script
# can only reach them by this path.
sys.path.insert(0, str(ROOT / "tests"))

from media_files import mp4  # noqa: E402
from twin_folder import write_twin_folder  # noqa: E402

from twin.serve.access import ALL_TWINS, Role, new_token  # noqa: E402
from twin.serve.sqlite_store import SqliteStore  # noqa: E402

_CHUNK_BYTES = 1 << 20


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


class RssSampler(threading.Thread):
    """Samples a process's resident memory until stopped; `peak_mb` is the largest seen."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self._done = pid, 0.0, threading.Event()

    def run(self):
        while not self._done.is_set():
            self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            time.sleep(0.01)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def upload(port: int, twin: str, token: str, file: Path, server_pid: int) -> dict:
    size = file.stat().st_size
    before = rss_mb(server_pid)
    sampler = RssSampler(server_pid)
    sampler.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    connection.putrequest("POST", f"/twins/{twin}/media")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    with open(file, "rb") as body:
        while chunk := body.read(_CHUNK_BYTES):
            connection.send(chunk)
    response = connection.getresponse()
    answer = response.read()
    seconds = time.perf_counter() - start
    peak = sampler.stop()
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"the upload was refused: {response.status} {answer.decode()}")
    return {"mb": size / 1e6, "seconds": seconds, "path": json.loads(answer)["path"],
            "rss_before_mb": before, "rss_peak_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=50.0, help="size of the first upload (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="twin-media-") as tmp:
        folder = write_twin_folder(Path(tmp) / "shop")
        store = SqliteStore(Path(tmp) / "twin.db")
        token = new_token()
        store.add_token(token, "bench-artisan", Role.ARTISAN, ALL_TWINS)
        store.close()
        server = subprocess.Popen([sys.executable, "-m", "twin", "serve", str(folder), "--port", "0",
                                   "--db", str(Path(tmp) / "twin.db"), "--no-admin-link"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = next(int(m.group(1)) for line in server.stdout
                        if (m := re.match(r"open http://127\.0\.0\.1:(\d+)/", line)))
            print(f"{'upload MB':>10} {'seconds':>8} {'MB/s':>7} {'RSS before MB':>14} {'peak MB':>8} "
                  f"{'growth MB':>10}")
            # The size limit is 50 MB (MediaLimits' default): the second run stays under it too.
            for megabytes in (args.megabytes / 2, args.megabytes):
                file = Path(tmp) / f"video-{megabytes:.0f}.mp4"
                file.write_bytes(mp4(samples_bytes=int(megabytes * 1e6) - 4096))
                row = upload(port, "shop", token, file, server.pid)
                print(f"{row['mb']:>10.1f} {row['seconds']:>8.2f} {row['mb'] / row['seconds']:>7.1f} "
                      f"{row['rss_before_mb']:>14.1f} {row['rss_peak_mb']:>8.1f} "
                      f"{row['rss_peak_mb'] - row['rss_before_mb']:>10.1f}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
