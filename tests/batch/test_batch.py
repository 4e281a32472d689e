"""`twin batch` on a real local Dask cluster of worker processes, on slices of the sample workshop's walk."""
from __future__ import annotations

import io
import json
import os
import signal
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from twin.batch import BatchCapture, local_client, run_batch, scan_folders
from twin.cli import main
from twin.scanfolder import read_cloud

sys.path.insert(0, str(Path(__file__).parent))
from capture_slices import write_slices  # noqa: E402

SLICE_FRAMES = 16


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from twin.synth import render_sample

    return render_sample(tmp_path_factory.mktemp("sample"), frames=40, photos=3, rgbd_size=(160, 120),
                         photo_size=(320, 240))


@pytest.fixture(scope="module")
def captures(sample, tmp_path_factory) -> list[Path]:
    """Two overlapping slices of the walk and a broken capture (a TUM folder whose lists are garbage)."""
    root = tmp_path_factory.mktemp("captures")
    slices = write_slices(sample.rgbd, root, count=2, frames=SLICE_FRAMES, overlap=4)
    broken = root / "broken"
    broken.mkdir()
    (broken / "rgb.txt").write_text("not a list of frames\n")
    (broken / "depth.txt").write_text("not a list of frames\n")
    return [*slices, broken]


def _batch(captures, out) -> tuple[int, dict]:
    """`twin batch CAPTURE... -o OUT --workers 2 --json`: its exit code and its JSON."""
    text = io.StringIO()
    with redirect_stdout(text):
        code = main(["batch", *map(str, captures), "-o", str(out), "--workers", "2", "--json"])
    return code, json.loads(text.getvalue())


@pytest.fixture(scope="module")
def first_run(captures, tmp_path_factory):
    out = tmp_path_factory.mktemp("scans")
    return (*_batch(captures, out), out)


def test_good_captures_are_reconstructed_and_the_broken_one_reported(first_run, captures):
    code, report, out = first_run
    assert code == 1  # one capture failed
    assert report["engine"].startswith("dask ")
    assert report["workers"] == 2
    assert report["seconds"] > 0
    jobs = {Path(job["capture"]).name: job for job in report["jobs"]}
    assert [Path(job["capture"]) for job in report["jobs"]] == captures  # in the order given
    for name in ("part1", "part2"):
        assert jobs[name]["status"] == "done" and "reason" not in jobs[name]
        assert jobs[name]["output"] == str(out / name)
        points, colors = read_cloud(out / name / "cloud.ply")
        assert len(points) > 1000 and colors is not None
        assert json.loads((out / name / "cameras.json").read_text())
    assert jobs["broken"]["status"] == "failed"
    assert "broken/rgb.txt" in jobs["broken"]["reason"]
    assert set(jobs["broken"]) == {"capture", "output", "status", "reason", "seconds"}


def test_a_rerun_after_an_interruption_redoes_only_what_was_unfinished(first_run, captures):
    _, _, out = first_run
    # As an interrupted integration leaves part2: stages before it complete, its own files absent.
    (out / "part2" / "mesh.ply").unlink()
    (out / "part2" / "cloud.ply").unlink()
    tracked = (out / "part2" / "work" / "odometry.json").stat().st_mtime_ns
    untouched = (out / "part1" / "mesh.ply").stat().st_mtime_ns

    code, report = _batch(captures[:2], out)
    assert code == 0
    assert [job["status"] for job in report["jobs"]] == ["skipped", "done"]
    assert (out / "part1" / "mesh.ply").stat().st_mtime_ns == untouched
    assert (out / "part2" / "work" / "odometry.json").stat().st_mtime_ns == tracked  # tracking not redone
    assert len(read_cloud(out / "part2" / "cloud.ply")[0]) > 1000


def test_a_worker_killed_mid_task_is_retried_elsewhere_and_leaves_no_half_written_file(captures, tmp_path):
    out = tmp_path / "scans"
    job = BatchCapture(captures[0], scan_folders(captures[:1], out)[0])
    killed = []
    with local_client(workers=2) as client:
        def kill_on_integrate(index: int, stage: str) -> None:
            # Tracking has finished and the integration has started: kill the process running it.
            if stage == "integrate" and not killed:
                (address,) = [a for a, keys in client.processing().items() if keys]
                pid = client.run(os.getpid, workers=[address])[address]
                killed.append((address, (out / job.output.name / "work" / "odometry.json").stat().st_mtime_ns))
                os.kill(pid, signal.SIGKILL)

        (result,) = run_batch(client, [job], on_stage=kill_on_integrate)
    assert killed, "the task never reached the integration"
    assert result.status == "done", result.reason
    scan = job.output
    assert (scan / "work" / "odometry.json").stat().st_mtime_ns == killed[0][1]  # the retry reused the tracking
    assert len(read_cloud(scan / "cloud.ply")[0]) > 1000
    assert not [p for p in scan.rglob("*") if ".partial" in p.name or p.name.startswith(".")]


def test_two_captures_with_the_same_name_are_refused(tmp_path):
    with pytest.raises(ValueError, match="would both be reconstructed into"):
        scan_folders([tmp_path / "a" / "bench.r3d", tmp_path / "b" / "bench"], tmp_path / "scans")


@pytest.mark.slow
def test_slices_of_a_real_capture(shared_data, tmp_path):
    slices = write_slices(shared_data / "rgbd" / "livingroom1_micro", tmp_path / "captures", count=3, frames=40,
                          overlap=10)
    code, report = _batch(slices, tmp_path / "scans")
    assert code == 0
    assert [job["status"] for job in report["jobs"]] == ["done"] * 3
    for part in slices:
        assert len(read_cloud(tmp_path / "scans" / part.name / "cloud.ply")[0]) > 1000
