"""RGB-D reconstruction against Open3D's own reconstruction system, and on the sample workshop.

1. livingroom1_micro (../shared/data/rgbd, 211 frames, PrimeSense default intrinsics): wall time
   end to end of `twin.reconstruct` and of Open3D's reconstruction system as shipped in the
   open3d wheel (open3d/examples/reconstruction_system: make fragments, register, refine,
   integrate, with its tutorial settings, in a subprocess on the same frames in the same run),
   and each one's ATE (RMSE of camera centres after rigid alignment) against
   open3d_reference_trajectory.log. As shipped, that system cannot finish under open3d 0.20:
   its legacy ScalableTSDFVolume returns empty meshes, so no fragment cloud is written and the
   fragments are never registered (and with python_multi_threading, register_fragments.py calls
   `limit_open3d_threads` without importing it). The runner below swaps that volume for an
   equivalent on Open3D's VoxelBlockGrid (same voxel, truncation and depth range) and runs the
   steps in one process (python_multi_threading off: its pool spawns fresh workers, which would
   not see the swap, and on 2 cores it gets one single-threaded worker, while in one process
   Open3D uses both cores); everything else is Open3D's code, unchanged.
2. The sample workshop (twin.synth.render_sample): ATE against the true trajectory, and Chamfer
   distance (mean, each direction) between our mesh and the ground-truth mesh: points sampled
   uniformly on one surface, exact distance to the other surface (not to the other's samples,
   which would add the sampling gap). Ground-truth samples count only where a camera saw them
   (within the depth range), so walls behind furniture and tops of tall shelves do not count.

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
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open3d as o3d

from twin.capture import open_capture
from twin.capture.trajectory_log import read_trajectory_log
from twin.reconstruct.rgbd.evaluation import ate_rmse, sample_surface, surface_distances
from twin.reconstruct.rgbd.pipeline import RgbdResult, reconstruct_rgbd
from twin.scanfolder import read_cameras_json

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TWIN_SHARED_DATA", ROOT.parent / "shared" / "data"))
LIVING_ROOM = SHARED / "rgbd" / "livingroom1_micro"
OPEN3D_SYSTEM = Path(o3d.__file__).parent / "examples" / "reconstruction_system"
CHAMFER_SAMPLES = 400_000


def run_ours(capture_path: Path, out_dir: Path) -> tuple[float, float, list, RgbdResult]:
    """Wall and CPU seconds of `twin.reconstruct` end to end, its cameras and result."""
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    result = reconstruct_rgbd(open_capture(capture_path), out_dir)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    return seconds, cpu, read_cameras_json(out_dir / "cameras.json"), result


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
              "global_registration": "ransac", "python_multi_threading": False}
    (work / "config.json").write_text(json.dumps(config))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, __file__, "--open3d-system-config", str(work / "config.json")],
                            cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    (work / "open3d_system.log").write_text(result.stdout + result.stderr)
    trajectory = dataset / "scene" / "trajectory.log"
    if result.returncode != 0 or not trajectory.is_file():
        return seconds, None, f"failed (exit {result.returncode}): {result.stderr.strip()[-300:]}"
    fragments = len(list((dataset / "fragments").glob("*.ply")))
    return seconds, read_trajectory_log(trajectory), f"ok, {fragments} fragment clouds"


class _BlockGridTSDF:
    """Open3D's ScalableTSDFVolume interface on Open3D's VoxelBlockGrid (the legacy volume
    returns empty meshes in open3d 0.20)."""

    def __init__(self, voxel_length, sdf_trunc, color_type=None):
        self._voxel = voxel_length
        self._trunc_voxels = sdf_trunc / voxel_length
        self._grid = o3d.t.geometry.VoxelBlockGrid(
            ("tsdf", "weight", "color"), (o3d.core.float32,) * 3, ((1), (1), (3)), voxel_length, 16, 1000,
            o3d.core.Device("CPU:0"))

    def integrate(self, rgbd, intrinsic, extrinsic):
        depth = o3d.t.geometry.Image.from_legacy(rgbd.depth)            # float metres, already cut at depth_max
        color = o3d.t.geometry.Image(o3d.core.Tensor(np.asarray(rgbd.color).astype(np.float32) / 255.0))
        K = o3d.core.Tensor(intrinsic.intrinsic_matrix)
        T = o3d.core.Tensor(np.asarray(extrinsic))
        blocks = self._grid.compute_unique_block_coordinates(depth, K, T, 1.0, 10.0, self._trunc_voxels)
        self._grid.integrate(blocks, depth, color, K, K, T, 1.0, 10.0, self._trunc_voxels)

    def extract_triangle_mesh(self):
        return self._grid.extract_triangle_mesh().to_legacy()


def _open3d_system_main(config_path: str) -> int:
    """Runs Open3D's shipped reconstruction system (make, register, refine, integrate) on a config."""
    sys.path[:0] = [str(OPEN3D_SYSTEM), str(OPEN3D_SYSTEM.parent)]
    from initialize_config import initialize_config

    o3d.pipelines.integration.ScalableTSDFVolume = _BlockGridTSDF
    import integrate_scene
    import make_fragments
    import refine_registration
    import register_fragments

    config = json.loads(Path(config_path).read_text())
    initialize_config(config)
    config.update(debug_mode=False, device="cpu:0")
    for step in (make_fragments, register_fragments, refine_registration, integrate_scene):
        step.run(config)
    return 0


