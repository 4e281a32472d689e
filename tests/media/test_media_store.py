"""Media sniffing and storing without the server: what is accepted by its bytes, what is refused
with which status and sentence, photos scaled and stripped of EXIF, videos' metadata blanked."""
from __future__ import annotations

import hashlib
import http
import os
import time

import cv2
import numpy as np
import pytest
from media_files import (
    GPS_MARK,
    HTML_PAGE,
    SVG_WITH_SCRIPT,
    encoded,
    jpeg_header_then_html,
    jpeg_with_gps,
    mp4,
    mpeg4_part2_video,
    photo,
)

from twin.serve.media import (
    STALE_PARTIAL_S,
    MediaLimits,
    new_partial,
    store_upload,
    stored_file,
    used_bytes,
)
from twin.serve.media_sniff import SNIFF_BYTES, MediaRefused, check_mp4, image_size, sniff_kind

UNSUPPORTED = http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def _store(folder, body: bytes, limits: MediaLimits = MediaLimits()):
    partial = new_partial(folder)
    partial.write_bytes(body)
    return store_upload(partial, sniff_kind(body[:SNIFF_BYTES]), limits)


def _media_files(folder):
    return sorted(p.name for p in (folder / "media").iterdir())


@pytest.mark.parametrize("ext, kind", [("jpg", "jpg"), ("png", "png"), ("webp", "webp")])
def test_photos_are_known_by_their_bytes_and_sizes_read_from_their_headers(ext, kind):
    data = encoded(photo(321, 123), ext)
    assert sniff_kind(data[:SNIFF_BYTES]) == kind
    assert image_size(kind, data) == (321, 123)


@pytest.mark.parametrize("body, says", [(SVG_WITH_SCRIPT, "markup"), (HTML_PAGE, "markup"),
                                        (b"GIF89a" + bytes(20), "a GIF"), (b"#!/bin/sh\nrm -rf /\n" * 2, "none"),
                                        (b"\x00\x00\x00\x14ftypqt  " + bytes(8), "brand 'qt  '")])
def test_anything_else_is_refused_with_what_it_looks_like(body, says):
    with pytest.raises(MediaRefused) as refused:
        sniff_kind(body[:SNIFF_BYTES])
    assert refused.value.status == UNSUPPORTED
    assert "JPEG, PNG, WebP" in str(refused.value) and says in str(refused.value)


def test_a_jpeg_header_followed_by_html_does_not_decode_and_is_refused(tmp_path):
    body = jpeg_header_then_html()
    assert sniff_kind(body[:SNIFF_BYTES]) == "jpg"
    with pytest.raises(MediaRefused, match="does not decode") as refused:
        _store(tmp_path, body)
    assert refused.value.status == UNSUPPORTED
    assert _media_files(tmp_path) == []  # the partial file is gone


def test_a_large_photo_is_scaled_to_2048_and_loses_its_exif_location(tmp_path):
    body = jpeg_with_gps(3000, 1500)
    assert GPS_MARK in body and b"Exif" in body
    stored = _store(tmp_path, body)
    data = (tmp_path / stored.path).read_bytes()
    assert stored.path == f"media/{hashlib.sha256(data).hexdigest()}.jpg" and stored.type == "image"
    assert stored.bytes == len(data)
    assert GPS_MARK not in data and b"Exif" not in data
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (1024, 2048, 3)
    assert _media_files(tmp_path) == [stored.path.split("/")[1]]


def test_a_small_jpeg_is_re_encoded_too_so_no_exif_survives(tmp_path):
    body = jpeg_with_gps(320, 200)
    stored = _store(tmp_path, body)
    data = (tmp_path / stored.path).read_bytes()
    assert GPS_MARK not in data and b"Exif" not in data
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (200, 320, 3)


def test_the_same_photo_twice_is_stored_once(tmp_path):
    body = encoded(photo(200, 100), "png")
    first, second = _store(tmp_path, body), _store(tmp_path, body)
    assert first == second and len(_media_files(tmp_path)) == 1 and first.path.endswith(".png")


def test_a_photo_of_too_many_pixels_is_refused_before_decoding(tmp_path):
    with pytest.raises(MediaRefused, match="megapixels") as refused:
        _store(tmp_path, encoded(photo(400, 300), "png"), MediaLimits(max_photo_pixels=100_000))
    assert refused.value.status == http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_an_h264_mp4_is_accepted_and_its_location_box_blanked(tmp_path):
    body = mp4()
    assert sniff_kind(body[:SNIFF_BYTES]) == "mp4" and GPS_MARK in body
    stored = _store(tmp_path, body)
    data = (tmp_path / stored.path).read_bytes()
    assert stored.type == "video" and len(data) == len(body)  # no offset in the file moves
    assert GPS_MARK not in data and b"udta" not in data and b"free" in data
    assert stored.path == f"media/{hashlib.sha256(data).hexdigest()}.mp4"


def test_videos_of_other_codecs_are_refused_with_advice(tmp_path):
    real = mpeg4_part2_video(tmp_path / "opencv.mp4")  # a real file from OpenCV's writer
    with pytest.raises(MediaRefused, match="MPEG-4 Part 2.*H.264"):
        _store(tmp_path, real)
    with pytest.raises(MediaRefused, match="HEVC"):
        _store(tmp_path, mp4(codec=b"hvc1"))
    assert _media_files(tmp_path) == []


@pytest.mark.parametrize("broken, says", [(lambda b: b[:-100], "cut short"),
                                          (lambda b: b[:32] + b"\xff\xff\xff\xffmoov" + b[40:], "runs past"),
                                          (lambda b: b[:32] + b"\x00\x00\x00\x08mdat", "no movie box")])
# The ftyp box of media_files.mp4 is 32 bytes: moov starts there.
def test_broken_mp4s_are_refused(tmp_path, broken, says):
    body = broken(mp4())
    file = tmp_path / "video.mp4"
    file.write_bytes(body)
    with open(file, "rb") as handle, pytest.raises(MediaRefused, match=says):
        check_mp4(handle, len(body))


def test_an_mp4_without_an_h264_track_is_refused(tmp_path):
    with pytest.raises(MediaRefused, match="no H.264"):
        _store(tmp_path, mp4(codec=b"mp4a"))


def test_stored_files_are_found_only_by_their_hash_names(tmp_path):
    stored = _store(tmp_path, encoded(photo(20, 10), "webp"))
    assert stored_file(tmp_path, stored.path) == tmp_path / stored.path
    name = stored.path.split("/")[1]
    for relative in ("media/../twin.json", f"tiles/{name}", "media/.upload-1.partial", f"media/{name[:-5]}.svg",
                     "media/" + "0" * 64 + ".jpg"):
        assert stored_file(tmp_path, relative) is None


def test_used_bytes_counts_stored_media_and_removes_stale_partials(tmp_path):
    stored = _store(tmp_path, encoded(photo(50, 40), "png"))
    fresh, stale = new_partial(tmp_path), new_partial(tmp_path)
    fresh.write_bytes(b"x" * 1000)
    stale.write_bytes(b"x" * 1000)
    old = time.time() - STALE_PARTIAL_S - 10
    os.utime(stale, (old, old))
    assert used_bytes(tmp_path) == stored.bytes
    assert fresh.exists() and not stale.exists()
