"""Shared fixtures: small scenarios as dicts, the project's real-data folder, a CLI runner."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BANK_DATA = ROOT / "data" / "anonymous_bank"

MMC: dict[str, Any] = {
    "name": "mmc",
    "seed": 7,
    "replications": 5,
    "horizon_hours": 20,
    "warmup_hours": 1,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 540},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "target": {"answer_within_s": 20},
        }
    },
    "agents": {"team": {"count": 10, "skills": ["phone"]}},
}


def mmc(**changes: Any) -> dict[str, Any]:
    """A copy of the small M/M/c scenario with top-level keys replaced."""
    data = copy.deepcopy(MMC)
    data.update(changes)
    return data


@pytest.fixture
def bank_data() -> Path:
    """The project's copy of the Anonymous Bank extracts (data/anonymous_bank/, see its README)."""
    return BANK_DATA
