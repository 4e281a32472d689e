"""`twin reconstruct --version-of`: a capture reconstructed into its own scan folder and then added
as the next version of an earlier scan of the same room (here the same synthetic walk)."""
from __future__ import annotations

import json

import pytest
from capture_writers import write_open3d_folder
from rgbd_scene import render, walk

from twin.cli import main
from twin.document import Version
from twin.scanfolder import read_versions

pytestmark = pytest.mark.slow  # two small reconstructions and one diff


def test_reconstruct_version_of_adds_the_new_cloud_as_the_next_version(tmp_path, capsys):
    capture = write_open3d_folder(tmp_path / "capture", render(walk(10), 160, 120), with_poses=False)
    first, later = tmp_path / "first", tmp_path / "later"
    assert main(["reconstruct", str(capture), "-o", str(first), "--voxel-size", "0.04"]) == 0
    capsys.readouterr()
    assert main(["reconstruct", str(capture), "-o", str(later), "--voxel-size", "0.04", "--version-of", str(first),
                 "--version-voxel-size", "0.03", "--version-date", "2026-03-01T09:00:00Z", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["version_of"]["version"]["id"] == "v2" and "frames" in printed
    versions = read_versions(first)
    assert [v.id for v in versions] == ["v1", "v2"] and isinstance(versions[1], Version)
    assert versions[1].source == str(capture) and versions[1].date == "2026-03-01T09:00:00Z"
    assert (first / versions[1].tiles).is_file()