def living_room(args, work: Path) -> list[tuple]:
    reference = read_trajectory_log(LIVING_ROOM / "open3d_reference_trajectory.log")
    seconds, cpu, cameras, result = run_ours(LIVING_ROOM, work / "ours")
    by_name = {c.name: c.T_world_camera for c in cameras}
    names = [f.name for f in open_capture(LIVING_ROOM).frames]
    paired = [(by_name[n], ref) for n, ref in zip(names, reference) if n in by_name]
    ours_ate = ate_rmse([p for p, _ in paired], [r for _, r in paired])
    rows = [Row("livingroom: twin", seconds, cpu, ours_ate, None,
                f"{len(cameras)}/{len(names)} frames; " + _stage_note(result))]
    if not args.skip_open3d:
        cpu_before = _children_cpu_seconds()
        o3d_seconds, o3d_poses, status = run_open3d_system(work / "open3d")
        o3d_cpu = _children_cpu_seconds() - cpu_before
        o3d_ate = None
        if o3d_poses:
            # Its trajectory follows the frames in order; compare what it gives.
            count = min(len(o3d_poses), len(reference))
            o3d_ate = ate_rmse(o3d_poses[:count], reference[:count])
            status += f", {len(o3d_poses)} poses for {len(reference)} frames"
        rows.append(Row("livingroom: Open3D reconstruction system", o3d_seconds, o3d_cpu, o3d_ate, None, status))
        rows.append(Row("livingroom: speed-up, Open3D / twin (wall, CPU)", o3d_seconds / seconds, o3d_cpu / cpu,
                        None, None, "goal >= 3x"))
    return rows


def sample_workshop(args, work: Path) -> list[tuple]:
    from twin.synth import render_sample

    sample_dir = Path(args.sample_dir) if args.sample_dir else work / "sample"
    start = time.perf_counter()
    paths = render_sample(sample_dir) if not (sample_dir / "ground_truth" / "mesh.ply").is_file() else None
    render_seconds = time.perf_counter() - start
    rgbd = sample_dir / "rgbd"
    truth = read_trajectory_log(sample_dir / "ground_truth" / "trajectory.log")
    seconds, cpu, cameras, result = run_ours(rgbd, work / "sample_scan")
    names = [f.name for f in open_capture(rgbd).frames]
    by_name = {c.name: c.T_world_camera for c in cameras}
    paired = [(by_name[n], t) for n, t in zip(names, truth) if n in by_name]
    ate = ate_rmse([p for p, _ in paired], [t for _, t in paired])
    # Our world frame is the device's, which is the true one at the first frame: no alignment.
    ours = o3d.io.read_triangle_mesh(str(work / "sample_scan" / "mesh.ply"))
    gt = o3d.io.read_triangle_mesh(str(sample_dir / "ground_truth" / "mesh.ply"))
    ours_v, ours_t = np.asarray(ours.vertices), np.asarray(ours.triangles)
    gt_v, gt_t = np.asarray(gt.vertices), np.asarray(gt.triangles)
    to_gt = surface_distances(sample_surface(ours_v, ours_t, CHAMFER_SAMPLES), gt_v, gt_t)
    seen = _seen_part(sample_surface(gt_v, gt_t, CHAMFER_SAMPLES), truth, open_capture(rgbd),
                      result.options.depth_max_m)
    from_gt = surface_distances(seen, ours_v, ours_t)
    to_gt, from_gt = float(to_gt.mean()), float(from_gt.mean())
    device_ate = ate_rmse(read_trajectory_log(rgbd / "device_trajectory.log"), truth)
    note = f"rendered in {render_seconds:.0f} s" if paths else "reused render"
    return [Row("sample workshop: twin", seconds, cpu, ate, (to_gt, from_gt),
                f"{len(cameras)}/{len(names)} frames; {note}; " + _stage_note(result)),
            Row("sample workshop: device poses as given", None, None, device_ate, None, "the drifting input")]


