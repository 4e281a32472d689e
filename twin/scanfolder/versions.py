"""A scan folder's versions (`versions/<id>/version.json`): the scans of the room over time, the
first being the folder's own cloud. `twin versions add` writes them; export lists them in the document."""
from __future__ import annotations

import re
from pathlib import Path

from twin import document
from twin.document import DocumentError, Version
from twin.scanfolder.json_files import read_json, write_json

VERSIONS_DIR = "versions"
VERSION_FILE = "version.json"
FIRST_VERSION_ID = "v1"
_ID = re.compile(r"^v(\d+)$")


def version_folder(scan_dir: str | Path, version_id: str) -> Path:
    return Path(scan_dir) / VERSIONS_DIR / version_id


def read_versions(scan_dir: str | Path) -> tuple[Version, ...]:
    """The versions recorded in the scan folder, oldest first (none where it has no versions/ folder);
    ValueError naming a version.json that is damaged or lacks a field."""
    root = Path(scan_dir) / VERSIONS_DIR
    if not root.is_dir():
        return ()
    records = [_read_version(folder / VERSION_FILE) for folder in root.iterdir()
               if _ID.match(folder.name) and (folder / VERSION_FILE).is_file()]
    return tuple(sorted(records, key=lambda v: int(_ID.match(v.id).group(1))))


def next_version_id(scan_dir: str | Path) -> str:
    """'v2' for the first version added to a scan, then 'v3', ... (ids of removed versions are not reused)."""
    root = Path(scan_dir) / VERSIONS_DIR
    names = [p.name for p in root.iterdir()] if root.is_dir() else []
    taken = [int(m.group(1)) for m in map(_ID.match, names) if m]
    return f"v{max([1, *taken]) + 1}"


def write_version(folder: Path, version: Version) -> None:
    """`folder/version.json` for `version` (atomically)."""
    write_json(folder / VERSION_FILE, document.to_dict(version))


def _read_version(path: Path) -> Version:
    data = read_json(path, "a scan version", "add the version again (twin versions add) or delete its folder")
    try:  # the schema's check, through a document holding only this version
        checked = document.from_dict({"version": 1, "name": "version", "versions": [data]}, source=str(path))
    except DocumentError as error:
        raise ValueError(str(error).replace("versions[0].", "")) from None
    version = checked.versions[0]
    if version.id != path.parent.name:
        raise ValueError(f"{path}: names the version {version.id!r} but lies in the folder {path.parent.name!r}; "
                         "rename one of them")
    return version
