"""`twin batch`: many captures reconstructed at once, one task each on a Dask cluster."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from tqdm import tqdm

from twin.cli.progress import stage_progress
from twin.cli.reconstruct import add_reconstruct_options, reconstruct_options

COMMAND = "batch"
HELP = "reconstruct many captures at once, one task each on a Dask cluster (local or remote)"
DESCRIPTION = """\
Reconstruct every CAPTURE (any kind `twin reconstruct` reads) into its own scan folder
OUT/NAME, named after the capture, as one task on a Dask distributed cluster: a local cluster
of worker processes by default (--workers, one per core), or the running scheduler given with
--scheduler. With a remote scheduler, the captures and OUT must be paths that every worker can
read and write (a shared folder mounted at the same place everywhere).

The reconstruction settings apply to every capture. A rerun skips the scans and stages that
finished before (their files are only ever complete: a worker that dies mid-task leaves none
half-written, and the scheduler retries the task on another worker). A capture that fails is
reported with its reason and does not stop the others; the exit code is then 1.

With --merge, the scans are then put together into one site, OUT/site: overlapping scans are
registered pairwise as cluster tasks (each scan with the next capture and with the scans that
look most like it, not every pair), one robust pose graph places them all in the first scan's
frame, and OUT/site gets the merged, de-duplicated cloud.ply, anchors.json with the markers of
all scans, and site.json with each scan's placement and residual. A scan that no trusted
alignment reaches is reported as not placed (exit code 1).

examples:
  twin batch captures/*.r3d -o scans
  twin batch hall/part1 hall/part2 hall/part3 -o scans/hall --workers 2 --voxel-size 0.02
  twin batch /shared/captures/* -o /shared/scans --scheduler tcp://10.0.0.5:8786 --json > batch.json
  twin batch hall/part* -o scans/hall --merge       # then one site: scans/hall/site/cloud.ply
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("captures", type=Path, nargs="+", metavar="CAPTURE", help="captures: folders or .r3d files")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="folder for the scan folders, one OUT/NAME per capture (created if needed)")
    cluster = parser.add_argument_group("cluster")
    cluster.add_argument("--workers", type=int, metavar="N", help="worker processes of the local cluster "
                                                                  "(default: one per core)")
    cluster.add_argument("--scheduler", metavar="tcp://HOST:8786",
                         help="run on this running Dask scheduler instead of a local cluster")
    site = parser.add_argument_group("site")
    site.add_argument("--merge", action="store_true", help="merge the scans into one site, OUT/site")
    site.add_argument("--merge-voxel-size", type=float, default=0.05, metavar="M",
                      help="registration resolution of the merge in metres (default: 0.05)")
    add_reconstruct_options(parser)
    parser.add_argument("--json", action="store_true", help="print what became of each capture as JSON")


def run(args: argparse.Namespace) -> int:
    from twin.batch import BatchCapture, engine_version, local_client, scan_folders, worker_count
    from twin.batch.cluster import dashboard_link

    outputs = scan_folders(args.captures, args.output)
    # Options are checked against every capture before any work starts.
    captures = [BatchCapture(capture, output, reconstruct_options(args, capture))
                for capture, output in zip(args.captures, outputs)]
    if not args.verbose:  # the scheduler's and workers' chatter, in this process too
        logging.getLogger("distributed").setLevel(logging.WARNING)
    start = time.perf_counter()
    with local_client(args.workers, args.scheduler) as client:
        workers = worker_count(client)
        link = dashboard_link(client)
        if link:
            print(f"Dask dashboard: {link}", file=sys.stderr)
        jobs = _run_with_bars(client, captures)
        site = _merge(client, jobs, args) if args.merge else None
    seconds = time.perf_counter() - start

    if args.json:
        print(json.dumps({"engine": engine_version(), "workers": workers,
                          "jobs": [job.as_report() for job in jobs],
                          **({"site": _site_json(site, args)} if args.merge else {}),
                          "seconds": round(seconds, 3)}, indent=2))
    else:
        for job in jobs:
            note = f": {job.reason}" if job.reason else ""
            print(f"{job.status:8} {job.capture} -> {job.output} ({job.seconds:.1f} s){note}")
        counts = {status: sum(job.status == status for job in jobs) for status in ("done", "skipped", "failed")}
        print(f"{len(jobs)} captures on {workers} workers in {seconds:.1f} s: "
              + ", ".join(f"{n} {status}" for status, n in counts.items()))
        if site is not None:
            for scan, pose, residual in zip(site.scans, site.poses, site.residuals_m):
                where = ("reference" if residual is None and pose is not None else
                         f"placed, residual {1000 * residual:.1f} mm" if pose is not None else "NOT PLACED")
                print(f"site: {scan}: {where}")
            print(f"site: {site.points:,} points, {site.markers} markers -> {args.output / 'site'}")
    failed = any(job.status == "failed" for job in jobs)
    unplaced = site is not None and any(pose is None for pose in site.poses)
    return 1 if failed or unplaced or (args.merge and site is None) else 0


def _merge(client, jobs, args):
    """The reconstructed scans merged into OUT/site; None (and why, on stderr) with fewer than two."""
    from twin.batch.site import merge_site

    scans = [job.output for job in jobs if job.status in ("done", "skipped")]
    if len(scans) < 2:
        print(f"twin batch: --merge needs at least two reconstructed scans, got {len(scans)}", file=sys.stderr)
        return None
    with stage_progress("merging the site") as report:
        return merge_site(client, scans, args.output / "site", voxel_size=args.merge_voxel_size,
                          on_stage=lambda stage, done, total: report(done, total))


def _site_json(site, args) -> dict | None:
    from twin.batch.site import site_report

    return None if site is None else {"output": str(args.output / "site"), **site_report(site)}


def _run_with_bars(client, captures):
    """One bar over the captures; its postfix names the current stage of each running capture."""
    from twin.batch import run_batch

    running: dict[int, str] = {}
    bar = tqdm(total=len(captures), desc="captures", unit="capture", file=sys.stderr, disable=None,
               dynamic_ncols=True)

    def show() -> None:
        bar.set_postfix_str(", ".join(f"{captures[i].capture.name}: {stage}" for i, stage in sorted(running.items())))

    def on_stage(index: int, stage: str) -> None:
        running[index] = stage
        show()

    def on_job(index: int, job) -> None:
        running.pop(index, None)
        bar.update(1)
        show()

    try:
        return run_batch(client, captures, on_stage=on_stage, on_job=on_job)
    finally:
        bar.close()
