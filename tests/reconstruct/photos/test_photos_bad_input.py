"""Bad input to the photo pipeline: a clear ValueError and a report.json that says what was wrong,
never a crash or a silent empty cloud."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from twin.cli import main
from twin.reconstruct.photos.folder import open_photo_folder
from twin.reconstruct.photos.pipeline import PhotoOptions, reconstruct_photos


def _noise_photo(path, seed: int) -> None:
    """A photo of nothing that any other photo shows: blocky random noise."""
    blocks = np.random.default_rng(seed).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    cv2.imwrite(str(path), cv2.resize(blocks, (640, 480), interpolation=cv2.INTER_NEAREST))


def test_fewer_than_three_photos_is_refused_with_a_report(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(2):
        _noise_photo(photos / f"{seed}.jpg", seed)
    (photos / "notes.txt").write_text("not a photo")
    with pytest.raises(ValueError, match="2 readable photo.*at least 3"):
        reconstruct_photos(photos, tmp_path / "scan")
    report = json.loads((tmp_path / "scan" / "report.json").read_text())
    assert report["status"] == "failed" and "at least 3" in report["error"]


def test_corrupt_files_are_named_and_do_not_count(tmp_path):
    for seed in range(3):
        _noise_photo(tmp_path / f"{seed}.jpg", seed)
    (tmp_path / "2.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(ValueError, match=r"2 readable photo.*2\.jpg: the file cannot be decoded"):
        open_photo_folder(tmp_path)


def test_missing_folder_and_bad_intrinsics_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        open_photo_folder(tmp_path / "nowhere")
    for seed in range(3):
        _noise_photo(tmp_path / f"{seed}.jpg", seed)
    (tmp_path / "K.txt").write_text("1 2 3\n")
    with pytest.raises(ValueError, match="3x3 matrix"):
        open_photo_folder(tmp_path)
    (tmp_path / "K.txt").write_text("500 0 320\n0 500 240\n0 0 1\n")
    folder = open_photo_folder(tmp_path)
    assert folder.K[0, 0] == 500 and folder.K_size == (640, 480) and folder.names == ["0.jpg", "1.jpg", "2.jpg"]


def test_photos_that_do_not_overlap_fail_with_a_reason_per_photo(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(3):
        _noise_photo(photos / f"{seed}.jpg", 10 + seed)
    with pytest.raises(ValueError, match="only 0 of 3 photos registered"):
        reconstruct_photos(photos, tmp_path / "scan")
    report = json.loads((tmp_path / "scan" / "report.json").read_text())
    assert report["status"] == "failed"
    assert set(report["photos"]["not_registered"]) == {"0.jpg", "1.jpg", "2.jpg"}
    assert all("match" in why for why in report["photos"]["not_registered"].values())
    assert not (tmp_path / "scan" / "cloud.ply").exists()


def test_options_out_of_range_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 64 pixels"):
        reconstruct_photos(tmp_path, tmp_path / "scan", PhotoOptions(dense_max_size=10))
    with pytest.raises(ValueError, match="matcher 'fast' is not known"):
        for seed in range(3):
            _noise_photo(tmp_path / f"{seed}.jpg", seed)
        reconstruct_photos(tmp_path, tmp_path / "scan", PhotoOptions(matcher="fast"))
    # Before SfM's minutes, not when the markers stage reaches it.
    with pytest.raises(ValueError, match="unknown marker dictionary DICT_NOPE"):
        reconstruct_photos(tmp_path, tmp_path / "scan2", PhotoOptions(marker_dictionaries=["DICT_4X4_50", "DICT_NOPE"]))
    assert not (tmp_path / "scan2" / "work").exists()


def test_twin_reconstruct_reports_photos_that_do_not_overlap(tmp_path, capsys):
    for seed in range(3):
        _noise_photo(tmp_path / f"{seed}.jpg", 20 + seed)
    code = main(["reconstruct", str(tmp_path), "-o", str(tmp_path / "scan")])
    assert code == 2
    assert "only 0 of 3 photos registered" in capsys.readouterr().err
    code = main(["reconstruct", str(tmp_path), "-o", str(tmp_path / "scan"), "--known-distance", "1", "2", "far"])
    assert code == 2 and "distance in metres" in capsys.readouterr().err


def test_photo_options_keep_the_pipeline_defaults_and_raise_fusion_views_to_the_pairs():
    options = PhotoOptions()
    assert (options.max_image_size, options.matcher, options.mapper, options.dense_max_size, options.pairs_per_photo,
            options.fusion_views, options.min_consistent_views, options.marker_size_m, options.known_distance,
            options.mesh, options.poisson_depth) == (1600, "auto", "incremental", 1024, 5, 6, 1, None, None, True, 9)
    assert PhotoOptions(pairs_per_photo=8, fusion_views=3).fusion_views == 8
    assert PhotoOptions(marker_dictionaries="DICT_4X4_50").marker_dictionaries == ("DICT_4X4_50",)
    with pytest.raises(ValueError, match="at least 1"):
        PhotoOptions(pairs_per_photo=0)
