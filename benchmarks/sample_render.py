"""Render time of the sample workshop (twin.synth.render_sample), which `twin demo` does first.

For each size (60 frames + 10 photos, then the default 300 frames + 40 photos, 640x480 RGB-D and
1600x1200 photos), in one process: wall and CPU seconds of render_sample end to end (textures,
frames, photos, ground truth) and of each stage, and the anchor: Open3D casting the same rays
(every pixel of every frame and photo, nothing else), the part no rendering of these images can
skip. Textures are made once per process, so the first size pays for them and the second not.

    python benchmarks/sample_render.py             # both sizes
    python benchmarks/sample_render.py --small     # 60 frames + 10 photos only

The code before the speed-up is gone, so it cannot run here. Measured on 25 Nov 2026 on the same
2-core machine, default size, the old code (commit 4ec0ceb's twin/synth) and the new one run back
to back from copies of the tree (the machine was shared with other work, load 6-9, so wall times
are noisy; CPU times are not):

    | code | CPU s      | wall s       |
    | old  | 85.7, 87.9 | 141.9, 89.7  |
    | new  | 56.2, 56.5 | 71.8, 78.5   |

(the issue's figure for the old code on a quiet machine: 89 s CPU / 133 s wall). Open3D casts on
one core and holds the GIL meanwhile: casting alone is about 17 s of the new 56 s.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import open3d as o3d

from twin.synth import load_workshop, render_sample
from twin.camera import Camera
from twin.synth.paths import photo_poses, walk_poses
from twin.synth.render import _rays
from twin.synth.sample import PHOTO_FOV_DEG, RGBD_FOV_DEG
from twin.synth.scene import build_room_scene

SIZES = {"small": (60, 10), "default": (300, 40)}


def time_render(frames: int, photos: int, out: Path) -> dict[str, float]:
    stages: dict[str, list[float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        stages.setdefault(stage, [now, now])[1] = now

    wall, cpu = time.perf_counter(), time.process_time()
    render_sample(out, frames=frames, photos=photos, progress=progress)
    result = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    result.update({f"{stage} wall_s": end - start for stage, (start, end) in stages.items()})
    return result


def time_ray_casting(frames: int, photos: int) -> dict[str, float]:
    """Open3D's cast_rays on every pixel of the same views (the anchor)."""
    workshop = load_workshop()
    scene = build_room_scene(workshop)
    raycaster = o3d.t.geometry.RaycastingScene()
    raycaster.add_triangles(o3d.core.Tensor(scene.vertices.astype(np.float32)),
                            o3d.core.Tensor(scene.triangles.astype(np.uint32)))
    views = ([(Camera.with_fov(640, 480, RGBD_FOV_DEG), T) for T in walk_poses(workshop, frames)]
             + [(Camera.with_fov(1600, 1200, PHOTO_FOV_DEG), T) for _, T in photo_poses(workshop, photos)])
    wall, cpu = time.perf_counter(), time.process_time()
    for camera, T in views:
        raycaster.cast_rays(o3d.core.Tensor.from_numpy(_rays(camera, T, slice(0, camera.height))))
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="only 60 frames + 10 photos")
    args = parser.parse_args()
    print("| frames + photos | render wall s | render CPU s | frames wall s | photos wall s | ground truth wall s "
          "| casting alone wall s | render / casting (wall) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, (frames, photos) in SIZES.items():
        if args.small and name != "small":
            continue
        with tempfile.TemporaryDirectory() as folder:
            render = time_render(frames, photos, Path(folder))
        cast = time_ray_casting(frames, photos)
        print(f"| {frames} + {photos} | {render['wall_s']:.1f} | {render['cpu_s']:.1f} "
              f"| {render['rgbd frames wall_s']:.1f} | {render['photos wall_s']:.1f} "
              f"| {render['ground truth wall_s']:.1f} | {cast['wall_s']:.1f} | {render['wall_s'] / cast['wall_s']:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
