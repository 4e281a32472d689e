"""`render_sample`: the sample workshop rendered into an RGB-D capture, a photo set and ground truth.

Each of the three folders is written under a temporary name and renamed when complete, so an
interrupted run never leaves a folder that looks finished.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import cv2
import numpy as np

from twin.camera import Camera
from twin.capture.trajectory_log import write_trajectory_log
from twin.progress import Progress
from twin.scanfolder import atomic_write, write_cameras_json, write_mesh_ply, write_point_cloud_ply
from twin.synth.depth_noise import DepthSensorModel
from twin.synth.drift import OdometryDrift
from twin.synth.ground_truth import coloured_mesh
from twin.synth.observed import merge, seen_points
from twin.synth.outputs import write_depth_png, write_intrinsic_json, write_jpeg, write_k_txt, write_markers_json
from twin.synth.paths import photo_poses, walk_poses
from twin.synth.render import RenderedView, Renderer, check_renderable
from twin.synth.scene import build_object_scene, build_room_scene
from twin.synth.shader import SurfaceShader
from twin.synth.spec import Workshop, load_workshop

log = logging.getLogger(__name__)

T = TypeVar("T")

RGBD_FOV_DEG = 62.7  # fx = fy = 525 at 640 px: the PrimeSense / Open3D default
PHOTO_FOV_DEG = 63.0  # a phone's main camera
# Camera noise in 8-bit steps; photos have a slight optical blur (and the renderer no anti-aliasing).
_IMAGE_NOISE = 1.5
_PHOTO_BLUR_PX = 0.6
_OBSERVED_VOXEL_M = 0.01


@dataclass(frozen=True)
class SamplePaths:
    root: Path
    rgbd: Path
    """Open3D/Redwood capture: image/, depth/, intrinsic.json, device_trajectory.log."""
    photos: Path
    """JPEG photos and K.txt."""
    ground_truth: Path
    mesh: Path
    trajectory: Path
    """True camera-to-world poses of the RGB-D frames (.log)."""
    photo_cameras: Path
    """True cameras of the photos (cameras.json format)."""
    observed_rgbd: Path
    """Ground-truth surface points the RGB-D walk saw within sensor range, 1 cm apart (for completeness)."""
    observed_photos: Path
    """Ground-truth surface points the photos saw, 1 cm apart."""
    markers: Path
    """The printed markers: dictionary, id, side and world corners of each."""
    machines: dict[str, Path]
    """Machine id -> its own mesh in its local frame."""


def render_sample(out_dir: str | Path, spec: str | Path | Workshop | None = None, *, frames: int = 300,
                  photos: int = 40, rgbd_size: tuple[int, int] = (640, 480),
                  photo_size: tuple[int, int] = (1600, 1200), seed: int = 0,
                  sensor: DepthSensorModel = DepthSensorModel(), drift: OdometryDrift = OdometryDrift(),
                  mesh_edge_m: float = 0.05, progress: Progress | None = None) -> SamplePaths:
    """Render the workshop (default: the sample) into `out_dir`: rgbd/, photos/, ground_truth/.
    The same arguments and seed give the same files."""
    workshop = spec if isinstance(spec, Workshop) else load_workshop(spec)
    if not (isinstance(frames, int) and isinstance(photos, int)) or frames < 2 or photos < 3:
        raise ValueError(f"render_sample needs whole numbers of at least 2 frames and 3 photos, "
                         f"got frames={frames!r}, photos={photos!r}")
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise ValueError(f"{root} is a file; give render_sample a folder to write the sample into")
    report = progress or (lambda stage, done, total: None)
    root.mkdir(parents=True, exist_ok=True)
    scene = build_room_scene(workshop)
    renderer = Renderer(workshop, scene)

    true_poses = walk_poses(workshop, frames, seed)
    rgbd_camera = Camera.with_fov(*rgbd_size, RGBD_FOV_DEG)
    photo_camera = Camera.with_fov(*photo_size, PHOTO_FOV_DEG)
    check_renderable(rgbd_camera)
    check_renderable(photo_camera)
    views = photo_poses(workshop, photos)

    with atomic_write(root / "rgbd") as folder:
        folder.mkdir()
        (folder / "image").mkdir()
        (folder / "depth").mkdir()
        write_intrinsic_json(folder / "intrinsic.json", rgbd_camera, sensor.depth_scale)
        write_trajectory_log(folder / "device_trajectory.log", list(drift.apply(true_poses, seed)))

        def frame(k: int) -> tuple[np.ndarray, np.ndarray]:
            view = renderer.render(rgbd_camera, true_poses[k])
            rng = np.random.default_rng([seed, k])
            depth = sensor.apply(view.depth_m, view.cos_incidence, view.albedo_luma, rgbd_camera.fx, rng)
            write_depth_png(folder / "depth" / f"{k:05d}.png", depth)
            write_jpeg(folder / "image" / f"{k:05d}.jpg", _camera_image(view, rng, blur_px=0.0), quality=90)
            return seen_points(view, 2, sensor.min_range_m, sensor.max_range_m, sensor.grazing_cos_never,
                               _OBSERVED_VOXEL_M)

        seen_by_frames = _run_all("rgbd frames", frames, frame, report)

    with atomic_write(root / "photos") as folder:
        folder.mkdir()
        write_k_txt(folder / "K.txt", photo_camera)

        def photo(k: int) -> tuple[np.ndarray, np.ndarray]:
            view = renderer.render(photo_camera, views[k][1])
            image = _camera_image(view, np.random.default_rng([seed, 1_000_000 + k]), blur_px=_PHOTO_BLUR_PX)
            write_jpeg(folder / f"{views[k][0]}.jpg", image, quality=92)
            # Photos reach as far as the room goes; only grazing views are left out.
            return seen_points(view, 4, 0.0, np.inf, sensor.grazing_cos_never, _OBSERVED_VOXEL_M)

        seen_by_photos = _run_all("photos", len(views), photo, report)

    with atomic_write(root / "ground_truth") as folder:
        folder.mkdir()
        report("ground truth", 0, 1 + len(workshop.machines))
        vertices, triangles, colors = coloured_mesh(renderer.shader, mesh_edge_m, lit=True)
        write_mesh_ply(folder / "mesh.ply", vertices, triangles, colors)
        write_point_cloud_ply(folder / "observed_rgbd.ply", *merge(seen_by_frames, _OBSERVED_VOXEL_M))
        write_point_cloud_ply(folder / "observed_photos.ply", *merge(seen_by_photos, _OBSERVED_VOXEL_M))
        write_trajectory_log(folder / "trajectory.log", list(true_poses))
        write_markers_json(folder / "markers.json", workshop.markers)
        write_cameras_json(folder / "photo_cameras.json",
                           [photo_camera.with_pose(T, name=f"{name}.jpg") for name, T in views])
        (folder / "machines").mkdir()
        for i, machine in enumerate(workshop.machines, start=1):
            shader = SurfaceShader(workshop, build_object_scene(machine.as_object(), workshop))
            vertices, triangles, colors = coloured_mesh(shader, mesh_edge_m / 2, lit=False)
            write_mesh_ply(folder / "machines" / f"{machine.id}.ply", vertices, triangles, colors)
            report("ground truth", i, 1 + len(workshop.machines))
    log.info("wrote the sample into %s: rgbd/, photos/, ground_truth/", root)

    gt = root / "ground_truth"
    return SamplePaths(root=root, rgbd=root / "rgbd", photos=root / "photos", ground_truth=gt,
                       mesh=gt / "mesh.ply", trajectory=gt / "trajectory.log",
                       photo_cameras=gt / "photo_cameras.json", observed_rgbd=gt / "observed_rgbd.ply",
                       observed_photos=gt / "observed_photos.ply", markers=gt / "markers.json",
                       machines={m.id: gt / "machines" / f"{m.id}.ply" for m in workshop.machines})


def _camera_image(view: RenderedView, rng: np.random.Generator, blur_px: float) -> np.ndarray:
    """What a camera makes of the rendered light: slight blur, sensor noise, 8 bits."""
    image = view.color * 255
    if blur_px > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur_px)
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    noise *= np.float32(_IMAGE_NOISE)
    image += noise
    image += 0.5
    return np.clip(image, 0, 255, out=image).astype(np.uint8)


def _run_all(stage: str, count: int, job: Callable[[int], T], report: Progress) -> list[T]:
    """[job(0), ..., job(count - 1)] on two threads, reporting progress. Open3D casts rays on one core
    and holds the GIL meanwhile, but the other thread's numpy and OpenCV work goes on (worker
    processes were tried: starting them cost more than they won on two busy cores)."""
    report(stage, 0, count)
    results = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for result in pool.map(job, range(count)):
            results.append(result)
            report(stage, len(results), count)
    return results
