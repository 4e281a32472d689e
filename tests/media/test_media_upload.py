"""POST /twins/NAME/media and GET /twins/NAME/media/FILE over real sockets on 127.0.0.1: rights,
refused kinds, limits, a cut connection, and the WebSocket and files served beside uploads."""
from __future__ import annotations

import asyncio
import hashlib
import json
import time

import cv2
import numpy as np
import pytest
from media_files import GPS_MARK, HTML_PAGE, SVG_WITH_SCRIPT, encoded, jpeg_header_then_html, jpeg_with_gps, mp4, photo
from protocol_client import TIMEOUT, Client
from upload_client import MediaServer, head
from websockets.asyncio.client import connect

from twin.serve.access import Role
from twin.serve.media import MediaLimits

LIMITS = MediaLimits(max_upload_bytes=6_000_000, quota_bytes=4_000_000)


@pytest.fixture
def media_server(tmp_path, write_twin_folder):
    server = MediaServer(tmp_path, write_twin_folder, media_limits=LIMITS)
    yield server
    server.close()


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_photo_is_stored_scaled_without_its_location_and_served_to_everyone_of_a_published_twin(media_server):
    async def scenario():
        async with media_server.running():
            answer = await media_server.upload(jpeg_with_gps(3000, 1500), headers={"Content-Type": "image/jpeg"})
            assert answer.status == 201, answer.text
            stored = json.loads(answer.body)
            assert stored["type"] == "image" and stored["path"].startswith("media/")
            served = await media_server.request("GET", f"/twins/shop/{stored['path']}")  # a visitor
            return stored, served

    stored, served = run(scenario())
    assert served.status == 200
    assert served.headers["content-type"] == "image/jpeg" and served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert stored["path"] == f"media/{hashlib.sha256(served.body).hexdigest()}.jpg"
    assert GPS_MARK not in served.body and b"Exif" not in served.body
    assert cv2.imdecode(np.frombuffer(served.body, np.uint8), cv2.IMREAD_COLOR).shape == (1024, 2048, 3)
    assert media_server.media() == [stored["path"].split("/")[1]]


def test_an_h264_video_is_stored_and_served_as_video_mp4(media_server):
    async def scenario():
        async with media_server.running():
            answer = await media_server.upload(mp4(), role=Role.PLANNER)
            assert answer.status == 201, answer.text
            path = json.loads(answer.body)["path"]
            return path, await media_server.request("GET", f"/twins/shop/{path}")

    path, served = run(scenario())
    assert path.endswith(".mp4") and served.headers["content-type"] == "video/mp4"
    assert GPS_MARK not in served.body and len(served.body) == len(mp4())


@pytest.mark.parametrize("body, declared, says", [
    (SVG_WITH_SCRIPT, "image/svg+xml", "markup (SVG, HTML or XML)"),
    (HTML_PAGE, "image/jpeg", "markup (SVG, HTML or XML)"),
    (jpeg_header_then_html(), "image/jpeg", "does not decode"),
    (encoded(photo(64, 48), "png"), "video/mp4", "sent as video/mp4 but its bytes are a image/png"),
])
def test_what_is_not_a_photo_or_h264_video_is_refused_with_415_and_nothing_is_kept(media_server, body, declared, says):
    async def scenario():
        async with media_server.running():
            refused = await media_server.upload(body, headers={"Content-Type": declared})
            listing = await media_server.request("GET", "/twins")  # the server goes on serving
            return refused, listing

    refused, listing = run(scenario())
    assert refused.status == 415 and says in refused.text, refused.text
    assert listing.status == 200
    assert media_server.media() == []


def test_an_upload_over_the_size_limit_is_refused_from_its_head(media_server):
    async def scenario():
        async with media_server.running():
            # Only the head is sent: the answer comes before any of the 60 MB would be read.
            return await media_server.upload(b"\0" * 60_000_000, send_body=False)

    refused = run(scenario())
    assert refused.status == 413 and "60.0 MB" in refused.text and "at most 6.0 MB" in refused.text
    assert media_server.media() == []


