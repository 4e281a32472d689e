"""A floor plan of the sample workshop as twin reconstructs it from its rendered RGB-D walk (depth
noise, odometry drift, TSDF fusion), not from its ground-truth surface: the room's dimensions to
centimetres, right angles, every wall placed within the reconstruction's own drift, and no opening
claimed where there is none (a window whose head the walk never saw is not claimed either)."""
from __future__ import annotations

import numpy as np
import pytest

from twin.capture import open_capture
from twin.plan import extract_floor_plan
from twin.reconstruct.rgbd.pipeline import reconstruct_rgbd
from twin.scanfolder import read_cloud
from twin.synth import load_workshop
from twin.synth.openings import wall_frames, wall_openings

TRUE_CORNERS = np.array([[0, 0], [8, 0], [8, 6], [0, 6]], dtype=np.float64)
# The reconstruction's frame drifts from the world's along the walk (about a degree of yaw over the
# room here): corners are compared within that, the room's own dimensions far tighter.
DRIFT_M = 0.25


@pytest.fixture(scope="module")
def reconstructed_cloud(tmp_path_factory) -> np.ndarray:
    from twin.synth import render_sample

    sample = render_sample(tmp_path_factory.mktemp("sample"), frames=60, photos=3, rgbd_size=(160, 120),
                           photo_size=(320, 240))
    scan = tmp_path_factory.mktemp("scan") / "sample_workshop"
    reconstruct_rgbd(open_capture(sample.rgbd), scan, voxel_size_m=0.02)
    return read_cloud(scan / "cloud.ply")[0]


@pytest.mark.slow
def test_the_reconstructed_sample_gives_the_room_to_centimetres(reconstructed_cloud):
    plan = extract_floor_plan(reconstructed_cloud, "reconstructed sample")
    corners = np.array([w.points[0] for w in plan.walls])
    assert len(corners) == 4, corners
    assert all(np.min(np.linalg.norm(corners - truth, axis=1)) < DRIFT_M for truth in TRUE_CORNERS), corners
    sides = np.roll(corners, -1, axis=0) - corners
    lengths = sorted(np.linalg.norm(sides, axis=1))
    assert lengths == pytest.approx([6.0, 6.0, 8.0, 8.0], abs=0.05)
    for a, b in zip(sides, np.roll(sides, -1, axis=0)):
        assert abs(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b)) < np.sin(np.radians(1.0))  # right angles
    assert all(0.0 < w.confidence <= 1.0 for w in plan.walls)
    # Every opening it claims is a real one (the walk may leave some unconfirmed, never invent one).
    frames = wall_frames(load_workshop().room_size_m)
    true_middles = [(frames[o.wall][0] + frames[o.wall][1] * np.mean(o.along_m))[:2] for o in wall_openings(load_workshop())]
    for opening in plan.openings:
        middle = np.mean(opening.points, axis=0)
        assert min(np.linalg.norm(middle - t) for t in true_middles) < DRIFT_M + 0.1, opening
