"""The sample workshop as a scan folder for plans: its twin document and a cloud sampled from its
ground-truth surface (every face, 5 mm noise), cheap enough for every test run."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from twin.document import load, to_dict
from twin.scanfolder import write_json, write_point_cloud_ply
from twin.synth import load_workshop
from twin.synth.scene import build_room_scene

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DOCUMENT = PROJECT_ROOT / "scans" / "sample_workshop.twin.yaml"


def sample_surface_points(count: int = 300_000, noise_m: float = 0.005, seed: int = 1) -> np.ndarray:
    """Points spread uniformly by area over the sample's visible surface, with Gaussian noise."""
    scene = build_room_scene(load_workshop())
    corners = scene.vertices[scene.triangles]
    areas = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1) / 2
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(areas), count, p=areas / areas.sum())
    r1, r2 = np.sqrt(rng.random(count)), rng.random(count)
    a, b, c = (corners[chosen, k] for k in range(3))
    points = (1 - r1)[:, None] * a + (r1 * (1 - r2))[:, None] * b + (r1 * r2)[:, None] * c
    return points + rng.normal(0.0, noise_m, points.shape)


def write_plan_scan(folder: Path, points: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "twin.json", to_dict(load(SAMPLE_DOCUMENT)))
    write_point_cloud_ply(folder / "cloud.ply", points)
    return folder
