"""A version's carry-over proposal on disk: `versions/<id>/proposed.patch.json` holds
{"version", "patch": [RFC 6902 operations], "notes": [...]}; once a planner accepts it (the CLI
applies the patch to twin.json) it is renamed `accepted.patch.json`, so it cannot apply twice."""
from __future__ import annotations

import os
from pathlib import Path

from twin.scanfolder import read_json, version_folder
from twin.versions.carry_over import Proposal

PROPOSAL_FILE, ACCEPTED_FILE = "proposed.patch.json", "accepted.patch.json"


def proposal_json(proposal: Proposal) -> dict:
    return {"version": proposal.version, "patch": proposal.patch, "notes": proposal.notes}


def read_proposal(scan_dir: str | Path, version_id: str) -> Proposal:
    """The version's open proposal; ValueError saying why there is none, or what is wrong with its file."""
    folder = version_folder(scan_dir, version_id)
    path = folder / PROPOSAL_FILE
    if not folder.is_dir():
        raise ValueError(f"{scan_dir} has no version {version_id!r}; "
                         f"`twin versions list {scan_dir}` shows its versions")
    if not path.is_file():
        done = " (it was accepted: see accepted.patch.json)" if (folder / ACCEPTED_FILE).is_file() else ""
        raise ValueError(f"{path}: no open proposal for version {version_id}{done}")
    data = read_json(path, "a carry-over proposal", "add the version again (twin versions add)")
    if not (isinstance(data, dict) and isinstance(data.get("patch"), list) and isinstance(data.get("notes"), list)
            and data.get("version") == version_id):
        raise ValueError(f"{path}: not a carry-over proposal of version {version_id} (an object with version, "
                         "patch and notes lists); add the version again")
    return Proposal(version_id, data["patch"], data["notes"])


def mark_accepted(scan_dir: str | Path, version_id: str) -> Path:
    """Renames the open proposal to accepted.patch.json; returns its new path."""
    folder = version_folder(scan_dir, version_id)
    os.replace(folder / PROPOSAL_FILE, folder / ACCEPTED_FILE)
    return folder / ACCEPTED_FILE
