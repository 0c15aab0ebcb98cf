"""Small scenarios as dicts, shared by the tests: one home for each shape used in several files.

Each builder returns a fresh dict (callers may change it) that `sim.load_scenario` accepts.
`invoke` runs the command line in-process, as several test files do.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root folder."""


def single_queue(
    *,
    rate_per_hour: float = 540,
    agents: int = 10,
    mean_s: float = 60,
    target_s: float = 20,
    patience_s: float | None = None,
    hours: float = 20,
    warmup: float = 1,
    seed: int = 7,
    replications: int = 5,
    name: str = "mmc",
) -> dict[str, Any]:
    """One phone channel, Poisson arrivals, exponential handle times and one team: M/M/c (+M with patience)."""
    phone: dict[str, Any] = {
        "arrivals": {"rate_per_hour": rate_per_hour},
        "handle_time": {"dist": "exponential", "mean_s": mean_s},
        "target": {"answer_within_s": target_s},
    }
    if patience_s is not None:
        phone["patience"] = {"dist": "exponential", "mean_s": patience_s}
    return {
        "name": name,
        "seed": seed,
        "replications": replications,
        "horizon_hours": hours,
        "warmup_hours": warmup,
        "channels": {"phone": phone},
        "agents": {"team": {"count": agents, "skills": ["phone"]}},
    }


MMC: dict[str, Any] = single_queue()
"""The small M/M/c: 10 agents, 540 calls/h of 60 s (utilisation 0.9), 20 h, seed 7."""


def mmc(**changes: Any) -> dict[str, Any]:
    """A copy of the small M/M/c scenario with top-level keys replaced."""
    data = copy.deepcopy(MMC)
    data.update(changes)
    return data


BANK_LOG = ROOT / "data" / "anonymous_bank" / "anonymous_bank_feb1999_log_0201_0214.csv"
"""The bank's real contact log, 1–14 February 1999 (see its README)."""


def bank_log_extract(path: Path, days: tuple[str, ...] = ("1999-02-01", "1999-02-02")) -> int:
    """Write the bank log's rows of the given calendar days (header kept) to `path`; return their number."""
    lines = BANK_LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = [line for line in lines[1:] if line.startswith(days)]
    path.write_text(lines[0] + "".join(rows), encoding="utf-8")
    return len(rows)


SMALL_DAY: dict[str, Any] = {
    "name": "small-day",
    "seed": 4,
    "horizon_hours": 2,
    "interval_min": 30,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 120},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "target": {"answer_within_s": 20},
        },
        "email": {
            "arrivals": {"rate_per_hour": 30},
            "handle_time": {"dist": "exponential", "mean_min": 4},
            "target": {"answer_within_min": 30},
        },
    },
    "agents": {
        "phone_team": {"count": 3, "skills": ["phone"]},
        "email_team": {
            "skills": ["email"],
            "shifts": [
                {"start": "00:00", "end": "01:00", "count": 1},
                {"start": "01:00", "end": "02:00", "count": 1},
            ],
        },
    },
}
"""Two hours at half-hour intervals: a phone team with a head count, an email team on two shifts."""


def small_day() -> dict[str, Any]:
    """A fresh copy of `SMALL_DAY`."""
    return copy.deepcopy(SMALL_DAY)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    """Run `staffsim ARGS` in-process; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
