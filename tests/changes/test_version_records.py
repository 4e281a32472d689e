"""A scan folder's version records (versions/<id>/version.json) and proposals read back or refused
with a sentence naming the file and the field; ids count up and are not reused."""
from __future__ import annotations

import json

import pytest

from twin.cli import main
from twin.document import Version
from twin.scanfolder import next_version_id, read_versions, write_version

IDENTITY = tuple(tuple(float(i == j) for j in range(4)) for i in range(4))
ROWS = [list(row) for row in IDENTITY]


def _record(scan, version_id: str, **fields) -> None:
    folder = scan / "versions" / version_id
    folder.mkdir(parents=True)
    write_version(folder, Version(version_id, "2026-03-01T09:00:00Z", "later.ply", IDENTITY, **fields))


def test_records_read_back_in_order_and_ids_count_up(tmp_path):
    assert read_versions(tmp_path) == () and next_version_id(tmp_path) == "v2"
    for version_id in ("v1", "v10", "v2"):
        _record(tmp_path, version_id, tiles=f"versions/{version_id}/tiles/tileset.json")
    assert [v.id for v in read_versions(tmp_path)] == ["v1", "v2", "v10"]
    assert read_versions(tmp_path)[2].tiles == "versions/v10/tiles/tileset.json"
    assert next_version_id(tmp_path) == "v11"


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"id": "v2", "date": "d", "source": "x.ply"}), "'T_first_version' is a required property"),
    (json.dumps({"id": "v2", "date": "d", "source": "x.ply", "T_first_version": ROWS[:3]}), "T_first_version"),
    (json.dumps({"id": "v3", "date": "d", "source": "x.ply", "T_first_version": ROWS}),
     "names the version 'v3' but lies in the folder 'v2'"),
])
def test_a_damaged_record_is_refused_naming_its_file(tmp_path, capsys, content, message):
    (tmp_path / "versions" / "v2").mkdir(parents=True)
    (tmp_path / "versions" / "v2" / "version.json").write_text(content)
    assert main(["versions", "list", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "versions/v2/version.json" in error and message in error, error


def test_accept_says_why_there_is_nothing_to_accept(tmp_path, capsys):
    assert main(["versions", "accept", str(tmp_path), "v2"]) == 2
    assert "has no version 'v2'" in capsys.readouterr().err
    _record(tmp_path, "v2")
    (tmp_path / "versions" / "v2" / "proposed.patch.json").write_text(json.dumps({"version": "v2", "patch": {}}))
    assert main(["versions", "accept", str(tmp_path), "v2"]) == 2
    assert "not a carry-over proposal" in capsys.readouterr().err
    empty = {"version": "v2", "patch": [], "notes": []}
    (tmp_path / "versions" / "v2" / "proposed.patch.json").write_text(json.dumps(empty))
    assert main(["versions", "accept", str(tmp_path), "v2"]) == 2
    assert "no twin.json" in capsys.readouterr().err
