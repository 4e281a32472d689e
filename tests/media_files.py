"""Media files made at test time for the upload tests: photos with an EXIF GPS location, minimal
MP4s built box by box, and the hostile files the server must refuse.

OpenCV's VideoWriter here has no H.264 encoder (only MPEG-4 Part 2, `mp4v`), so the H.264 MP4 is
built by hand: a real box structure (ftyp, moov/trak/mdia/minf/stbl/stsd with an `avc1` sample
entry, a `udta` box holding a location, mdat) around made-up sample bytes. The sniffer checks the
structure, never decodes video, so this is what it sees of a phone's recording.
"""
from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

GPS_MARK = b"GPS-SECRET-45.4642N-9.1900E"  # a location string a test looks for in what is stored


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A textured BGR image (noise plus gradients) so that re-encoding changes its bytes."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    base = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1)
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def encoded(image: np.ndarray, ext: str) -> bytes:
    ok, data = cv2.imencode(f".{ext}", image)
    assert ok
    return data.tobytes()


def _exif_with_gps() -> bytes:
    """An APP1 EXIF segment: IFD0 with a GPSInfo pointer, a GPS IFD with latitude ref 'N' and a
    GPSProcessingMethod that holds GPS_MARK (so its disappearance can be checked by bytes)."""
    def entry(tag, kind, count, value):
        return struct.pack("<HHI", tag, kind, count) + value

    ifd0_at, gps_at = 8, 8 + 2 + 12 + 4
    mark_at = gps_at + 2 + 2 * 12 + 4
    ifd0 = struct.pack("<H", 1) + entry(0x8825, 4, 1, struct.pack("<I", gps_at)) + struct.pack("<I", 0)
    gps = (struct.pack("<H", 2) + entry(0x0001, 2, 2, b"N\x00\x00\x00")
           + entry(0x001B, 7, len(GPS_MARK), struct.pack("<I", mark_at)) + struct.pack("<I", 0))
    tiff = b"II*\x00" + struct.pack("<I", ifd0_at) + ifd0 + gps + GPS_MARK
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_gps(width: int, height: int) -> bytes:
    """A JPEG as a phone writes it: SOI, an EXIF segment with a GPS location, then the image."""
    data = encoded(photo(width, height), "jpg")
    return data[:2] + _exif_with_gps() + data[2:]


def jpeg_header_then_html() -> bytes:
    """The first segments of a real JPEG (up to its frame header) followed by an HTML page."""
    data = encoded(photo(64, 48), "jpg")
    sof = data.index(b"\xff\xc0")
    return data[:sof + 19] + b"<html><body><script>alert(document.cookie)</script></body></html>" * 40


SVG_WITH_SCRIPT = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')
HTML_PAGE = b"<!doctype html><html><body><script>fetch('/steal?'+document.cookie)</script></body></html>"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full_box(kind: bytes, payload: bytes) -> bytes:
    return _box(kind, b"\x00\x00\x00\x00" + payload)


def mp4(codec: bytes = b"avc1", samples_bytes: int = 4096, location: bool = True) -> bytes:
    """A minimal MP4 of one video track whose sample entry is `codec` (avc1: H.264), with a
    `udta` box holding GPS_MARK (a phone's ©xyz location) when `location`."""
    # A visual sample entry: 6 reserved, data reference index, 16 predefined/reserved, size,
    # resolution, frame count, compressor name, depth, -1; then the codec's configuration box.
    entry_body = (bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", 64, 48)
                  + struct.pack(">II", 0x00480000, 0x00480000) + bytes(4) + struct.pack(">H", 1)
                  + bytes(32) + struct.pack(">Hh", 0x18, -1)
                  + _box(b"avcC", bytes([1, 0x42, 0xC0, 0x1E, 0xFF, 0xE0, 0x00])))
    stsd = _full_box(b"stsd", struct.pack(">I", 1) + _box(codec, entry_body))
    stbl = _box(b"stbl", stsd + _full_box(b"stts", struct.pack(">I", 0)))
    minf = _box(b"minf", _full_box(b"vmhd", bytes(8)) + stbl)
    mdia = _box(b"mdia", _full_box(b"mdhd", bytes(20)) + _full_box(b"hdlr", bytes(4) + b"vide" + bytes(13))
                + minf)
    trak = _box(b"trak", _full_box(b"tkhd", bytes(80)) + mdia)
    udta = _box(b"udta", _box(b"\xa9xyz", GPS_MARK)) if location else b""
    moov = _box(b"moov", _full_box(b"mvhd", bytes(96)) + trak + udta)
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    return ftyp + moov + _box(b"mdat", bytes(range(256)) * (samples_bytes // 256))


def mpeg4_part2_video(path: Path) -> bytes:
    """A real MP4 from OpenCV's VideoWriter with the `mp4v` codec (MPEG-4 Part 2, not H.264)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    assert writer.isOpened(), "OpenCV's VideoWriter cannot write mp4v here"
    for i in range(5):
        writer.write(photo(64, 48, seed=i))
    writer.release()
    return path.read_bytes()
