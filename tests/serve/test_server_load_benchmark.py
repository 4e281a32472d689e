"""benchmarks/load.py still runs end to end (a tiny load, no timing asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_load_benchmark_runs_and_every_viewer_sees_every_revision():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--viewers", "3", "--seconds", "1.5",
                          "--tile-clients", "1"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    rows = [line.split(" | ") for line in run.stdout.splitlines() if line[:1].isdigit() and " | " in line]
    row = rows[-1]  # the table's last row (the cost model follows it)
    viewers, connected, acked, in_order, cut_off = row[0], row[1], row[2], row[6], row[7]
    assert (viewers, connected, in_order, cut_off) == ("3", "3", "3/3", "0")
    sent = int(acked.split("/")[1])
    assert sent >= 5 and acked == f"{sent}/{sent}"
