"""The stage runner: outputs appear only when a stage finishes; reruns skip finished stages."""
from __future__ import annotations

import json

import pytest

from twin.reconstruct.stages import STATE_FILE, StageRunner


def _writer(calls, name, text):
    def work(paths, report):
        calls.append(name)
        for path in paths.values():
            path.write_text(text)
        report(1, 1)
    return work


def test_rerun_skips_finished_stages_and_keeps_their_timings(tmp_path):
    calls, seen = [], []
    runner = StageRunner(tmp_path, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert runner.run("a", ["work/a.json"], {"x": 1}, _writer(calls, "a", "A"))
    assert runner.run("b", ["b.txt"], {"y": 2}, _writer(calls, "b", "B"))
    assert (tmp_path / "work" / "a.json").read_text() == "A"
    assert ("a", 1, 1) in seen and ("b", 1, 1) in seen
    assert set(json.loads((tmp_path / STATE_FILE).read_text())) == {"a", "b"}

    again = StageRunner(tmp_path)
    assert not again.run("a", ["work/a.json"], {"x": 1}, _writer(calls, "a", "A2"))
    assert not again.run("b", ["b.txt"], {"y": 2}, _writer(calls, "b", "B2"))
    assert calls == ["a", "b"]
    assert again.timings["a"]["reused"] and again.timings["b"]["reused"]
    assert again.timings["a"]["seconds"] == pytest.approx(runner.timings["a"]["seconds"])


def test_changed_settings_rerun_that_stage_and_everything_after_it(tmp_path):
    calls = []
    runner = StageRunner(tmp_path)
    runner.run("a", ["a.txt"], {"x": 1}, _writer(calls, "a", "A"))
    runner.run("b", ["b.txt"], {}, _writer(calls, "b", "B"))
    again = StageRunner(tmp_path)
    assert again.run("a", ["a.txt"], {"x": 2}, _writer(calls, "a", "A2"))
    assert again.run("b", ["b.txt"], {}, _writer(calls, "b", "B2"))
    assert (tmp_path / "b.txt").read_text() == "B2"


def test_a_deleted_output_reruns_its_stage(tmp_path):
    calls = []
    StageRunner(tmp_path).run("a", ["a.txt"], {}, _writer(calls, "a", "A"))
    (tmp_path / "a.txt").unlink()
    assert StageRunner(tmp_path).run("a", ["a.txt"], {}, _writer(calls, "a", "A"))
    assert calls == ["a", "a"]


def test_a_failing_stage_leaves_no_output_and_is_not_marked_done(tmp_path):
    def failing(paths, report):
        paths["out.ply"].write_text("half")
        raise ValueError("broken input")

    with pytest.raises(ValueError, match="broken input"):
        StageRunner(tmp_path).run("a", ["out.ply"], {}, failing)
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]
    assert "a" not in json.loads((tmp_path / STATE_FILE).read_text())


def test_partial_files_keep_their_suffix_for_writers_that_go_by_extension(tmp_path):
    names = []
    StageRunner(tmp_path).run("a", ["mesh.ply"], {}, lambda paths, report: (names.append(paths["mesh.ply"].name),
                                                                          paths["mesh.ply"].write_text("x")))
    assert names == ["mesh.partial.ply"]
    assert (tmp_path / "mesh.ply").is_file()


def test_a_stage_that_forgets_an_output_fails(tmp_path):
    with pytest.raises(RuntimeError, match="did not write"):
        StageRunner(tmp_path).run("a", ["a.txt", "b.txt"], {}, lambda paths, report: paths["a.txt"].write_text("x"))
    assert not (tmp_path / "a.txt").exists()
