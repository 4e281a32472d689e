"""RGB-D reconstruction against Open3D's own reconstruction system, and on the sample workshop.

1. livingroom1_micro (../shared/data/rgbd, 211 frames, PrimeSense default intrinsics): wall time
   end to end of `twin.reconstruct` and of Open3D's reconstruction system as shipped in the
   open3d wheel (open3d/examples/reconstruction_system/run_system.py --make --register --refine
   --integrate, its tutorial settings, run in a subprocess on the same frames in the same run),
   and each one's ATE (RMSE of camera centres after rigid alignment) against
   open3d_reference_trajectory.log.
2. The sample workshop (twin.synth.render_sample): ATE against the true trajectory, and Chamfer
   distance (mean, each direction) between our mesh and the ground-truth mesh, both sampled
   uniformly; the ground truth is first cut to the part any camera saw (within the depth range),
   so walls behind furniture and the tops of tall shelves do not count against us.

    python benchmarks/rgbd.py                      # both parts
    python benchmarks/rgbd.py --skip-open3d        # ours only on the living room
    python benchmarks/rgbd.py --sample-dir /tmp/sample   # reuse a rendered sample
Goals (issue 4): living room <= 60 s on 2 cores, >= 3x faster than Open3D's system, ATE within
3 cm of the reference; sample workshop ATE <= 1 cm and Chamfer <= 1 cm.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import open3d as o3d

from twin.capture import open_capture
from twin.capture.trajectory_log import read_trajectory_log
from twin.reconstruct.evaluation import ate_rmse, chamfer_distance
from twin.reconstruct.outputs import read_cameras_json
from twin.reconstruct.rgbd import reconstruct_rgbd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TWIN_SHARED_DATA", ROOT.parent / "shared" / "data"))
LIVING_ROOM = SHARED / "rgbd" / "livingroom1_micro"
OPEN3D_SYSTEM = Path(o3d.__file__).parent / "examples" / "reconstruction_system" / "run_system.py"
CHAMFER_SAMPLES = 400_000


def run_ours(capture_path: Path, out_dir: Path) -> tuple[float, list[np.ndarray], dict]:
    start = time.perf_counter()
    report = reconstruct_rgbd(open_capture(capture_path), out_dir)
    seconds = time.perf_counter() - start
    cameras = read_cameras_json(out_dir / "cameras.json")
    return seconds, cameras, report


def run_open3d_system(work: Path) -> tuple[float, list[np.ndarray] | None, str]:
    """Open3D's legacy reconstruction system on the living room, timed as a whole."""
    dataset = work / "dataset"
    dataset.mkdir(parents=True)
    for folder in ("image", "depth"):
        (dataset / folder).symlink_to(LIVING_ROOM / folder)
    config = {"name": "livingroom1_micro", "path_dataset": str(dataset) + "/",
              "path_intrinsic": str(LIVING_ROOM / "intrinsic.json"), "depth_max": 3.0, "voxel_size": 0.05,
              "depth_diff_max": 0.07, "preference_loop_closure_odometry": 0.1,
              "preference_loop_closure_registration": 5.0, "tsdf_cubic_size": 3.0, "icp_method": "color",
              "global_registration": "ransac", "python_multi_threading": True}
    (work / "config.json").write_text(json.dumps(config))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(OPEN3D_SYSTEM), "--config", str(work / "config.json"), "--make",
                             "--register", "--refine", "--integrate"], cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    (work / "open3d_system.log").write_text(result.stdout + result.stderr)
    trajectory = dataset / "scene" / "trajectory.log"
    if result.returncode != 0 or not trajectory.is_file():
        return seconds, None, f"failed (exit {result.returncode}); log in {work / 'open3d_system.log'}"
    return seconds, read_trajectory_log(trajectory), "ok"


def living_room(args, work: Path) -> list[tuple]:
    reference = read_trajectory_log(LIVING_ROOM / "open3d_reference_trajectory.log")
    seconds, cameras, report = run_ours(LIVING_ROOM, work / "ours")
    by_name = {c.name: c.T_world_camera for c in cameras}
    names = [f.name for f in open_capture(LIVING_ROOM).frames]
    paired = [(by_name[n], ref) for n, ref in zip(names, reference) if n in by_name]
    ours_ate = ate_rmse([p for p, _ in paired], [r for _, r in paired])
    rows = [("livingroom: twin", seconds, ours_ate, f"{len(cameras)}/{len(names)} frames, stages " +
             ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in report["stages"].items()))]
    if not args.skip_open3d:
        o3d_seconds, o3d_poses, status = run_open3d_system(work / "open3d")
        o3d_ate = ate_rmse(o3d_poses, reference) if o3d_poses and len(o3d_poses) == len(reference) else float("nan")
        rows.append(("livingroom: Open3D system", o3d_seconds, o3d_ate, status))
        rows.append(("livingroom: speed-up (Open3D / twin)", o3d_seconds / seconds, float("nan"), "goal >= 3x"))
    return rows


