"""Files served over HTTP: paths cannot leave their folder; MIME types; ETags."""
from __future__ import annotations

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from twin.serve.http_files import asset_file, bytes_response, file_response_now, safe_file


@pytest.fixture
def folders(tmp_path):
    root = tmp_path / "scan"
    (root / "tiles" / "deep").mkdir(parents=True)
    (root / "twin.glb").write_bytes(b"glTF")
    (root / "tiles" / "deep" / "r0.glb").write_bytes(b"tile")
    (root / "cloud.ply").write_bytes(b"ply")
    (tmp_path / "secret.txt").write_text("no")
    (root / "tiles" / "escape.glb").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.mark.parametrize("relative", ["../secret.txt", "tiles/../../secret.txt", "/etc/passwd", "tiles//deep/r0.glb",
                                      "./twin.glb", "tiles\\deep\\r0.glb", "twin.glb\x00", "", "tiles",
                                      "tiles/escape.glb", "tiles/missing.glb"])
def test_paths_that_leave_the_folder_or_name_nothing_are_refused(folders, relative):
    assert safe_file(folders, relative) is None


def test_assets_are_the_glb_and_tiles_only(folders):
    assert asset_file(folders, "twin.glb") == (folders / "twin.glb").resolve()
    assert asset_file(folders, "tiles/deep/r0.glb") == (folders / "tiles" / "deep" / "r0.glb").resolve()
    assert asset_file(folders, "cloud.ply") is None
    assert safe_file(folders, "cloud.ply") is not None


def test_files_carry_mime_types_and_etags_and_answer_304(folders):
    request = Request("/twins/x/twin.glb", Headers())
    response = file_response_now(request, folders / "twin.glb")
    assert response.status_code == 200 and response.body == b"glTF"
    assert response.headers["Content-Type"] == "model/gltf-binary" and response.headers["Content-Length"] == "4"
    again = file_response_now(Request("/", Headers([("If-None-Match", response.headers["ETag"])])),
                              folders / "twin.glb")
    assert again.status_code == 304 and again.body == b""
    (folders / "twin.glb").write_bytes(b"glTF, re-exported")
    changed = file_response_now(Request("/", Headers([("If-None-Match", response.headers["ETag"])])),
                                folders / "twin.glb")
    assert changed.status_code == 200 and changed.headers["ETag"] != response.headers["ETag"]
    body = bytes_response(request, b'{"a": 1}', "application/json")
    assert body.headers["ETag"] and body.headers["Content-Type"] == "application/json"
