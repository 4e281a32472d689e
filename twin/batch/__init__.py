"""Batch: many captures reconstructed as tasks on a Dask distributed cluster (local or remote),
and merged into one site (`twin.batch.site`).

Room: floor 4; imports reconstruct, registration, scanfolder and document (and Dask); nothing
imports it but the CLI.

    from twin.batch import BatchCapture, local_client, run_batch, scan_folders
    outputs = scan_folders(captures, "scans")            # one scan folder per capture, named after it
    with local_client(workers=2) as client:              # or distributed.Client("tcp://host:8786")
        jobs = run_batch(client, [BatchCapture(c, o, {}) for c, o in zip(captures, outputs)])
    [(job.status, job.reason) for job in jobs]           # "done" | "skipped" | "failed", reason when failed
"""
from twin.batch.cluster import engine_version, local_client, worker_count
from twin.batch.jobs import BatchCapture, BatchJob, reconstruct_capture, scan_folders
from twin.batch.runner import run_batch

__all__ = ["BatchCapture", "BatchJob", "engine_version", "local_client", "reconstruct_capture", "run_batch",
           "scan_folders", "worker_count"]
