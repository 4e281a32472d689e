"""The sample workshop's document for naming machines, built from twin.synth's machines."""
from __future__ import annotations

import pytest
import workshop_scans

from twin.document import from_dict
from twin.geometry import matrix_to_quaternion


@pytest.fixture(scope="session")
def workshop_document():
    machines = [{"id": m.id, "name": m.name, "kind": m.kind,
                 "pose": {"translation": m.T_world_machine[:3, 3].tolist(), "rotation": list(matrix_to_quaternion(m.T_world_machine[:3, :3]))},
                 "bounds": {"min": [-m.size_m[0] / 2, -m.size_m[1] / 2, 0.0],
                            "max": [m.size_m[0] / 2, m.size_m[1] / 2, m.size_m[2]]}, "properties": {}}
                for m in workshop_scans.workshop().machines]
    return from_dict({"version": 1, "name": "sample", "languages": ["it", "en"], "machines": machines,
                      "anchors": [], "procedures": [], "tours": [], "layouts": [], "measurements": []})
