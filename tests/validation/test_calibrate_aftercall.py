"""`staffsim fit` on a log with named agents: after-call work and agents logged in come back.

The generating centre: one phone line, overloaded from 08:00 to 18:00 (offered load about
twice the capacity, patience 900 s: a queue of several callers per agent is nearly always there), lognormal handle
time (mean 180 s, CV 1), exponential after-call work (mean 40 s) and six agents, each a group
of one (so the log's ``agent`` column names a person), on shifts of 5 to 10 hours, for 10 days.

With a queue at the end of a contact, a simulated agent takes the next one right after its
after-call work, so the kept gaps are the after-call draws, exponential with mean 40 s: the
fitted mean must lie within the 99 % bound of a sample mean, Z·40/√n. The only bias is
upward (the queue emptying during the gap), and in this overload it is far below that bound.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

import sim
from sim.calibrate.aftercall import has_agents
from sim.calibrate.fit import Fit, fit_log
from sim.calibrate.log import ContactLog, log_from_contacts, write_log
from sim.cli import main

Z99 = float(stats.norm.ppf(0.995))
DAYS = 10
WRAP_S = 40.0
SHIFTS = {  # agent: (first hour, last hour) on duty
    "a1": (8, 18),
    "a2": (8, 18),
    "a3": (8, 13),
    "a4": (13, 18),
    "a5": (10, 16),
    "a6": (8, 16),
}


def _on_duty(first: int, last: int) -> list[int]:
    return [1 if first <= h < last else 0 for h in range(24)]


def _known() -> sim.Scenario:
    true = np.sum([_on_duty(*s) for s in SHIFTS.values()], axis=0)
    rates = [float(n) * 3600 / (180 + WRAP_S) * 2.0 for n in true]
    return sim.load_scenario(
        {
            "name": "known-with-wrap-up",
            "seed": 5,
            "horizon_hours": 24 * DAYS,
            "interval_min": 60,
            "channels": {
                "phone": {
                    "arrivals": {"profile": {"interval_min": 60, "rates_per_hour": rates}},
                    "handle_time": {"dist": "lognormal", "mean_s": 180, "cv": 1.0},
                    "wrap_up": {"dist": "exponential", "mean_s": WRAP_S},
                    "patience": {"dist": "exponential", "mean_s": 900},
                }
            },
            "agents": {
                name: {"staffing": {"interval_min": 60, "counts": _on_duty(*s)}, "skills": ["phone"]}
                for name, s in SHIFTS.items()
            },
        }
    )


@pytest.fixture(scope="module")
def generated() -> tuple[ContactLog, Fit]:
    log = log_from_contacts(sim.run(_known(), replications=1, records="full").contacts())
    return log, fit_log(log, 60)


def test_fit_recovers_after_call_work(generated: tuple[ContactLog, Fit]) -> None:
    _, fit = generated
    assert fit.staffing_by == "logged-in"
    (cls,) = fit.classes
    w = cls.wrap_up
    assert w is not None and w.source == "channel" and w.n > 2000  # one class: its channel's gaps
    assert abs(w.mean_s - WRAP_S) <= Z99 * WRAP_S / math.sqrt(w.n), w
    assert abs(w.median_s - WRAP_S * math.log(2)) <= 0.15 * WRAP_S * math.log(2)  # exponential median


def test_fit_counts_the_agents_logged_in(generated: tuple[ContactLog, Fit]) -> None:
    """Per hour, the mean agents logged in is the roster's count within a quarter of an agent.

    An agent is counted from the first answer (at once, in overload) to the end of the last
    contact, which runs past the shift by the residual handle time in hand (mean
    E[X²]/2E[X] = 180 s, 0.05 of an hour per leaving agent): well inside 0.25.
    """
    _, fit = generated
    true = np.sum([_on_duty(*s) for s in SHIFTS.values()], axis=0)
    fitted = np.asarray(fit.staffing.means)
    assert np.abs(fitted - true).max() <= 0.25, np.round(fitted - true, 2)


def test_a_team_label_is_not_an_agent(generated: tuple[ContactLog, Fit]) -> None:
    """A log whose agent column names one team (overlapping calls) falls back to agents busy while callers wait."""
    log, _ = generated
    frame = log.frame.copy()
    frame["agent"] = frame["agent"].where(frame["agent"].isna(), "team")
    team = ContactLog(frame, "team")
    assert has_agents(log) and not has_agents(team)
    fit = fit_log(team, 60)
    assert fit.staffing_by == "busy" and fit.classes[0].wrap_up is None
    with pytest.raises(ValueError, match="agent column"):
        fit_log(team, 60, staffing_by="logged-in")


def test_busy_staffing_stays_available(generated: tuple[ContactLog, Fit]) -> None:
    log, _ = generated
    fit = fit_log(log, 60, staffing_by="busy")
    assert fit.staffing_by == "busy" and fit.classes[0].wrap_up is None
    assert fit.staffing.method.startswith("mean number of agents busy")


def test_the_cli_writes_wrap_up_and_takes_the_staffing_option(
    generated: tuple[ContactLog, Fit], tmp_path: Path
) -> None:
    log, _ = generated
    write_log(log.frame, tmp_path / "log.csv")
    runner = CliRunner()
    for extra, has_wrap in (([], True), (["--staffing", "busy"], False), (["--wrap-up-by", "class"], True)):
        out = tmp_path / f"fit{len(extra)}{has_wrap}.yaml"
        result = runner.invoke(
            main, ["fit", str(tmp_path / "log.csv"), "--out", str(out), "--interval-min", "60", *extra]
        )
        assert result.exit_code == 0, result.output
        scenario = sim.load_scenario(out)
        assert (scenario.channels["phone"].wrap_up is not None) == has_wrap, extra
    frame = log.frame.copy()
    frame["agent"] = frame["agent"].where(frame["agent"].isna(), "team")
    write_log(frame, tmp_path / "team.csv")
    result = runner.invoke(
        main,
        ["fit", str(tmp_path / "team.csv"), "--out", str(tmp_path / "t.yaml"), "--staffing", "logged-in"],
    )
    assert result.exit_code == 2 and "agent column" in result.output and not (tmp_path / "t.yaml").exists()
