"""Fixtures for the plan tests: the sample workshop as a scan folder (see tests/plan_scan.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from plan_scan import sample_surface_points, write_plan_scan

# Renderings of the plans are kept here for a person to look at (git ignores artifacts/).
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "plan"


@pytest.fixture(scope="session")
def surface_points() -> np.ndarray:
    return sample_surface_points()


@pytest.fixture
def sample_scan(tmp_path, surface_points) -> Path:
    return write_plan_scan(tmp_path / "sample_workshop", surface_points)


@pytest.fixture
def keep_artefact():
    """Copies a rendered plan into artifacts/plan/ under the given name."""
    def keep(path: Path, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copyfile(path, ARTIFACTS / name))
    return keep