def sample_workshop(args, work: Path) -> list[tuple]:
    from twin.synth import render_sample

    sample_dir = Path(args.sample_dir) if args.sample_dir else work / "sample"
    start = time.perf_counter()
    paths = render_sample(sample_dir) if not (sample_dir / "ground_truth" / "mesh.ply").is_file() else None
    render_seconds = time.perf_counter() - start
    rgbd = sample_dir / "rgbd"
    truth = read_trajectory_log(sample_dir / "ground_truth" / "trajectory.log")
    seconds, cameras, report = run_ours(rgbd, work / "sample_scan")
    names = [f.name for f in open_capture(rgbd).frames]
    by_name = {c.name: c.T_world_camera for c in cameras}
    paired = [(by_name[n], t) for n, t in zip(names, truth) if n in by_name]
    ate = ate_rmse([p for p, _ in paired], [t for _, t in paired])
    # The world frame is the device's (drifting) one, so the mesh is compared as it is, unaligned.
    ours = o3d.io.read_triangle_mesh(str(work / "sample_scan" / "mesh.ply"))
    gt = o3d.io.read_triangle_mesh(str(sample_dir / "ground_truth" / "mesh.ply"))
    ours_points = np.asarray(ours.sample_points_uniformly(CHAMFER_SAMPLES).points)
    gt_points = _seen_part(np.asarray(gt.sample_points_uniformly(CHAMFER_SAMPLES).points), truth, open_capture(rgbd),
                           report["options"]["depth_max_m"])
    to_gt, from_gt = chamfer_distance(ours_points, gt_points)
    note = f"rendered in {render_seconds:.0f}s" if paths else "reused render"
    return [("sample: twin", seconds, ate, f"{len(cameras)}/{len(names)} frames, {note}"),
            ("sample: Chamfer mesh->gt / gt->mesh (m)", to_gt, from_gt, "mean distances, goal <= 0.01 each")]


def _seen_part(points: np.ndarray, poses: list[np.ndarray], capture, depth_max_m: float) -> np.ndarray:
    """Ground-truth points inside some camera's view within the depth range (visibility by
    frustum and depth test against the rendered depth of every 5th frame)."""
    seen = np.zeros(len(points), bool)
    for frame, T in list(zip(capture.frames, poses))[::5]:
        data = frame.load()
        local = (points - T[:3, 3]) @ T[:3, :3]
        z = local[:, 2]
        front = (z > 0.1) & (z < depth_max_m)
        u = np.round(frame.K[0, 0] * local[:, 0] / np.where(front, z, 1) + frame.K[0, 2]).astype(int)
        v = np.round(frame.K[1, 1] * local[:, 1] / np.where(front, z, 1) + frame.K[1, 2]).astype(int)
        inside = front & (u >= 0) & (u < frame.width) & (v >= 0) & (v < frame.height)
        idx = np.flatnonzero(inside)
        depth = data.depth_m[v[idx], u[idx]]
        visible = (depth > 0) & (np.abs(depth - z[idx]) < 0.05)
        seen[idx[visible]] = True
    return points[seen]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-open3d", action="store_true", help="do not run Open3D's reconstruction system")
    parser.add_argument("--skip-sample", action="store_true", help="do not run the sample workshop part")
    parser.add_argument("--sample-dir", help="render the sample here (or reuse it if already rendered)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="twin-bench-rgbd-") as tmp:
        work = Path(tmp)
        if LIVING_ROOM.is_dir():
            rows += living_room(args, work)
        else:
            print(f"skipping the living room: {LIVING_ROOM} not found")
        if not args.skip_sample:
            rows += sample_workshop(args, work)
    print(f"{'run':44s} {'seconds/ratio':>14s} {'ATE (m)':>9s}  notes")
    for name, seconds, ate, note in rows:
        print(f"{name:44s} {seconds:14.3f} {ate:9.4f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
