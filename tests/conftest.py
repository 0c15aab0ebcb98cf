"""Shared fixtures: small scenarios as dicts, the project's real-data folder, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import ROOT

SCENARIOS = ROOT / "scenarios"
BANK_DATA = ROOT / "data" / "anonymous_bank"


@pytest.fixture
def bank_data() -> Path:
    """The project's copy of the Anonymous Bank extracts (data/anonymous_bank/, see its README)."""
    return BANK_DATA
