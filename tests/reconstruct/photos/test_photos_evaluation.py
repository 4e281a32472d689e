"""The figures the photo benchmark reports: similarity alignment, camera-centre errors, the visible
part of a true surface, accuracy and completeness."""
from __future__ import annotations

import numpy as np
import open3d as o3d
import pytest

from twin.camera import Camera
from twin.reconstruct.photos.evaluation import (accuracy_completeness, camera_centre_errors, read_strecha_cameras,
                                                similarity_alignment, visible_surface)


def _rotation(seed: int) -> np.ndarray:
    Q, R = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    Q = Q * np.sign(np.diag(R))
    return Q if np.linalg.det(Q) > 0 else -Q


def test_similarity_alignment_recovers_scale_rotation_and_translation():
    source = np.random.default_rng(0).normal(size=(20, 3))
    R, t, s = _rotation(1), np.array([1.0, -2.0, 0.5]), 3.7
    target = s * source @ R.T + t
    s_found, R_found, t_found = similarity_alignment(source, target)
    assert s_found == pytest.approx(s) and np.allclose(R_found, R) and np.allclose(t_found, t)
    names = [f"{i}.jpg" for i in range(20)]
    moved = dict(zip(names, target))
    moved["3.jpg"] = moved["3.jpg"] + [0.0, 0.0, 0.01]
    errors = camera_centre_errors(dict(zip(names, source)), moved)
    assert max(errors, key=errors.get) == "3.jpg" and errors["3.jpg"] < 0.01
    with pytest.raises(ValueError, match="N >= 3"):
        similarity_alignment(source[:2], target[:2])


def test_strecha_camera_files_give_the_centre_row(tmp_path):
    rows = ["2759.48 0 1520.69", "0 2764.16 1006.81", "0 0 1", "0 0 0", "1 0 0", "0 1 0", "0 0 1",
            "-6.7 -14.2 0.27", "3072 2048"]
    (tmp_path / "0000.jpg.camera").write_text("\n".join(rows))
    assert np.allclose(read_strecha_cameras(tmp_path)["0000.jpg"], [-6.7, -14.2, 0.27])
    (tmp_path / "0001.jpg.camera").write_text("1 2 3")
    with pytest.raises(ValueError, match="26"):
        read_strecha_cameras(tmp_path)


def test_visible_surface_accuracy_and_completeness_on_a_box():
    box = o3d.geometry.TriangleMesh.create_box(1.0, 1.0, 1.0)
    K = np.array([[300.0, 0, 199.5], [0, 300.0, 199.5], [0, 0, 1]])
    cameras = []
    for x in (0.3, 0.7):  # two cameras 3 m in front of the face y = 0, looking at +y
        T = np.eye(4)
        T[:3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]
        T[:3, 3] = [x, -3.0, 0.5]
        cameras.append(Camera.from_K(K, 400, 400, name=f"{x}", T_world_camera=T))
    seen = visible_surface(box, cameras, min_views=2, samples=60_000)
    # Only the face towards them (and, within the occlusion tolerance, the rim of the side faces).
    assert np.all(seen[:, 1] < 0.01) and np.mean(seen[:, 1] < 1e-6) > 0.95
    assert len(seen) == pytest.approx(10_000, rel=0.1)  # one of six equal faces
    face = seen[seen[:, 0] < 0.5]
    accuracy, completeness = accuracy_completeness(face + [0.0, -0.005, 0.0], box, surface=seen, threshold_m=0.02)
    assert accuracy == pytest.approx(0.005, abs=1e-4)
    assert 0.4 < completeness < 0.7  # half of the seen face's samples carry a point
