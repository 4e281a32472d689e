"""A folder of photos to calibrated cameras, a dense coloured cloud and a mesh, in metres, z up.

Stages (each skipped on rerun when done with the same settings, see `stages.py`):
  sfm      pycolmap SIFT structure from motion            -> work/photos/sparse.npz
  markers  ArUco/AprilTag corners triangulated            -> work/photos/markers.json
  depth    SGBM depth map per photo, streamed to disk     -> work/photos/depth/*.npy
  fusion   multi-view consistent points                   -> work/photos/fused.npz
  world    scale (markers / known distance), floor up     -> cloud.ply, cameras.json, anchors.json
  mesh     screened Poisson, trimmed                      -> mesh.ply
and `report.json` (what registered and why not, errors, scale, stage timings), also when a stage fails;
after a whole run it is `PhotoResult.as_report()`, the result `reconstruct_photos` returns.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from twin.camera import Camera
from twin.capture.images import read_color, read_image
from twin.markers.detection import (DEFAULT_DICTIONARIES, Marker, checked_dictionaries, detect_markers, marker_pose,
                                    scale_from_known_distance, scale_from_marker_size, triangulate_markers,
                                    undistort_detections)
from twin.progress import Progress
from twin.reconstruct.photos.dense_stereo import View, combine_pair_depths, depth_from_pair
from twin.reconstruct.photos.depth_fusion import fuse_view, select_neighbours
from twin.reconstruct.photos.folder import open_photo_folder
from twin.reconstruct.photos.levelling import level, transform_points, transform_pose
from twin.reconstruct.photos.sfm import (SparseModel, TooFewRegistered, load_sparse_model, run_sfm, save_sparse_model,
                                         sparse_model_from_colmap)
from twin.reconstruct.photos.surface_mesh import poisson_mesh
from twin.reconstruct.result import StageTiming, stage_timings, stages_report
from twin.reconstruct.stages import StageRunner
from twin.scanfolder import (marker_anchor, read_json, read_mesh, write_anchors_json,
                             write_cameras_json, write_json, write_mesh_ply, write_point_cloud_ply)

log = logging.getLogger(__name__)

WORK = "work/photos"
DENSE_METHOD = "OpenCV semi-global matching on rectified pairs, multi-view consistency fusion"


@dataclass(frozen=True)
class PhotoOptions:
    """What a user may tune in the photo pipeline (checked on construction).

    `marker_size_m`: printed side of the ArUco/AprilTag markers in the photos (gives metres);
    `known_distance`: (marker, marker, metres) instead; `max_image_size` bounds SIFT's input and
    `dense_max_size` the depth maps' longer side; a dense point needs `min_consistent_views` other
    photos' depth maps to agree with it (1: on the sample workshop, completeness 63 % against 40 %
    with 2, accuracy 5.4 mm against 4.1 mm); `pairs_per_photo` stereo partners per photo (5 against 3
    on the sample workshop: accuracy 5.6 -> 4.7 mm, completeness 64.9 -> 65.0 %, 15 % more points)
    and `fusion_views` photos checked for agreement (raised to `pairs_per_photo` where smaller)."""

    max_image_size: int = 1600
    matcher: str = "auto"
    mapper: str = "incremental"
    dense_max_size: int = 1024
    pairs_per_photo: int = 5
    fusion_views: int = 6
    min_consistent_views: int = 1
    marker_size_m: float | None = None
    marker_dictionaries: tuple[str, ...] = DEFAULT_DICTIONARIES
    known_distance: tuple[str, str, float] | None = None
    mesh: bool = True
    poisson_depth: int = 9

    def __post_init__(self):
        if self.dense_max_size < 64 or self.max_image_size < 64:
            raise ValueError("dense_max_size and max_image_size must be at least 64 pixels")
        if self.pairs_per_photo < 1 or self.fusion_views < 1 or self.min_consistent_views < 1:
            raise ValueError("pairs_per_photo, fusion_views and min_consistent_views must be at least 1")
        object.__setattr__(self, "fusion_views", max(self.fusion_views, self.pairs_per_photo))
        object.__setattr__(self, "marker_dictionaries", checked_dictionaries(self.marker_dictionaries))


@dataclass(frozen=True)
class PhotoCounts:
    """The photos in the folder, those registered (by name) and those not, with the reason of each."""

    total: int
    registered: tuple[str, ...]
    not_registered: Mapping[str, str]

    def as_report(self) -> dict[str, Any]:
        return {"total": self.total, "registered": list(self.registered), "not_registered": dict(self.not_registered)}


@dataclass(frozen=True)
class SfmSummary:
    mean_reprojection_error_px: float
    sparse_points: int
    matcher: str
    mapper: str

    def as_report(self) -> dict[str, Any]:
        return {"mean_reprojection_error_px": self.mean_reprojection_error_px, "sparse_points": self.sparse_points,
                "matcher": self.matcher, "mapper": self.mapper}


@dataclass(frozen=True)
class DenseSummary:
    method: str
    points: int
    max_working_size_px: int

    def as_report(self) -> dict[str, Any]:
        return {"method": self.method, "points": self.points, "max_working_size_px": self.max_working_size_px}


@dataclass(frozen=True)
class ScaleMarker:
    key: str
    views: int
    reprojection_px: float


@dataclass(frozen=True)
class ScaleSummary:
    """How the model got its metres: `status` ("metric (markers)", "metric (known distance)" or "arbitrary"),
    metres per model unit (None when arbitrary), a note that says why, and the markers triangulated."""

    status: str
    metres_per_unit: float | None
    note: str
    markers: tuple[ScaleMarker, ...]

    def as_report(self) -> dict[str, Any]:
        return {"status": self.status, "metres_per_unit": self.metres_per_unit, "note": self.note, "markers": [
            {"key": m.key, "views": m.views, "reprojection_px": m.reprojection_px} for m in self.markers]}


@dataclass(frozen=True)
class MeshSummary:
    vertices: int
    triangles: int

    def as_report(self) -> dict[str, Any]:
        return {"vertices": self.vertices, "triangles": self.triangles}


@dataclass(frozen=True)
class PhotoResult:
    """What a whole run of `reconstruct_photos` did; `as_report()` is the scan folder's report.json.
    (A failed run raises instead, after writing its partial report.json with the error.)"""

    input: str                            # the photo folder
    status: str                           # "ok"
    photos: PhotoCounts
    intrinsics: str                       # "K.txt" or how they were estimated
    sfm: SfmSummary
    dense: DenseSummary
    scale: ScaleSummary
    up: str                               # what set the up direction
    stages: Mapping[str, StageTiming]     # in the order they ran
    mesh: MeshSummary | None = None       # None when the options ask for no mesh

    def as_report(self) -> dict[str, Any]:
        report = {"pipeline": "photos", "input": self.input, "status": self.status,
                  "photos": self.photos.as_report(), "intrinsics": self.intrinsics, "sfm": self.sfm.as_report(),
                  "dense": self.dense.as_report(), "scale": self.scale.as_report(), "up": self.up}
        if self.mesh is not None:
            report["mesh"] = self.mesh.as_report()
        report["stages"] = stages_report(self.stages)
        return report


def _working_view(image_dir: Path, camera: Camera, max_size: int) -> View:
    """The photo undistorted and resized so that its longer side is at most `max_size` pixels."""
    image = read_color(image_dir / camera.name, "photo")
    if camera.distortion is not None and np.any(camera.distortion != 0):
        image = cv2.undistort(image, camera.K, camera.distortion)
    factor = min(1.0, max_size / max(camera.width, camera.height))
    width, height = round(camera.width * factor), round(camera.height * factor)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return View(image, camera.scaled(width, height).K, np.linalg.inv(camera.T_world_camera))


def _save_view(path: Path, view: View) -> None:
    with open(path, "wb") as file:
        np.savez(file, image=view.image, K=view.K, T_camera_world=view.T_camera_world)


def _load_view(path: Path) -> View:
    data = np.load(path)
    return View(data["image"], data["K"], data["T_camera_world"])


class _Pipeline:
    def __init__(self, photo_dir: Path, out_dir: Path, progress: Progress | None, options: PhotoOptions):
        self.photo_dir, self.out_dir, self.options = Path(photo_dir), Path(out_dir), options
        self.work = self.out_dir / WORK
        self.progress = progress or (lambda stage, done, total: None)
        self.runner = StageRunner(self.out_dir, progress=progress)
        self.report: dict = {"pipeline": "photos", "input": str(self.photo_dir), "status": "running"}

    # --- stages -------------------------------------------------------------------------
    def sfm(self, folder) -> SparseModel:
        o = self.options
        # A photo replaced by another of the same name changes its byte size or modification time.
        files = {name: (*size, (folder.image_dir / name).stat().st_size, (folder.image_dir / name).stat().st_mtime_ns)
                 for name, size in folder.sizes.items()}
        settings = {"photos": files, "K": folder.K, "max_image_size": o.max_image_size,
                    "matcher": o.matcher, "mapper": o.mapper}

        def work(paths, report):
            model, not_registered = run_sfm(folder, self.work / "colmap", max_image_size=o.max_image_size,
                                            matcher=o.matcher, mapper=o.mapper,
                                            progress=lambda step, done, total: self.progress(f"sfm: {step}", done, total))
            save_sparse_model(paths[f"{WORK}/sparse.npz"], sparse_model_from_colmap(model, not_registered))

        self.runner.run("sfm", [f"{WORK}/sparse.npz"], settings, work)
        return load_sparse_model(self.work / "sparse.npz")

    def markers(self, folder, sparse: SparseModel) -> list[Marker]:
        dictionaries = list(self.options.marker_dictionaries)

        def work(paths, report):
            detections = []
            for index, camera in enumerate(sparse.cameras):
                gray = read_image(folder.image_dir / camera.name, cv2.IMREAD_GRAYSCALE, "photo")
                detections.append(undistort_detections(detect_markers(gray, dictionaries), camera.K,
                                                       camera.distortion))
                report(index + 1, len(sparse.cameras))
            found = triangulate_markers(sparse.cameras, detections)
            Path(paths[f"{WORK}/markers.json"]).write_text(json.dumps(
                [{"key": m.key, "corners": m.corners.tolist(), "views": m.views,
                  "reprojection_px": m.reprojection_px} for m in found]))

        self.runner.run("markers", [f"{WORK}/markers.json"], {"dictionaries": dictionaries}, work)
        return [Marker(m["key"], np.array(m["corners"]), m["views"], m["reprojection_px"])
                for m in read_json(self.work / "markers.json", "the markers found")]

    def depth(self, folder, sparse: SparseModel) -> list[list[int]]:
        o = self.options
        centres = np.array([c.T_world_camera[:3, 3] for c in sparse.cameras])
        neighbours = select_neighbours(centres, sparse.visible, sparse.points, o.fusion_views)
        settings = {"dense_max_size": o.dense_max_size, "pairs_per_photo": o.pairs_per_photo}
        depth_dir = self.work / "depth"

        def work(paths, report):
            depth_dir.mkdir(parents=True, exist_ok=True)
            for index, camera in enumerate(sparse.cameras):
                _save_view(depth_dir / f"view_{index:04d}.npz", _working_view(folder.image_dir, camera,
                                                                              o.dense_max_size))
            total = len(sparse.cameras)
            for i in range(total):
                ref = _load_view(depth_dir / f"view_{i:04d}.npz")
                pair_depths = []
                for j in neighbours[i][:o.pairs_per_photo]:
                    shared = np.intersect1d(sparse.visible[i], sparse.visible[j])
                    src = _load_view(depth_dir / f"view_{j:04d}.npz")
                    pair_depths.append(depth_from_pair(ref, src, sparse.points[shared]))
                depth = combine_pair_depths(pair_depths) if pair_depths else np.zeros(ref.image.shape[:2], np.float32)
                np.save(depth_dir / f"depth_{i:04d}.npy", depth)
                report(i + 1, total)
            Path(paths[f"{WORK}/depth/index.json"]).write_text(json.dumps(
                {"photos": [c.name for c in sparse.cameras], "neighbours": [list(map(int, n)) for n in neighbours]}))

        self.runner.run("depth", [f"{WORK}/depth/index.json"], settings, work)
        return neighbours

    def fusion(self, sparse: SparseModel, neighbours: list[list[int]]) -> None:
        o = self.options
        depth_dir = self.work / "depth"
        settings = {"min_consistent_views": o.min_consistent_views, "fusion_views": o.fusion_views}

        def work(paths, report):
            points, colors, sources = [], [], []
            total = len(sparse.cameras)
            for i in range(total):
                others = [(_load_view(depth_dir / f"view_{j:04d}.npz"), np.load(depth_dir / f"depth_{j:04d}.npy"))
                          for j in neighbours[i]]
                p, c = fuse_view(_load_view(depth_dir / f"view_{i:04d}.npz"), np.load(depth_dir / f"depth_{i:04d}.npy"),
                                 others, min_views=min(o.min_consistent_views, max(len(others), 1)))
                points.append(p.astype(np.float32))
                colors.append(c)
                sources.append(np.full(len(p), i, np.uint32))
                report(i + 1, total)
            with open(paths[f"{WORK}/fused.npz"], "wb") as file:
                np.savez(file, points=np.concatenate(points), colors=np.concatenate(colors),
                         sources=np.concatenate(sources))

        self.runner.run("fusion", [f"{WORK}/fused.npz"], settings, work)

    def world(self, sparse: SparseModel, markers: list[Marker]) -> dict:
        o = self.options
        outputs = ["cloud.ply", "cameras.json", "anchors.json", f"{WORK}/world.json"]
        settings = {"marker_size_m": o.marker_size_m, "known_distance": o.known_distance}

        def work(paths, report):
            fused = np.load(self.work / "fused.npz")
            points = fused["points"].astype(np.float64)
            if len(points) == 0:
                raise ValueError("no dense point passed the multi-view consistency check: the photos overlap too "
                                 "little, are blurred, or show only textureless surfaces; see report.json")
            scale, status, note = self._scale(markers)
            levelling = level(points, [c.T_world_camera for c in sparse.cameras], scale)
            T = levelling.T_world_model
            write_point_cloud_ply(paths["cloud.ply"], transform_points(T, points), fused["colors"])
            write_cameras_json(paths["cameras.json"], [
                c.with_pose(transform_pose(T, c.T_world_camera, scale)) for c in sparse.cameras])
            anchors = [marker_anchor(m.key, transform_pose(T, marker_pose(m), scale), m.side * scale)
                       for m in markers] if status != "arbitrary" else []
            write_anchors_json(paths["anchors.json"], anchors)
            write_json(paths[f"{WORK}/world.json"], {
                "T_world_model": T, "scale_m_per_unit": scale if status != "arbitrary" else None,
                "scale_status": status, "scale_note": note, "up": levelling.up_source, "points": len(points)})

        self.runner.run("world", outputs, settings, work)
        return read_json(self.work / "world.json", "the scale and levelling")

    def mesh(self, sparse: SparseModel, world: dict) -> MeshSummary:
        o = self.options
        settings = {"poisson_depth": o.poisson_depth}

        def work(paths, report):
            fused = np.load(self.work / "fused.npz")
            T = np.array(world["T_world_model"])
            centres = transform_points(T, np.array([c.T_world_camera[:3, 3] for c in sparse.cameras]))
            vertices, triangles, colors = poisson_mesh(transform_points(T, fused["points"].astype(np.float64)),
                                                       fused["colors"], centres[fused["sources"]],
                                                       depth=o.poisson_depth)
            write_mesh_ply(paths["mesh.ply"], vertices, triangles, colors)

        self.runner.run("mesh", ["mesh.ply"], settings, work)
        mesh = read_mesh(self.out_dir / "mesh.ply")
        return MeshSummary(len(mesh.vertices), len(mesh.triangles))

    def _scale(self, markers: list[Marker]) -> tuple[float, str, str]:
        o = self.options
        if o.known_distance is not None:
            first, second, metres = o.known_distance
            return scale_from_known_distance(markers, str(first), str(second), float(metres)), \
                "metric (known distance)", f"{metres} m between markers {first} and {second}"
        if o.marker_size_m is not None and markers:
            return scale_from_marker_size(markers, float(o.marker_size_m)), "metric (markers)", \
                f"{len(markers)} marker(s) of {o.marker_size_m} m: " + ", ".join(m.key for m in markers)
        if o.marker_size_m is not None:
            return 1.0, "arbitrary", ("a marker size was given but no marker was seen in two or more registered "
                                      "photos; units are arbitrary")
        note = "no marker size or known distance was given; units are arbitrary"
        if markers:
            note += f" (markers seen: {', '.join(m.key for m in markers)}; give their size for metres)"
        return 1.0, "arbitrary", note

    # --- the whole run ------------------------------------------------------------------
    def run(self) -> PhotoResult:
        try:
            folder = open_photo_folder(self.photo_dir)
            self.report["photos"] = {"total": len(folder.sizes) + len(folder.unreadable), "registered": [],
                                     "not_registered": dict(folder.unreadable)}
            self.report["intrinsics"] = "K.txt" if folder.K is not None else "estimated (EXIF focal length as prior)"
            try:
                sparse = self.sfm(folder)
            except TooFewRegistered as error:
                self.report["photos"]["not_registered"].update(error.not_registered)
                raise
            self.report["photos"]["registered"] = [c.name for c in sparse.cameras]
            self.report["photos"]["not_registered"].update(sparse.not_registered)
            sfm = SfmSummary(sparse.mean_reprojection_error_px, len(sparse.points), self.options.matcher,
                             self.options.mapper)
            self.report["sfm"] = sfm.as_report()
            markers = self.markers(folder, sparse)
            neighbours = self.depth(folder, sparse)
            self.fusion(sparse, neighbours)
            world = self.world(sparse, markers)
            dense = DenseSummary(DENSE_METHOD, world["points"], self.options.dense_max_size)
            scale = ScaleSummary(world["scale_status"], world["scale_m_per_unit"], world["scale_note"],
                                 tuple(ScaleMarker(m.key, m.views, m.reprojection_px) for m in markers))
            self.report.update(dense=dense.as_report(), scale=scale.as_report(), up=world["up"])
            mesh = self.mesh(sparse, world) if self.options.mesh else None
            photos = PhotoCounts(self.report["photos"]["total"], tuple(self.report["photos"]["registered"]),
                                 dict(self.report["photos"]["not_registered"]))
            result = PhotoResult(input=self.report["input"], status="ok", photos=photos,
                                 intrinsics=self.report["intrinsics"], sfm=sfm, dense=dense, scale=scale,
                                 up=world["up"], stages=stage_timings(self.runner.timings), mesh=mesh)
            # From here on report.json is the result's own report.
            self.report = result.as_report()
            log.info("%d of %d photos registered, %d dense points, scale %s", len(sparse.cameras),
                     photos.total, world["points"], world["scale_status"])
        except Exception as error:  # the report says what stopped the run, whatever it was
            self.report["status"] = "failed"
            self.report["error"] = str(error) or type(error).__name__
            raise
        finally:
            # By design, a failed run leaves report.json too: the record of what stopped it (status "failed",
            # the error, the photos left out and why). Nothing else is half-written: stage outputs and this
            # report appear whole or not at all (atomic writes), and what earlier runs finished stays.
            if self.report.get("status") != "ok":
                self.report["stages"] = self.runner.timings
            self.out_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.out_dir / "report.json", self.report)
        return result


def reconstruct_photos(photo_dir: str | Path, out_dir: str | Path, options: PhotoOptions | None = None, *,
                       progress: Progress | None = None) -> PhotoResult:
    """Reconstructs the photos in `photo_dir` into the scan folder `out_dir` (see the module doc) with
    `options` (the defaults of `PhotoOptions` where None). Returns what it did (`as_report()` is also
    written as report.json); raises ValueError, after writing report.json, when the photos cannot make a
    reconstruction (too few, not overlapping, no dense points)."""
    return _Pipeline(Path(photo_dir), Path(out_dir), progress, options or PhotoOptions()).run()
