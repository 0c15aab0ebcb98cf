"""Shared fixtures: small scenarios as dicts, the shared real-data folder, a CLI runner."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHARED_DATA = ROOT.parent / "shared" / "data" / "real"

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
def shared_data() -> Path:
    """The shared real-data folder; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared real data not found at {SHARED_DATA}")
    return SHARED_DATA
