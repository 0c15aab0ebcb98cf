"""Shared fixtures: small scenarios as dicts, the shared real-data folder, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import ROOT

SCENARIOS = ROOT / "scenarios"
SHARED_DATA = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture
def shared_data() -> Path:
    """The shared real-data folder; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared real data not found at {SHARED_DATA}")
    return SHARED_DATA
