"""`twin batch` throughput: N captures reconstructed one after another vs as tasks on a local Dask cluster.

The captures are slices of the sample workshop's walk (rendered in this run, small frames). The
anchor, timed in the same run: the same captures through `twin.reconstruct.reconstruct` one after
another in this process, as N runs of `twin reconstruct` would do them. Throughput ratio = sequential
seconds / batch seconds; the goal (issue 17) is at least 0.9 x workers (near-linear).

    python benchmarks/batch.py                     # 4 slices of 16 frames, 2 workers
    python benchmarks/batch.py --captures 8 --frames 30 --size 320 240
Not measured here yet: the merge's ATE and the 100 M-point export (`--merge` is not built).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The slicing helper is shared with the tests; tests/ is no package, so a script reaches it by path.
sys.path.insert(0, str(ROOT / "tests" / "batch"))

from capture_slices import write_slices  # noqa: E402

from twin.batch import BatchCapture, local_client, run_batch, scan_folders  # noqa: E402
from twin.reconstruct import reconstruct  # noqa: E402
from twin.synth import render_sample  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=4)
    parser.add_argument("--frames", type=int, default=16, help="frames per capture")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, nargs=2, default=(160, 120), metavar=("W", "H"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        overlap = args.frames // 4
        walk = args.captures * (args.frames - overlap) + overlap
        sample = render_sample(root / "sample", frames=walk, photos=3, rgbd_size=tuple(args.size),
                               photo_size=(320, 240))
        captures = write_slices(sample.rgbd, root / "captures", args.captures, args.frames, overlap)

        start = time.perf_counter()
        for capture, output in zip(captures, scan_folders(captures, root / "sequential")):
            reconstruct(capture, output)
        sequential = time.perf_counter() - start

        start = time.perf_counter()
        with local_client(workers=args.workers) as client:
            started = time.perf_counter()
            jobs = run_batch(client, [BatchCapture(c, o) for c, o in zip(captures, scan_folders(captures, root / "batch"))])
        batch = time.perf_counter() - start
        batch_tasks = time.perf_counter() - started
    failed = [job for job in jobs if job.status != "done"]

    ratio = sequential / batch
    print(f"{args.captures} captures of {args.frames} frames ({args.size[0]}x{args.size[1]}), "
          f"{args.workers} workers, load average {os.getloadavg()[0]:.2f}")
    print(f"{'run':<34} {'seconds':>8} {'captures/min':>13}")
    print(f"{'sequential (anchor)':<34} {sequential:8.1f} {60 * args.captures / sequential:13.2f}")
    print(f"{'twin batch, incl. cluster start':<34} {batch:8.1f} {60 * args.captures / batch:13.2f}")
    print(f"{'twin batch, tasks only':<34} {batch_tasks:8.1f} {60 * args.captures / batch_tasks:13.2f}")
    print(f"throughput ratio {ratio:.2f} (tasks only {sequential / batch_tasks:.2f}); "
          f"goal >= {0.9 * args.workers:.2f}; failed: {len(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
