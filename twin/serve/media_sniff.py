"""What kind of media a file is, from its bytes alone (never the declared type or the name):
JPEG, PNG and WebP by their signatures and the image size in their headers, MP4 by its box
structure (an `ftyp` box first, boxes that tile the file exactly, an H.264 `avc1`/`avc3` sample
entry in a track). Whether an image really is one is decided later by decoding it (media.py).

Pure functions on bytes and open files; `MediaRefused` carries the HTTP status and the sentence.
"""
from __future__ import annotations

import http
import struct
from dataclasses import dataclass
from typing import BinaryIO

SNIFF_BYTES = 16  # enough of the start of a body to tell the kinds apart
KINDS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "mp4": "video/mp4"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The ftyp brands of MP4 files (ISO base media, MPEG-4, phone recorders); QuickTime's "qt  " is not
# among them (browsers play it unevenly): such a video is refused with the advice to export MP4.
_MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41", b"mp42",
               b"avc1", b"M4V ", b"M4VP", b"mmp4", b"dash", b"msnv", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV"}
_H264_ENTRIES = {b"avc1", b"avc3"}
_OTHER_VIDEO_ENTRIES = {b"hvc1": "HEVC", b"hev1": "HEVC", b"vp09": "VP9", b"vp08": "VP8", b"av01": "AV1",
                        b"mp4v": "MPEG-4 Part 2", b"dvh1": "Dolby Vision", b"dvhe": "Dolby Vision"}
# Boxes whose children the sniffer walks to reach the sample descriptions; `udta` and `meta` (where
# phones put the recording's location) are found on the way, so the store can blank them.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
METADATA_BOXES = {b"udta", b"meta"}
_MAX_BOXES = 100_000  # a hostile file of millions of tiny boxes is refused, not walked
ACCEPTED = "photos (JPEG, PNG, WebP) and H.264 videos in MP4"


class MediaRefused(ValueError):
    """An upload the server will not store: `status` is the HTTP answer, the message says why."""

    def __init__(self, status: http.HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def _unsupported(message: str) -> MediaRefused:
    return MediaRefused(http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE, message)


def _looks_like(start: bytes) -> str:
    text = start.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        return "markup (SVG, HTML or XML)"
    if text.startswith(b"gif8"):
        return "a GIF"
    if start[4:8] == b"ftyp":
        return f"an ISO media file of brand {start[8:12].decode('latin-1')!r}"
    return "none of them"


def sniff_kind(start: bytes) -> str:
    """The kind ("jpg", "png", "webp", "mp4") the first SNIFF_BYTES of a body announce; MediaRefused if none."""
    if start.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if start.startswith(_PNG_SIGNATURE):
        return "png"
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return "webp"
    if start[4:8] == b"ftyp" and start[8:12] in _MP4_BRANDS:
        return "mp4"
    raise _unsupported(f"the server stores {ACCEPTED}; this file is {_looks_like(start)}")


def image_size(kind: str, head: bytes) -> tuple[int, int]:
    """(width, height) from the header of an image of `kind` ("jpg", "png", "webp"), read before
    decoding so a small file that would decode to billions of pixels is refused first."""
    try:
        size = {"jpg": _jpeg_size, "png": _png_size, "webp": _webp_size}[kind](head)
    except (struct.error, IndexError):
        size = None
    if size is None or min(size) < 1:
        raise _unsupported(f"this file starts like a {kind.upper()} image but its header is broken or cut short")
    return size


def _png_size(head: bytes) -> tuple[int, int] | None:
    if head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(head):
        if head[at] != 0xFF:
            return None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", head[at + 2:at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
            height, width = struct.unpack(">HH", head[at + 5:at + 9])
            return width, height
        if marker == 0xDA or length < 2:  # image data before any frame header
            return None
        at += 2 + length
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


@dataclass(frozen=True)
class Mp4Layout:
    """What the sniffer learnt of an MP4: where its metadata boxes are, as (box start, payload start, box end)."""

    metadata: tuple[tuple[int, int, int], ...]


def _boxes(file: BinaryIO, start: int, end: int, counter: list[int]):
    """(type, box start, payload start, box end) of each box between `start` and `end`, which they must tile exactly."""
    at = start
    while at < end:
        counter[0] += 1
        if counter[0] > _MAX_BOXES:
            raise _unsupported("this MP4 has more boxes than any real video; it is refused")
        file.seek(at)
        header = file.read(8)
        if len(header) < 8 or at + 8 > end:
            raise _unsupported("this MP4 is cut short or broken: a box header runs past its end")
        size, kind = struct.unpack(">I4s", header)
        payload = at + 8
        if size == 1:
            large = file.read(8)
            if len(large) < 8:
                raise _unsupported("this MP4 is cut short: a large box's size is missing")
            size = struct.unpack(">Q", large)[0]
            payload += 8
        elif size == 0:  # to the end of its parent
            size = end - at
        if size < payload - at or at + size > end:
            raise _unsupported(f"this MP4 is broken or cut short: its {kind.decode('latin-1')!r} box "
                               "runs past the end of what holds it")
        yield kind, at, payload, at + size
        at += size


def _sample_entries(file: BinaryIO, payload: int, end: int, counter: list[int]) -> list[bytes]:
    file.seek(payload)
    if len(file.read(8)) < 8:  # version, flags, entry count
        raise _unsupported("this MP4 is broken: a sample description is cut short")
    return [kind for kind, *_ in _boxes(file, payload + 8, end, counter)]


def check_mp4(file: BinaryIO, length: int) -> Mp4Layout:
    """Walks the MP4 in `file` (of `length` bytes): `ftyp` first, boxes tiling the file, at least one
    H.264 track and no video track of another codec. MediaRefused says what is wrong."""
    counter = [0]
    entries: list[bytes] = []
    metadata: list[tuple[int, int, int]] = []
    top = list(_boxes(file, 0, length, counter))
    if not top or top[0][0] != b"ftyp":
        raise _unsupported("this is not an MP4: it does not begin with an ftyp box")
    if b"moov" not in [kind for kind, *_ in top]:
        raise _unsupported("this MP4 has no movie box (moov): it is cut short or not a finished recording")

    def walk(boxes):
        for kind, at, payload, end in boxes:
            if kind in METADATA_BOXES:
                metadata.append((at, payload, end))
            elif kind == b"stsd":
                entries.extend(_sample_entries(file, payload, end, counter))
            elif kind in _CONTAINERS:
                walk(list(_boxes(file, payload, end, counter)))

    walk(top[1:])
    others = sorted({_OTHER_VIDEO_ENTRIES[e] for e in entries if e in _OTHER_VIDEO_ENTRIES})
    if others:
        raise _unsupported(f"this video is {', '.join(others)}; the server stores H.264 video only "
                           "(export it as MP4 with H.264, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)")
    if not _H264_ENTRIES & set(entries):
        raise _unsupported("this MP4 has no H.264 (avc1) video track; the server stores H.264 video only")
    return Mp4Layout(tuple(metadata))
