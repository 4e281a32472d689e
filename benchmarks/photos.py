"""The photo pipeline against pycolmap alone, on real photos with ground truth and on the sample workshop.

1. herzjesu_p8 (../shared/data/photos, 8 photos 3072x2048, K.txt, Strecha's metric cameras):
   `twin.reconstruct.photos.pipeline` end to end (default settings) and, in the same run, pycolmap alone
   with the same features, matcher and mapper (the anchor for the SfM part: their ratio);
   photos registered, camera-centre error after a similarity alignment to the ground truth
   (mean and max, mm), dense points, time per stage.
2. sceaux_castle (11 photos, approximate K.txt, no ground truth): photos registered, times.
3. The sample workshop (twin.synth.render_sample photos and ground truth): camera-centre error,
   accuracy (mean distance from dense points to the true mesh) and completeness (fraction of the
   true surface within 2 cm of a dense point), after aligning our cameras onto the true ones by a
   similarity; completeness counts the surface that at least two photos saw unoccluded.

    python benchmarks/photos.py                        # all three parts
    python benchmarks/photos.py --parts herzjesu       # one part
    python benchmarks/photos.py --sample-dir /tmp/sample   # reuse (or keep) a rendered sample
Goals (issue 5): all 8 Herz-Jesu photos registered with mean centre error <= 10 mm; >= 1 million
dense points in <= 3 minutes on 2 cores; sample workshop accuracy <= 2 cm, completeness >= 80 %.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import open3d as o3d
import pycolmap

from twin.reconstruct.photos.evaluation import (accuracy_completeness, camera_centre_errors, read_strecha_cameras,
                                                similarity_alignment, visible_surface)
from twin.reconstruct.photos.folder import open_photo_folder
from twin.reconstruct.photos.pipeline import PhotoResult, reconstruct_photos
from twin.scanfolder import read_cameras_json

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TWIN_SHARED_DATA", ROOT.parent / "shared" / "data"))
HERZJESU = SHARED / "photos" / "herzjesu_p8"
SCEAUX = SHARED / "photos" / "sceaux_castle"


def pycolmap_alone(photo_dir: Path, work: Path, max_image_size: int = 1600) -> tuple[float, float, dict[str, np.ndarray]]:
    """pycolmap's own SIFT extraction, exhaustive matching and incremental mapping, timed as a whole,
    with the same settings as our SfM stage (fixed K from K.txt, features at `max_image_size`)."""
    folder = open_photo_folder(photo_dir)
    work.mkdir(parents=True)
    start, cpu = time.perf_counter(), time.process_time()
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "PINHOLE"
    K = folder.K
    reader.camera_params = f"{K[0, 0]},{K[1, 1]},{K[0, 2]},{K[1, 2]}"
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.max_image_size = max_image_size
    pycolmap.extract_features(work / "database.db", folder.image_dir, camera_mode=pycolmap.CameraMode.SINGLE,
                              reader_options=reader, extraction_options=extraction, device=pycolmap.Device.cpu)
    pycolmap.match_exhaustive(work / "database.db", device=pycolmap.Device.cpu)
    options = pycolmap.IncrementalPipelineOptions()
    options.ba_refine_focal_length = options.ba_refine_principal_point = options.ba_refine_extra_params = False
    models = pycolmap.incremental_mapping(work / "database.db", folder.image_dir, work, options)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    model = max(models.values(), key=lambda m: m.num_reg_images())
    return seconds, cpu, {im.name: im.projection_center() for im in model.images.values() if im.has_pose}


def _stage_rows(result: PhotoResult) -> list[str]:
    return [f"  {name:<8} {timing.seconds:7.1f} s" for name, timing in result.stages.items()]


def herzjesu(work: Path) -> None:
    truth = read_strecha_cameras(HERZJESU / "gt_dense_cameras")
    start, cpu = time.perf_counter(), time.process_time()
    result = reconstruct_photos(HERZJESU, work / "ours")
    ours_seconds, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
    ours = {c.name: c.T_world_camera[:3, 3] for c in read_cameras_json(work / "ours" / "cameras.json")}
    anchor_seconds, anchor_cpu, anchor = pycolmap_alone(HERZJESU, work / "pycolmap")
    ours_errors = np.array(list(camera_centre_errors(ours, truth).values())) * 1000
    anchor_errors = np.array(list(camera_centre_errors(anchor, truth).values())) * 1000
    sfm_seconds = result.stages["sfm"].seconds
    dense_seconds = sum(result.stages[name].seconds for name in ("sfm", "markers", "depth", "fusion", "world"))
    print("\n## herzjesu_p8 (8 photos, 3072x2048)")
    print("| method | SfM s | registered | centre error mean mm | max mm |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| twin (pycolmap SfM stage) | {sfm_seconds:.1f} | {len(ours)}/8 | {ours_errors.mean():.2f} | {ours_errors.max():.2f} |")
    print(f"| pycolmap alone | {anchor_seconds:.1f} | {len(anchor)}/8 | {anchor_errors.mean():.2f} | {anchor_errors.max():.2f} |")
    print(f"SfM time ratio twin / pycolmap: {sfm_seconds / anchor_seconds:.2f}")
    print(f"dense points: {result.dense.points:,} in {dense_seconds:.1f} s from the photos "
          f"(to cloud.ply); whole run with mesh: {ours_seconds:.1f} s wall, {ours_cpu:.1f} s CPU "
          f"(pycolmap alone: {anchor_cpu:.1f} s CPU); on a shared machine wall time includes waiting for the cores")
    print("\n".join(_stage_rows(result)))


def sceaux(work: Path) -> None:
    start = time.perf_counter()
    result = reconstruct_photos(SCEAUX, work / "sceaux")
    seconds = time.perf_counter() - start
    print("\n## sceaux_castle (11 photos, 2832x2128, approximate K)")
    print(f"registered {len(result.photos.registered)}/{result.photos.total}, "
          f"not registered: {dict(result.photos.not_registered) or 'none'}; reprojection error "
          f"{result.sfm.mean_reprojection_error_px:.2f} px; dense points {result.dense.points:,}; "
          f"{seconds:.1f} s")
    print("\n".join(_stage_rows(result)))


def sample_workshop(work: Path, sample_dir: Path | None) -> None:
    from twin.synth.sample import render_sample

    root = sample_dir or work / "sample"
    if not (root / "ground_truth" / "mesh.ply").is_file():
        render_sample(root)
    start = time.perf_counter()
    result = reconstruct_photos(root / "photos", work / "sample_scan")
    seconds = time.perf_counter() - start
    true_cameras = read_cameras_json(root / "ground_truth" / "photo_cameras.json")
    truth = {c.name: c.T_world_camera[:3, 3] for c in true_cameras}
    ours = {c.name: c.T_world_camera[:3, 3] for c in read_cameras_json(work / "sample_scan" / "cameras.json")}
    names = sorted(set(ours) & set(truth))
    s, R, t = similarity_alignment(np.array([ours[n] for n in names]), np.array([truth[n] for n in names]))
    errors = np.array(list(camera_centre_errors(ours, truth).values())) * 1000
    points = np.asarray(o3d.io.read_point_cloud(str(work / "sample_scan" / "cloud.ply")).points)
    mesh = o3d.io.read_triangle_mesh(str(root / "ground_truth" / "mesh.ply"))
    seen = visible_surface(mesh, true_cameras, min_views=2)
    accuracy, completeness = accuracy_completeness(s * points @ R.T + t, mesh, surface=seen)
    print(f"\n## sample workshop ({len(truth)} photos)")
    print(f"registered {len(ours)}/{len(truth)}; centre error mean {errors.mean():.1f} mm, max {errors.max():.1f} mm; "
          f"dense points {result.dense.points:,}; {seconds:.1f} s")
    print("| accuracy (mean distance to the true mesh) | completeness (true surface seen by 2+ photos, within 2 cm) |")
    print("| --- | --- |")
    print(f"| {accuracy * 100:.2f} cm | {completeness * 100:.1f} % |")
    print("\n".join(_stage_rows(result)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["herzjesu", "sceaux", "sample"],
                        choices=["herzjesu", "sceaux", "sample"])
    parser.add_argument("--sample-dir", type=Path, help="a rendered sample workshop to reuse (rendered there if absent)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="twin-photos-bench-"))
    try:
        if "herzjesu" in args.parts:
            herzjesu(work)
        if "sceaux" in args.parts:
            sceaux(work)
        if "sample" in args.parts:
            sample_workshop(work, args.sample_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