def _seen_part(points: np.ndarray, poses: list[np.ndarray], capture, depth_max_m: float) -> np.ndarray:
    """Ground-truth points inside some camera's view within the depth range (visibility by
    frustum and depth test against the rendered depth of every 5th frame)."""
    seen = np.zeros(len(points), bool)
    for frame, T in list(zip(capture.frames, poses))[::5]:
        data = frame.load()
        local = (points - T[:3, 3]) @ T[:3, :3]
        z = local[:, 2]
        front = (z > 0.1) & (z < depth_max_m)
        camera = frame.camera
        u = np.round(camera.fx * local[:, 0] / np.where(front, z, 1) + camera.cx).astype(int)
        v = np.round(camera.fy * local[:, 1] / np.where(front, z, 1) + camera.cy).astype(int)
        inside = front & (u >= 0) & (u < camera.width) & (v >= 0) & (v < camera.height)
        idx = np.flatnonzero(inside)
        depth = data.depth_m[v[idx], u[idx]]
        visible = (depth > 0) & (np.abs(depth - z[idx]) < 0.05)
        seen[idx[visible]] = True
    return points[seen]


@dataclass
class Row:
    name: str
    seconds: float | None
    cpu_seconds: float | None
    ate_m: float | None
    chamfer_m: tuple[float, float] | None
    note: str


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stage_note(result: RgbdResult) -> str:
    return "stages " + ", ".join(f"{name} {t.seconds:.1f} s" for name, t in result.stages.items())


def _cell(value, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-open3d", action="store_true", help="do not run Open3D's reconstruction system")
    parser.add_argument("--skip-sample", action="store_true", help="do not run the sample workshop part")
    parser.add_argument("--sample-dir", help="render the sample here (or reuse it if already rendered)")
    parser.add_argument("--open3d-system-config", help=argparse.SUPPRESS)  # the subprocess running Open3D's system
    args = parser.parse_args()
    if args.open3d_system_config:
        return _open3d_system_main(args.open3d_system_config)
    rows = []
    with tempfile.TemporaryDirectory(prefix="twin-bench-rgbd-") as tmp:
        work = Path(tmp)
        if LIVING_ROOM.is_dir():
            rows += living_room(args, work)
        else:
            print(f"skipping the living room: {LIVING_ROOM} not found")
        if not args.skip_sample:
            rows += sample_workshop(args, work)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"| {'run':46s} | {'wall s (or ratio)':>17s} | {'CPU s':>7s} | {'ATE m':>7s} | "
          f"{'Chamfer m (mesh->gt / gt->mesh)':>31s} | notes")
    print(f"|{'-' * 48}|{'-' * 19}|{'-' * 9}|{'-' * 9}|{'-' * 33}|------")
    for row in rows:
        chamfer = "-" if row.chamfer_m is None else f"{row.chamfer_m[0]:.4f} / {row.chamfer_m[1]:.4f}"
        print(f"| {row.name:46s} | {_cell(row.seconds, '17.2f')} | {_cell(row.cpu_seconds, '7.1f')} | "
              f"{_cell(row.ate_m, '7.4f')} | {chamfer:>31s} | {row.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
