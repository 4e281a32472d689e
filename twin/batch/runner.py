"""Submitting the captures as cluster tasks and collecting what became of each, as they finish.

The workers tell the client which stage each capture has reached through a Dask queue; the
client passes that on to `on_stage(capture_index, stage)` and each finished job to `on_job`.
A task whose worker died is retried on another worker by the scheduler (up to its
`distributed.scheduler.allowed-failures`); one that keeps killing workers is a failed job.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from distributed import Client, Queue, wait

from twin.batch.jobs import BatchCapture, BatchJob, reconstruct_capture

POLL_SECONDS = 0.5


def run_batch(client: Client, captures: Sequence[BatchCapture], *,
              on_stage: Callable[[int, str], None] | None = None,
              on_job: Callable[[int, BatchJob], None] | None = None) -> list[BatchJob]:
    """Reconstructs every capture as one task on `client`'s cluster; the jobs in the order of `captures`."""
    queue_name = f"twin-batch-stages-{uuid.uuid4().hex}"
    stages = Queue(queue_name, client=client)
    futures = {client.submit(_task, capture, index, queue_name, key=f"reconstruct-{index}-{uuid.uuid4().hex[:8]}",
                             pure=False): index
               for index, capture in enumerate(captures)}
    jobs: list[BatchJob | None] = [None] * len(captures)
    pending = set(futures)
    try:
        while pending:
            try:
                finished, pending = wait(pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished yet: pass on the stages reached meanwhile
                finished = set()
            _relay(stages, on_stage)
            for future in finished:
                index = futures[future]
                jobs[index] = _job_of(future, captures[index])
                if on_job is not None:
                    on_job(index, jobs[index])
    finally:
        for future in pending:
            future.cancel()
    return jobs


def _task(capture: BatchCapture, index: int, queue_name: str) -> BatchJob:
    stages = Queue(queue_name)  # on the worker: the client's queue, by name
    return reconstruct_capture(capture, on_stage=lambda stage: stages.put((index, stage)))


def _relay(stages: Queue, on_stage: Callable[[int, str], None] | None) -> None:
    if stages.qsize() == 0:
        return
    for index, stage in stages.get(batch=True):
        if on_stage is not None:
            on_stage(index, stage)


def _job_of(future, capture: BatchCapture) -> BatchJob:
    if future.status == "finished":
        return future.result()
    error = future.exception()
    reason = str(error) or type(error).__name__
    if type(error).__name__ == "KilledWorker":
        reason = f"the workers running it died each time ({reason})"
    return BatchJob(capture.capture, capture.output, "failed", 0.0, reason)
