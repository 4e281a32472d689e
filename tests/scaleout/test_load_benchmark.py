"""benchmarks/load.py's scale-out setups still run end to end (a tiny load, no timing asserted): two
processes with Redis, and with Redis and PostgreSQL, every viewer seeing every revision."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from engines import PG_BIN, REDIS_SERVER

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(REDIS_SERVER is None or PG_BIN is None,
                    reason="needs redis-server and PostgreSQL's binaries (scripts/setup.sh --test installs them)")
def test_the_load_benchmark_runs_across_processes_and_prints_a_cost_model():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--viewers", "4", "8", "--seconds",
                          "1.5", "--tile-clients", "0", "--setups", "redis", "postgres"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = [line.split(" | ") for line in run.stdout.splitlines() if line[:1].isdigit() and " | " in line]
    assert [(row[0], row[16]) for row in rows] == [("4", "redis"), ("8", "redis"), ("4", "postgres"), ("8", "postgres")]
    for row in rows:
        assert row[1] == row[0] and row[6] == f"{row[0]}/{row[0]}" and row[7] == "0"  # all in order, none cut off
        sent = int(row[2].split("/")[1])
        assert sent >= 5 and row[2] == f"{sent}/{sent}"
    assert "cost model for 50,000 viewers" in run.stdout and "redis:" in run.stdout and "postgres:" in run.stdout
