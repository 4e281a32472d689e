"""What the server spends checking one edit: the whole document against the schema (as before)
versus only what the edit changed: top-level members and list items (`validate(..., valid_before=...)`), on the
sample workshop's document and on one grown to a big workshop (more machines and procedures).

    .venv/bin/python benchmarks/edit_validation.py [--repeat 200]

The edit is an artisan's: one step's text. Both checks run in the same process, interleaved, and
the ratio is reported (a shared machine's load moves both alike).
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path

import yaml

from twin.document import validate
from twin.serve.json_patch import apply_patch

SAMPLE = Path(__file__).resolve().parents[1] / "scans" / "sample_workshop.twin.yaml"


def grown(document: dict, copies: int) -> dict:
    """The document with `copies` more of each machine and its procedures (ids made unique)."""
    big = copy.deepcopy(document)
    for n in range(copies):
        for machine in document["machines"]:
            big["machines"].append({**copy.deepcopy(machine), "id": f"{machine['id']}-{n}"})
        for procedure in document["procedures"]:
            big["procedures"].append({**copy.deepcopy(procedure), "id": f"{procedure['id']}-{n}",
                                      "machine": f"{procedure['machine']}-{n}"})
    validate(big)
    return big


def timed(check, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        check()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    sample = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'document':<24}{'full ms (median)':>18}{'changed only ms':>18}{'ratio':>8}")
    for label, document in (("sample workshop", sample), ("20x the machines", grown(sample, 19))):
        patch = [{"op": "replace", "path": "/procedures/0/steps/0/text",
                  "value": {language: "Ready." for language in document["languages"]}}]
        edited = apply_patch(document, patch)
        full, changed = [], []
        for _ in range(4):  # interleaved rounds
            full += timed(lambda: validate(edited), args.repeat // 4)
            changed += timed(lambda: validate(edited, valid_before=document), args.repeat // 4)
        f, c = statistics.median(full), statistics.median(changed)
        print(f"{label:<24}{f:>18.2f}{c:>18.2f}{f / c:>7.1f}x")


if __name__ == "__main__":
    main()
