"""`twin export` and the document's media: kept in the scan folder, copied from beside the document,
listed in the GLB, missing and unreferenced ones reported, paths that leave the folder refused."""
from __future__ import annotations

import dataclasses
import json

import pytest
from export_fixtures import SAMPLE_DOCUMENT, make_scan, read_glb

from twin import document
from twin.cli import main
from twin.document import Media
from twin.export import export_scan

N_POINTS = 5_000
PHOTO = "media/printer-bed.jpg"  # the sample document's one step photo
OLD_UPLOAD = "media/" + "ab" * 32 + ".jpg"


def _with_step_media(doc, uris):
    procedure = doc.procedures[0]
    step = dataclasses.replace(procedure.steps[0], media=tuple(Media(uri, "image") for uri in uris))
    return dataclasses.replace(doc, procedures=(dataclasses.replace(procedure, steps=(step, *procedure.steps[1:])),
                                                *doc.procedures[1:]))


@pytest.fixture
def scan_and_document(tmp_path):
    sample = document.load(SAMPLE_DOCUMENT)
    assert PHOTO in {m.uri for p in sample.procedures for s in p.steps for m in s.media}
    scan = make_scan(tmp_path / "shop", sample, N_POINTS)
    (scan / "media").mkdir()
    (scan / OLD_UPLOAD).write_bytes(b"an upload whose step was deleted")
    (scan / "media" / ".upload-0123.partial").write_bytes(b"an upload in progress")
    beside = tmp_path / "authoring"
    (beside / "media").mkdir(parents=True)
    (beside / PHOTO).write_bytes(b"\xff\xd8\xff the photo")
    path = beside / "shop.twin.json"
    path.write_text(document.to_json(sample), encoding="utf-8")
    return scan, path


def test_media_beside_the_document_are_copied_in_and_unreferenced_ones_reported_and_kept(scan_and_document):
    scan, path = scan_and_document
    first = export_scan(scan, path)
    assert first.media.copied == (PHOTO,) and first.media.kept == () and first.media.missing == ()
    assert first.media.unreferenced == (OLD_UPLOAD,)  # the partial upload is not a stored file
    assert (scan / PHOTO).read_bytes() == b"\xff\xd8\xff the photo"
    assert (scan / OLD_UPLOAD).exists() and (scan / "media" / ".upload-0123.partial").exists()
    gltf, _ = read_glb(scan / "twin.glb")
    assert gltf["scenes"][0]["extras"]["twin"]["media"] == [PHOTO]
    again = export_scan(scan, path)
    assert again.media.kept == (PHOTO,) and again.media.copied == ()


def test_the_cli_reports_missing_and_unreferenced_media(scan_and_document, capsys):
    scan, path = scan_and_document
    (path.parent / PHOTO).unlink()
    assert main(["export", str(scan), "--document", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"missing: {PHOTO}" in out and f"unreferenced media in {scan / 'media'}" in out and OLD_UPLOAD in out
    assert main(["export", str(scan), "--document", str(path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["media"]["missing"] == [PHOTO] and figures["media"]["unreferenced"] == [OLD_UPLOAD]


@pytest.mark.parametrize("uri", ["../secret.jpg", "/etc/passwd", "media/../../secret.jpg"])
def test_media_paths_that_leave_the_scan_folder_are_refused_before_anything_is_written(tmp_path, uri):
    sample = _with_step_media(document.load(SAMPLE_DOCUMENT), [uri, "https://example.org/photo.jpg"])
    scan = make_scan(tmp_path / "shop", sample, N_POINTS)
    with pytest.raises(ValueError, match="outside the scan folder"):
        export_scan(scan, sample)
    assert not (scan / "twin.glb").exists() and not (scan / "twin.json").exists()


def test_urls_are_left_to_the_viewer(tmp_path):
    sample = _with_step_media(document.load(SAMPLE_DOCUMENT), ["https://example.org/photo.jpg"])
    result = export_scan(make_scan(tmp_path / "shop", sample, N_POINTS), sample)
    url = "https://example.org/photo.jpg"
    assert all(url not in found for found in dataclasses.astuple(result.media))
    gltf, _ = read_glb(tmp_path / "shop" / "twin.glb")
    assert url not in gltf["scenes"][0]["extras"]["twin"]["media"]
