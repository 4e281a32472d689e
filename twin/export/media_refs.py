"""The media a twin document refers to (its steps' photos and videos), and what an export does with
them: media already in the scan folder are kept, those beside the document (a YAML written by
hand next to its photos) are copied into the scan folder under the same relative path, and files
in the scan folder's `media/` that nothing refers to any more (an upload whose step was deleted)
are reported, never removed: another revision may still refer to them.

References are paths relative to the scan folder (`media/<sha256>.jpg`, as `twin serve` stores
uploads); URLs (`https:`, `data:`) are the viewer's business and left alone.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from twin.document import TwinDocument
from twin.scanfolder import atomic_write

MEDIA_DIR = "media"
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class MediaReport:
    """What an export found of the document's media, as paths relative to the scan folder."""

    kept: tuple[str, ...] = ()  # referenced and already in the scan folder
    copied: tuple[str, ...] = ()  # referenced, copied from beside the document
    missing: tuple[str, ...] = ()  # referenced, found nowhere
    unreferenced: tuple[str, ...] = ()  # in the scan folder's media/, referenced by nothing


def referenced_media(document: TwinDocument) -> tuple[str, ...]:
    """The file paths the document's steps refer to as media, sorted and once each (URLs left out).

    ValueError when one would leave the scan folder (an absolute path, `..`)."""
    uris = {media.uri for procedure in document.procedures for step in procedure.steps for media in step.media}
    files = sorted(uri for uri in uris if not _URL.match(uri))
    for uri in files:
        path = PurePosixPath(uri)
        if path.is_absolute() or ".." in path.parts or "\\" in uri:
            raise ValueError(f"the document refers to media {uri!r}, outside the scan folder; media are "
                             "paths inside it, such as media/<sha256>.jpg")
    return tuple(files)


def plan_media(document: TwinDocument, scan_dir: Path, document_dir: Path) -> MediaReport:
    """What `copy_media` will do; reads only."""
    referenced = referenced_media(document)
    kept, copied, missing = [], [], []
    for uri in referenced:
        if (scan_dir / uri).is_file():
            kept.append(uri)
        elif (document_dir / uri).is_file():
            copied.append(uri)
        else:
            missing.append(uri)
    folder = scan_dir / MEDIA_DIR
    present = sorted(f"{MEDIA_DIR}/{p.name}" for p in folder.iterdir()
                     if p.is_file() and not p.name.startswith(".")) if folder.is_dir() else []
    unreferenced = [uri for uri in present if uri not in referenced]
    return MediaReport(tuple(kept), tuple(copied), tuple(missing), tuple(unreferenced))


def copy_media(report: MediaReport, scan_dir: Path, document_dir: Path) -> None:
    """Copies the media `report` plans to copy into the scan folder, each renamed into place when complete."""
    for uri in report.copied:
        with atomic_write(scan_dir / uri) as partial:
            shutil.copyfile(document_dir / uri, partial)