def test_a_twins_quota_refuses_what_does_not_fit_and_other_twins_keep_theirs(media_server):
    big = [mp4(samples_bytes=1_500_000 + 256 * i) for i in range(3)]  # distinct videos of ~1.5 MB

    async def scenario():
        async with media_server.running():
            first = await media_server.upload(big[0])
            second = await media_server.upload(big[1])
            third = await media_server.upload(big[2])
            elsewhere = await media_server.upload(big[2], twin="private")
            return first, second, third, elsewhere

    first, second, third, elsewhere = run(scenario())
    assert (first.status, second.status, elsewhere.status) == (201, 201, 201)
    assert third.status == 507 and "quota" in third.text and "4.0 MB" in third.text
    assert len(media_server.media("shop")) == 2 and len(media_server.media("private")) == 1


def test_wrong_or_missing_rights_are_refused_before_the_body(media_server):
    png = encoded(photo(32, 32), "png")

    async def scenario():
        async with media_server.running():
            return {
                "visitor": await media_server.upload(png, role=None),
                "viewer": await media_server.upload(png, role=Role.VIEWER),
                "unknown": await media_server.upload(png, role=None, headers={"Authorization": "Bearer nope"}),
                "no twin": await media_server.upload(png, twin="nowhere"),
                "put": await media_server.request("PUT", "/twins/shop/media", png, role=Role.ARTISAN),
            }

    answers = run(scenario())
    assert answers["visitor"].status == 401 and "artisan or above" in answers["visitor"].text
    assert answers["visitor"].headers["www-authenticate"].startswith("Bearer")
    assert answers["unknown"].status == 401 and "not known" in answers["unknown"].text
    assert answers["viewer"].status == 403 and "the role viewer" in answers["viewer"].text
    assert answers["no twin"].status == 404
    assert answers["put"].status == 405 and "POST /twins/NAME/media" in answers["put"].text
    assert media_server.media() == []


def test_media_of_an_unpublished_twin_are_read_with_its_rights_only(media_server):
    async def scenario():
        async with media_server.running():
            path = json.loads((await media_server.upload(encoded(photo(40, 30), "webp"), twin="private")).body)["path"]
            token = media_server.tokens[Role.VIEWER]
            return path, {
                "visitor": await media_server.request("GET", f"/twins/private/{path}"),
                "bearer": await media_server.request("GET", f"/twins/private/{path}", role=Role.VIEWER),
                "query": await media_server.request("GET", f"/twins/private/{path}?token={token}"),
                "head": await media_server.request("HEAD", f"/twins/private/{path}", role=Role.VIEWER),
                "missing": await media_server.request("GET", "/twins/private/media/" + "0" * 64 + ".jpg",
                                                      role=Role.VIEWER),
                "outside": await media_server.request("GET", "/twins/private/media/../twin.json", role=Role.VIEWER),
            }

    path, answers = run(scenario())
    assert answers["visitor"].status == 403
    assert answers["bearer"].status == answers["query"].status == 200
    assert answers["bearer"].headers["content-type"] == "image/webp" and answers["bearer"].body[8:12] == b"WEBP"
    assert answers["head"].status == 200 and answers["head"].body == b""
    assert answers["missing"].status == 404 and answers["outside"].status == 404


def test_a_connection_cut_mid_body_leaves_nothing_and_others_are_served_meanwhile(media_server):
    body = mp4(samples_bytes=2_000_000)

    async def scenario():
        async with media_server.running():
            reader, writer = await asyncio.open_connection("127.0.0.1", media_server.port)
            writer.write(head("POST", "/twins/shop/media", len(body), token=media_server.tokens[Role.ARTISAN]))
            writer.write(body[:len(body) // 2])
            await writer.drain()
            deadline = time.monotonic() + TIMEOUT
            while not any(name.endswith(".partial") for name in media_server.media()):  # the upload is under way
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            # While it hangs half-sent, the WebSocket and the files are served.
            async with connect(f"ws://127.0.0.1:{media_server.port}/ws") as socket:
                welcome = await Client(socket).request({"op": "hello", "protocol": 1})
            listing = await media_server.request("GET", "/twins")
            writer.transport.abort()  # cut, as a phone leaving the Wi-Fi does
            while media_server.media():
                assert time.monotonic() < deadline, media_server.media()
                await asyncio.sleep(0.01)
            after = await media_server.upload(body)
            return welcome, listing, after

    welcome, listing, after = run(scenario())
    assert welcome["op"] == "welcome" and listing.status == 200
    assert after.status == 201 and len(media_server.media()) == 1
