"""Fixtures for the plan tests: the sample workshop as a scan folder (see tests/plan_scan.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from plan_scan import sample_surface_points, write_plan_scan


@pytest.fixture(scope="session")
def surface_points() -> np.ndarray:
    return sample_surface_points()


@pytest.fixture
def sample_scan(tmp_path, surface_points) -> Path:
    return write_plan_scan(tmp_path / "sample_workshop", surface_points)
