"""A twin's media (the photos and videos of steps and stops): checked, cleaned and stored in the
scan folder's `media/` under the SHA-256 of what is stored, `media/<sha256>.<ext>`.

Photos are always decoded and re-encoded with OpenCV: that proves they are images (a JPEG header
followed by HTML does not decode), scales the long side down to `max_photo_side_px`, applies the
EXIF orientation and drops EXIF (and with it the GPS location). Videos are walked box by box
(media_sniff.check_mp4) and their metadata boxes (`udta`, `meta`: where phones put the location)
blanked into `free` boxes of the same size, so no offset in the file moves.

Blocking functions: the HTTP shell (http_upload.py) runs them in a worker thread.
"""
from __future__ import annotations

import hashlib
import http
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from twin.serve.media_sniff import KINDS, MediaRefused, check_mp4, image_size

MEDIA_DIR = "media"
PARTIAL_SUFFIX = ".partial"
_STORED_NAME = re.compile(r"[0-9a-f]{64}\.(" + "|".join(KINDS) + r")")
# A partial file this old belongs to no upload in progress (a server killed mid-upload left it).
STALE_PARTIAL_S = 24 * 3600.0
_ENCODE_OPTIONS = {"jpg": [cv2.IMWRITE_JPEG_QUALITY, 90], "webp": [cv2.IMWRITE_WEBP_QUALITY, 90], "png": []}
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class MediaLimits:
    """How much the server takes: per upload, per twin, per photo."""

    max_upload_bytes: int = 50_000_000
    quota_bytes: int = 1 << 30  # all of one twin's media
    max_photo_side_px: int = 2048  # longer photos are scaled down to this
    max_photo_pixels: int = 100_000_000  # larger ones are refused before they are decoded

    def __post_init__(self):
        if min(self.max_upload_bytes, self.quota_bytes, self.max_photo_side_px, self.max_photo_pixels) < 1:
            raise ValueError("media limits must be positive")


@dataclass(frozen=True)
class StoredMedia:
    """An upload once stored: its path in the scan folder, its document media type, its size."""

    path: str  # "media/<sha256>.<ext>"
    type: str  # "image" or "video", as a step's media names it
    bytes: int


def megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def media_dir(folder: Path) -> Path:
    return Path(folder) / MEDIA_DIR


def new_partial(folder: Path) -> Path:
    """A fresh temporary file's path in `folder`'s media/ (made if missing), where one upload streams to."""
    directory = media_dir(folder)
    directory.mkdir(exist_ok=True)
    return directory / f".upload-{secrets.token_hex(8)}{PARTIAL_SUFFIX}"


def used_bytes(folder: Path, now_s: float | None = None) -> int:
    """The bytes `folder`'s stored media take; stale partial files (older than STALE_PARTIAL_S)
    are removed on the way."""
    directory = media_dir(folder)
    if not directory.is_dir():
        return 0
    now_s = time.time() if now_s is None else now_s
    total = 0
    for entry in os.scandir(directory):
        if not entry.is_file(follow_symlinks=False):
            continue
        if entry.name.endswith(PARTIAL_SUFFIX):
            if now_s - entry.stat().st_mtime > STALE_PARTIAL_S:
                Path(entry.path).unlink(missing_ok=True)
        elif _STORED_NAME.fullmatch(entry.name):
            total += entry.stat().st_size
    return total


def stored_file(folder: Path, relative: str) -> Path | None:
    """The stored media file `relative` ("media/<sha256>.<ext>") names in `folder`, or None."""
    directory, _, name = relative.partition("/")
    if directory != MEDIA_DIR or not _STORED_NAME.fullmatch(name):
        return None
    file = media_dir(folder) / name
    return file if file.is_file() and not file.is_symlink() else None


def store_upload(partial: Path, kind: str, limits: MediaLimits) -> StoredMedia:
    """Checks the complete upload at `partial` (sniffed as `kind`), cleans it and stores it by
    content hash beside it. MediaRefused if it is not what it claims; `partial` is used up either
    way (removed or renamed)."""
    try:
        if kind == "mp4":
            return _store_video(partial)
        return _store_photo(partial, kind, limits)
    finally:
        partial.unlink(missing_ok=True)


def _store_photo(partial: Path, kind: str, limits: MediaLimits) -> StoredMedia:
    data = partial.read_bytes()
    width, height = image_size(kind, data)
    if width * height > limits.max_photo_pixels:
        raise MediaRefused(http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"this photo is {width} x {height} pixels; the server takes at most "
                           f"{limits.max_photo_pixels / 1e6:.0f} megapixels (scale it down first)")
    # IMREAD_COLOR applies the EXIF orientation (a phone's portrait photo stays upright without EXIF);
    # PNG and WebP keep their alpha.
    flags = cv2.IMREAD_COLOR if kind == "jpg" else cv2.IMREAD_UNCHANGED
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    del data
    if image is None:
        raise MediaRefused(http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                           f"this file starts like a {kind.upper()} image but does not decode as one: it is "
                           "broken, or something else behind an image header")
    longest = max(image.shape[:2])
    if longest > limits.max_photo_side_px:
        scale = limits.max_photo_side_px / longest
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if kind != "png" and image.dtype != np.uint8:  # 16-bit samples: only PNG keeps them
        image = (image // 257).astype(np.uint8)
    ok, encoded = cv2.imencode(f".{kind}", image, _ENCODE_OPTIONS[kind])
    if not ok:
        raise MediaRefused(http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"this {kind.upper()} image could not be re-encoded")
    body = encoded.tobytes()
    final = partial.parent / f"{hashlib.sha256(body).hexdigest()}.{kind}"
    if not final.exists():
        cleaned = partial.with_name(partial.name + ".clean" + PARTIAL_SUFFIX)
        try:
            with open(cleaned, "wb") as out:
                out.write(body)
            _publish(cleaned, final)
        finally:
            cleaned.unlink(missing_ok=True)
    return StoredMedia(f"{MEDIA_DIR}/{final.name}", "image", len(body))


def _store_video(partial: Path) -> StoredMedia:
    length = partial.stat().st_size
    with open(partial, "r+b") as file:
        layout = check_mp4(file, length)
        for start, payload, end in layout.metadata:  # the location goes with the rest of the metadata
            file.seek(start + 4)
            file.write(b"free")
            file.seek(payload)
            for at in range(payload, end, _CHUNK_BYTES):
                file.write(bytes(min(_CHUNK_BYTES, end - at)))
        file.seek(0)
        digest = hashlib.sha256()
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    final = partial.parent / f"{digest.hexdigest()}.mp4"
    if not final.exists():
        _publish(partial, final)
    return StoredMedia(f"{MEDIA_DIR}/{final.name}", "video", length)


def _publish(written: Path, final: Path) -> None:
    """Renames the complete file `written` to `final`, on disk before the name is (the document
    may refer to it next)."""
    with open(written, "rb") as file:
        os.fsync(file.fileno())
    os.replace(written, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
