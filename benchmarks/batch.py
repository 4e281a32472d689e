"""`twin batch` throughput: N captures reconstructed one after another vs as tasks on a local Dask cluster.

The captures are slices of the sample workshop's walk (rendered in this run, small frames). The
anchor, timed in the same run: the same captures through `twin.reconstruct.reconstruct` one after
another in this process, as N runs of `twin reconstruct` would do them. Throughput ratio = sequential
seconds / batch seconds; the goal (issue 17) is at least 0.9 x workers (near-linear).

Each slice is a session of its own: its device trajectory is moved by a random rigid transform
(about z, metres away), as separate phone sessions each have their own origin. The batch's scans
are then merged into one site (`twin batch --merge`'s `merge_site`), measured against the truth:
ATE of every reconstructed camera in the site's frame against the true trajectory (after one
rigid alignment of the whole), and the site cloud's mean distance to the true mesh.

    python benchmarks/batch.py                     # 4 slices of 16 frames, 2 workers
    python benchmarks/batch.py --captures 8 --frames 30 --size 320 240
Not measured here yet: the 100 M-point export (not built).
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

import numpy as np  # noqa: E402
from capture_slices import write_slices  # noqa: E402

from twin.batch import BatchCapture, local_client, run_batch, scan_folders  # noqa: E402
from twin.batch.site import merge_site  # noqa: E402
from twin.capture.trajectory_log import read_trajectory_log, write_trajectory_log  # noqa: E402
from twin.geometry import pose_matrix  # noqa: E402
from twin.reconstruct import reconstruct  # noqa: E402
from twin.reconstruct.rgbd.evaluation import ate_rmse, surface_distances  # noqa: E402
from twin.scanfolder import read_cloud, read_mesh  # noqa: E402
from twin.scanfolder.cameras import read_cameras_json  # noqa: E402
from twin.synth import render_sample  # noqa: E402


def _own_sessions(captures: list[Path], seed: int = 0) -> None:
    """Move each capture's device trajectory but the first's by a random rigid transform."""
    rng = np.random.default_rng(seed)
    for capture in captures[1:]:
        angle = rng.uniform(-np.pi, np.pi)
        session = pose_matrix([*rng.uniform(-3, 3, 2), 0.0], [0.0, 0.0, np.sin(angle / 2), np.cos(angle / 2)])
        log = capture / "device_trajectory.log"
        write_trajectory_log(log, [session @ pose for pose in read_trajectory_log(log)])


def _site_errors(site, truth: list[np.ndarray], mesh) -> tuple[float, float, int]:
    """(ATE m, the site cloud's mean distance to the true mesh m, cameras placed) of a merged site."""
    cameras = {}
    for scan, pose in zip(site.scans, site.poses):
        if pose is not None:
            for camera in read_cameras_json(scan / "cameras.json"):
                cameras.setdefault(camera.name, pose @ camera.T_world_camera)  # the first scan's, where shared
    names = sorted(cameras)
    ate = ate_rmse([cameras[n] for n in names], [truth[int(n)] for n in names])
    points, _ = read_cloud(site.scans[0].parent / "site" / "cloud.ply")
    sample = points[np.random.default_rng(0).choice(len(points), min(len(points), 200_000), replace=False)]
    # The site is in the first scan's frame, which is the true one (the first session is not moved).
    return ate, float(surface_distances(sample, *mesh).mean()), len(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=4)
    parser.add_argument("--frames", type=int, default=16, help="frames per capture")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--overlap", type=int, help="frames consecutive captures share (default: 5/8 of them; "
                                                    "the merge needs them, the throughput does not)")
    parser.add_argument("--size", type=int, nargs=2, default=(160, 120), metavar=("W", "H"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        overlap = args.overlap if args.overlap is not None else args.frames * 5 // 8
        walk = args.captures * (args.frames - overlap) + overlap
        sample = render_sample(root / "sample", frames=walk, photos=3, rgbd_size=tuple(args.size),
                               photo_size=(320, 240))
        captures = write_slices(sample.rgbd, root / "captures", args.captures, args.frames, overlap)
        _own_sessions(captures)

        start = time.perf_counter()
        for capture, output in zip(captures, scan_folders(captures, root / "sequential")):
            reconstruct(capture, output)
        sequential = time.perf_counter() - start

        start = time.perf_counter()
        with local_client(workers=args.workers) as client:
            started = time.perf_counter()
            outputs = scan_folders(captures, root / "batch")
            jobs = run_batch(client, [BatchCapture(c, o) for c, o in zip(captures, outputs)])
            batch = time.perf_counter() - start
            batch_tasks = time.perf_counter() - started
            started = time.perf_counter()
            site = merge_site(client, outputs, root / "batch" / "site")
            merge_seconds = time.perf_counter() - started
        mesh = read_mesh(sample.mesh)
        ate, to_truth, placed_cameras = _site_errors(site, read_trajectory_log(sample.trajectory),
                                                     (mesh.vertices, mesh.triangles))
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
    placed = sum(pose is not None for pose in site.poses)
    print(f"merge of the {args.captures} scans ({overlap} frames shared by consecutive ones): {placed} placed in "
          f"{merge_seconds:.1f} s; ATE {100 * ate:.1f} cm over {placed_cameras} cameras (goal <= 2 cm); site cloud "
          f"{100 * to_truth:.1f} cm mean from the true mesh")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
