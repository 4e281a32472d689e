"""The Dask cluster a batch runs on: a local cluster of worker processes, or a running scheduler.

Workers are processes with one task thread each: a reconstruction holds the GIL in Python stages
and uses its own threads in the C++ core, so one task per process is what scales.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster


def engine_version() -> str:
    return f"dask {dask.__version__}"


@contextmanager
def local_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A client of the scheduler at `scheduler` (tcp://HOST:8786), else of a new local cluster of
    `workers` processes (default: one per core), closed when the block ends."""
    if scheduler is not None:
        if workers is not None:
            raise ValueError("give either a number of local workers or the address of a running scheduler, not both")
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as error:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
        with client:
            yield client
        return
    count = (os.cpu_count() or 1) if workers is None else workers
    if count < 1:
        raise ValueError(f"a local cluster needs at least one worker, got {count}")
    # Dashboard on a free port: several batches may run on one machine.
    with LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def worker_count(client: Client) -> int:
    return len(client.scheduler_info()["workers"])


def dashboard_link(client: Client) -> str | None:
    """The Dask dashboard's address, where the scheduler serves one (it needs bokeh)."""
    services = client.scheduler_info().get("services", {})
    return client.dashboard_link if "dashboard" in services else None
