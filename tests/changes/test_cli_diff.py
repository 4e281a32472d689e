"""`twin diff` end to end on files: the table, --json, distances.ply's fields, the exit status of a
pair that cannot be aligned."""
from __future__ import annotations

import json

import numpy as np
import pytest
import workshop_scans as ws

from twin.cli import main
from twin.scanfolder import write_json, write_point_cloud_ply
from twin.scanfolder.ply import read_ply_header

pytestmark = pytest.mark.slow  # one diff of two rooms


def test_twin_diff_of_two_scan_folders_writes_distances_and_names_the_moved_machine(tmp_path, capsys,
                                                                                      workshop_document):
    from twin.document import to_dict
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    write_point_cloud_ply(old / "cloud.ply", ws.scan(ws.workshop(), seed=1))
    write_json(old / "twin.json", to_dict(workshop_document))
    write_point_cloud_ply(new / "cloud.ply", ws.scan(ws.moved("cnc-1", [-0.8, -0.9, 0.0], 20.0), seed=2,
                                                     noise_m=0.005, T=ws.frame(30, [1.0, -2.0, 0.3])))
    assert main(["diff", str(old), str(new), "-o", str(tmp_path / "out"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"T_old_new", "fitness", "converged", "changes", "seconds"}
    assert summary["converged"] and [c["kind"] for c in summary["changes"]] == ["moved"]
    moved = summary["changes"][0]
    assert moved["machine"] == "cnc-1" and abs(moved["motion"]["distance_m"] - 1.204) < 0.05
    assert moved["description"].startswith("cnc-1 moved 1.2")
    header = read_ply_header(tmp_path / "out" / "distances.ply")
    vertex = next(e for e in header.elements if e.name == "vertex")
    assert {"distance", "significant"} <= {words[-1] for words in vertex.properties}
    assert (tmp_path / "out" / "distances_colored.ply").is_file()


def test_twin_diff_says_when_there_is_no_reliable_alignment(tmp_path, capsys):
    write_point_cloud_ply(tmp_path / "old.ply", ws.scan(ws.workshop(), seed=1))
    write_point_cloud_ply(tmp_path / "new.ply", np.random.default_rng(0).normal(size=(50_000, 3)) * [3, 0.2, 2])
    assert main(["diff", str(tmp_path / "old.ply"), str(tmp_path / "new.ply"), "-o", str(tmp_path / "out")]) == 1
    assert "no reliable alignment" in capsys.readouterr().out
    assert not (tmp_path / "out" / "distances.ply").exists()


def test_twin_diff_names_the_bad_file(tmp_path, capsys):
    (tmp_path / "old.ply").write_text("not a cloud")
    assert main(["diff", str(tmp_path / "old.ply"), str(tmp_path / "old.ply"), "-o", str(tmp_path / "out")]) == 2
    assert "old.ply" in capsys.readouterr().err
