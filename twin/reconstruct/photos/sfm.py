"""Structure from motion with pycolmap: SIFT features, matching, incremental (or global) mapping.

Only pycolmap's SIFT extractor and matcher are used: its ALIKED and LightGlue types abort the
process on this build. Photos that do not register are reported with a reason taken from the
match database, never silently dropped.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pycolmap

from twin.camera import Camera
from twin.progress import Progress
from twin.reconstruct.photos.folder import PhotoFolder

log = logging.getLogger(__name__)

EXHAUSTIVE_MATCHING_MAX_PHOTOS = 60
MIN_REGISTERED = 3


class TooFewRegistered(ValueError):
    """Fewer than three photos registered; `not_registered` says why, photo by photo."""

    def __init__(self, message: str, not_registered: dict[str, str]):
        super().__init__(message)
        self.not_registered = not_registered


@dataclass
class SparseModel:
    cameras: list[Camera]  # per registered photo: named, posed, OpenCV distortion (k1, k2, p1, p2) at its own size
    points: np.ndarray  # (N, 3) triangulated SIFT tracks
    colors: np.ndarray  # (N, 3) uint8 RGB
    visible: list[np.ndarray]  # per camera: indices of the points it observes
    not_registered: dict[str, str]  # photo name -> why it has no pose
    mean_reprojection_error_px: float


def _camera_intrinsics(camera: pycolmap.Camera) -> tuple[np.ndarray, np.ndarray]:
    params = np.asarray(camera.params, dtype=np.float64)
    model = camera.model.name
    if model in ("SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL"):
        K = np.array([[params[0], 0, params[1]], [0, params[0], params[2]], [0, 0, 1.0]])
        radial = list(params[3:5]) + [0.0] * (2 - len(params[3:5]))
        return K, np.array([radial[0], radial[1], 0.0, 0.0])
    if model in ("PINHOLE", "OPENCV"):
        K = np.array([[params[0], 0, params[2]], [0, params[1], params[3]], [0, 0, 1.0]])
        return K, (params[4:8].copy() if model == "OPENCV" else np.zeros(4))
    raise ValueError(f"camera model {model} is not supported; use SIMPLE_RADIAL, RADIAL, PINHOLE or OPENCV")


def _extract(folder: PhotoFolder, database: Path, max_image_size: int) -> None:
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.max_image_size = max_image_size
    known, unknown = [], []
    for name in folder.names:
        (known if folder.has_K(name) else unknown).append(name)
    if known:
        reader = pycolmap.ImageReaderOptions()
        reader.camera_model = "PINHOLE"
        K = folder.K
        reader.camera_params = f"{K[0, 0]},{K[1, 1]},{K[0, 2]},{K[1, 2]}"
        pycolmap.extract_features(database, folder.image_dir, image_names=known,
                                  camera_mode=pycolmap.CameraMode.SINGLE, reader_options=reader,
                                  extraction_options=extraction, device=pycolmap.Device.cpu)
    if unknown:
        # Focal length from EXIF where present; one camera per distinct size and make/model.
        pycolmap.extract_features(database, folder.image_dir, image_names=unknown,
                                  camera_mode=pycolmap.CameraMode.AUTO,
                                  extraction_options=extraction, device=pycolmap.Device.cpu)


def _match(database: Path, n_photos: int, matcher: str) -> None:
    if matcher == "auto":
        matcher = "exhaustive" if n_photos <= EXHAUSTIVE_MATCHING_MAX_PHOTOS else "sequential"
    if matcher == "exhaustive":
        pycolmap.match_exhaustive(database, device=pycolmap.Device.cpu)
    elif matcher == "sequential":
        # Photos in file-name order, each matched with its 10 successors; no vocabulary tree (it is a download).
        pycolmap.match_sequential(database, pairing_options=pycolmap.SequentialPairingOptions(overlap=10),
                                  device=pycolmap.Device.cpu)
    else:
        raise ValueError(f"matcher {matcher!r} is not known; use 'auto', 'exhaustive' or 'sequential'")


def _known_cameras(database: Path, known: set[str]) -> set[int]:
    """Ids of the cameras whose intrinsics came from K.txt."""
    db = pycolmap.Database.open(str(database))
    try:
        return {image.camera_id for image in db.read_all_images() if image.name in known}
    finally:
        db.close()


def _map(database: Path, image_dir: Path, sparse_dir: Path, mapper: str, constant_cameras: set[int],
         on_image: Callable[[], None]) -> dict[int, pycolmap.Reconstruction]:
    if mapper == "incremental":
        options = pycolmap.IncrementalPipelineOptions()
        # K.txt is trusted as exact; other cameras (EXIF or default focal length) are refined.
        options.constant_cameras = constant_cameras
        return pycolmap.incremental_mapping(database, image_dir, sparse_dir, options,
                                            next_image_callback=on_image)
    if mapper == "global":
        return pycolmap.global_mapping(database, image_dir, sparse_dir)
    raise ValueError(f"mapper {mapper!r} is not known; use 'incremental' or 'global'")


def _why_not_registered(database: Path, models: list[pycolmap.Reconstruction], names: list[str]) -> dict[str, str]:
    db = pycolmap.Database.open(str(database))
    try:
        id_of = {image.name: image.image_id for image in db.read_all_images()}
        inliers: dict[int, int] = {}
        pair_ids, geometries = db.read_two_view_geometries()
        for pair_id, geometry in zip(pair_ids, geometries):
            count = len(geometry.inlier_matches)
            for image_id in pycolmap.pair_id_to_image_pair(pair_id):
                inliers[image_id] = inliers.get(image_id, 0) + count
    finally:
        db.close()
    reasons = {}
    for name in names:
        other = next((m for m in models[1:] if m.find_image_with_name(name) is not None
                      and m.find_image_with_name(name).has_pose), None)
        matches = inliers.get(id_of.get(name, -1), 0)
        if other is not None:
            reasons[name] = (f"registered only in a separate model of {other.num_reg_images()} photos that "
                             "shares too little with the main one (take photos that bridge the two)")
        elif matches == 0:
            reasons[name] = "shares no verified feature matches with any other photo (it does not overlap them)"
        else:
            reasons[name] = (f"has {matches} verified feature matches with other photos, too few to fix its pose "
                             "(take more overlapping photos from nearby viewpoints)")
    return reasons


def sparse_model_from_colmap(model: pycolmap.Reconstruction, not_registered: dict[str, str]) -> SparseModel:
    point_ids = sorted(model.points3D)
    index_of = {pid: i for i, pid in enumerate(point_ids)}
    points = np.array([model.points3D[pid].xyz for pid in point_ids], dtype=np.float64).reshape(-1, 3)
    colors = np.array([model.points3D[pid].color for pid in point_ids], dtype=np.uint8).reshape(-1, 3)
    cameras, visible = [], []
    for image in sorted((im for im in model.images.values() if im.has_pose), key=lambda im: im.name):
        camera = model.cameras[image.camera_id]
        K, distortion = _camera_intrinsics(camera)
        T_camera_world = np.eye(4)
        T_camera_world[:3] = image.cam_from_world().matrix()
        cameras.append(Camera.from_K(K, int(camera.width), int(camera.height), name=image.name,
                                     T_world_camera=np.linalg.inv(T_camera_world), distortion=distortion))
        seen = [index_of[p.point3D_id] for p in image.points2D if p.has_point3D()]
        visible.append(np.unique(np.array(seen, dtype=np.int64)))
    return SparseModel(cameras, points, colors, visible, dict(not_registered),
                       float(model.compute_mean_reprojection_error()))


def run_sfm(folder: PhotoFolder, work_dir: Path, *, max_image_size: int = 1600, matcher: str = "auto",
            mapper: str = "incremental", progress: Progress | None = None) -> tuple[pycolmap.Reconstruction, dict[str, str]]:
    """Registers the photos of `folder`; returns the largest model and, per unregistered photo, why.

    Raises TooFewRegistered (a ValueError, with the reasons) when fewer than three photos register."""
    report = progress or (lambda stage, done, total: None)
    # COLMAP logs every step straight onto stderr (glog): only where our log shows INFO (twin --verbose).
    # Its errors come back as results too (photos not registered), which the report and our error state.
    quiet = not log.isEnabledFor(logging.INFO)
    pycolmap.logging.minloglevel = int(pycolmap.logging.FATAL if quiet else pycolmap.logging.INFO)
    work_dir.mkdir(parents=True, exist_ok=True)
    database = work_dir / "database.db"
    database.unlink(missing_ok=True)
    names = folder.names
    report("features", 0, len(names))
    _extract(folder, database, max_image_size)
    report("features", len(names), len(names))
    report("matching", 0, 1)
    _match(database, len(names), matcher)
    report("matching", 1, 1)
    registered = [0]

    def on_image() -> None:
        registered[0] += 1
        report("mapping", min(registered[0], len(names)), len(names))

    sparse_dir = work_dir / "sparse"
    sparse_dir.mkdir(exist_ok=True)
    known = _known_cameras(database, {name for name in names if folder.has_K(name)})
    models = sorted(_map(database, folder.image_dir, sparse_dir, mapper, known, on_image).values(),
                    key=lambda m: m.num_reg_images(), reverse=True)
    main_names = set() if not models else {im.name for im in models[0].images.values() if im.has_pose}
    not_registered = _why_not_registered(database, models, [n for n in names if n not in main_names])
    if len(main_names) < MIN_REGISTERED:
        detail = "; ".join(f"{name}: {why}" for name, why in not_registered.items())
        raise TooFewRegistered(f"only {len(main_names)} of {len(names)} photos registered, too few for a reconstruction "
                         f"({detail}); photos must overlap, with each part of the scene seen from 3 or more viewpoints", not_registered)
    report("mapping", len(names), len(names))
    log.info("registered %d of %d photos", len(main_names), len(names))
    return models[0], not_registered


def save_sparse_model(path: Path, model: SparseModel) -> None:
    """One .npz: the stages after structure from motion read this instead of COLMAP's files."""
    offsets = np.cumsum([0] + [len(v) for v in model.visible])
    with open(path, "wb") as file:
        np.savez(file, names=np.array([c.name for c in model.cameras]),
                 K=np.array([c.K for c in model.cameras]).reshape(-1, 3, 3),
                 sizes=np.array([(c.width, c.height) for c in model.cameras]).reshape(-1, 2),
                 T_world_camera=np.array([c.T_world_camera for c in model.cameras]).reshape(-1, 4, 4),
                 distortion=np.array([np.zeros(4) if c.distortion is None else c.distortion
                                     for c in model.cameras]).reshape(-1, 4),
                 points=model.points, colors=model.colors,
                 visible=np.concatenate(model.visible) if model.visible else np.zeros(0, np.int64),
                 visible_offsets=offsets,
                 not_registered=np.array(json.dumps(model.not_registered)),
                 mean_reprojection_error_px=model.mean_reprojection_error_px)


def load_sparse_model(path: Path) -> SparseModel:
    data = np.load(path)
    offsets = data["visible_offsets"]
    cameras = [Camera.from_K(K, int(size[0]), int(size[1]), name=str(name), T_world_camera=T, distortion=distortion)
               for name, K, size, T, distortion in zip(data["names"], data["K"], data["sizes"],
                                                       data["T_world_camera"], data["distortion"])]
    visible = [data["visible"][offsets[i]:offsets[i + 1]] for i in range(len(cameras))]
    return SparseModel(cameras, data["points"], data["colors"], visible, json.loads(str(data["not_registered"])),
                       float(data["mean_reprojection_error_px"]))
