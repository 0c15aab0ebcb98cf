"""Sizing shifts (`sim.planning.shifts`, `staffsim optimize --shifts`).

The central case reuses the stationary day of `tests/validation/test_optimize_intervals.py`: hour-long
intervals of M/M/c load where the plan per hour is exactly Erlang C's minimum (6, 6, 7, 7,
8, 8 agents from 08:00 to 14:00, with the CIs at c* and c* − 1 on either side of the goal,
asserted there). Two shifts, 08:00–12:00 and 12:00–14:00, must then carry max(6, 6, 7, 7) = 7
and max(8, 8) = 8 agents: one fewer on either leaves an hour below its minimum.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import sim
from sim.cli.optimize import optimize as optimize_command
from sim.config.staffing import Shift
from sim.planning.intervals.grid import Grid
from sim.planning.settings import OptimizeSettings, RunContext
from sim.planning.shifts import (
    ShiftPlan,
    cover_start,
    coverage,
    describe,
    optimize_shifts,
    paid_hours,
    shift_grid,
)
from sim.runner.executors import Executor, make_executor
from tests.validation.test_optimize_intervals import GOAL, STATIONARY, erlang_table

pytestmark = pytest.mark.slow  # the searches simulate many staffing tables (> 10 s)

MORNING_SHIFTS = [
    {"start": "08:00", "end": "12:00", "count": 1},
    {"start": "12:00", "end": "14:00", "count": 1},
]


def two_shifts(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(STATIONARY)
    data["agents"]["team"] = {"skills": ["phone"], "shifts": copy.deepcopy(MORNING_SHIFTS)}
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def executor() -> Any:
    ex = make_executor(2)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def shift_plan(executor: Executor) -> ShiftPlan:
    return optimize_shifts(
        two_shifts(),
        [f"phone.service_level>={GOAL}"],
        settings=OptimizeSettings(seed=11),
        context=RunContext(executor=executor),
    )


# --- coverage, paid hours, the greedy start ------------------------------------------


def test_coverage_and_paid_hours_of_shifts_with_breaks_and_overnight() -> None:
    """Coverage is the share of each interval a shift is on duty (a 30-minute break halves
    an hour); paid hours count breaks and every day the shift runs before the horizon,
    including one that runs past midnight."""
    grid = Grid(3600.0, 24, 48, 48 * 3600.0)
    day = Shift(start="08:00", end="12:00", count=3, breaks=[{"start": "10:00", "minutes": 30}])
    night = Shift(start="22:00", end="02:00", count=1)
    cover = coverage([day, night], grid)
    expected_day = np.zeros(24)
    expected_day[8:12] = 1.0
    expected_day[10] = 0.5
    np.testing.assert_allclose(cover[0], expected_day)
    expected_night = np.zeros(24)
    expected_night[[0, 1, 22, 23]] = 1.0  # the run starts mid-pattern: the shift of day −1 is on at 00:00
    np.testing.assert_allclose(cover[1], expected_night)
    assert paid_hours(day, 48 * 3600.0) == pytest.approx(8.0)
    # Within the 48 h: day −1's shift until 02:00, day 0's 22:00–02:00, day 1's until the horizon.
    assert paid_hours(night, 48 * 3600.0) == pytest.approx(2.0 + 4.0 + 2.0)
    assert describe(day) == "daily 08:00–12:00"
    weekdays = Shift(start="07:00", end="15:30", count=1, days=["mon", "tue", "wed", "thu", "fri"])
    assert describe(weekdays) == "mon–fri 07:00–15:30"


def test_cover_start_covers_the_requirement_greedily() -> None:
    """Two shifts over six hours: the start is the most either half needs; an hour no shift
    covers is left short."""
    cover = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0]], dtype=float)
    assert cover_start([2, 5, 3, 4, 1, 9], cover, [3.0, 2.0]) == [5, 4]


def test_shift_grid_is_weekly_when_shifts_work_some_weekdays() -> None:
    weekdays = copy.deepcopy(MORNING_SHIFTS)
    weekdays[0]["days"] = ["mon", "tue", "wed", "thu", "fri"]
    scenario = sim.load_scenario(two_shifts(horizon_hours=72))
    assert shift_grid(scenario, ["team"]).period == 24
    data = two_shifts(horizon_hours=72)
    data["agents"]["team"]["shifts"] = weekdays
    assert shift_grid(sim.load_scenario(data), ["team"]).period == 7 * 24


# --- the search -------------------------------------------------------------------------


def test_shift_counts_are_the_erlang_minimum_of_their_busiest_hour(shift_plan: ShiftPlan) -> None:
    """Each shift carries the Erlang C minimum of the busiest hour it covers, no more."""
    per_hour = erlang_table()
    morning, midday = max(per_hour[8:12]), max(per_hour[12:14])
    assert (morning, midday) == (7, 8)
    plan = shift_plan
    assert plan.met and plan.counts == {"team": [morning, midday]}
    assert plan.shifts == {"team": ["daily 08:00–12:00", "daily 12:00–14:00"]}
    assert plan.agent_hours() == pytest.approx(10 * (4 * morning + 2 * midday))
    saved = plan.scenario.agents["team"].shifts
    assert saved is not None and [s.count for s in saved] == [morning, midday]
    # One fewer on either shift was simulated and misses a target in the hours it covers.
    for fewer, hours in (([morning - 1, midday], range(8, 12)), ([morning, midday - 1], range(12, 14))):
        trial = _trial(plan, fewer)
        assert trial is not None, f"never tried {fewer}"
        assert not all(trial.intervals[0].met[k] for k in hours)


def _trial(plan: ShiftPlan, counts: list[int]) -> Any:
    return next((t for t in plan.trials if t.tables["team"] == counts), None)


def test_a_wrong_start_reaches_the_same_counts(executor: Executor, shift_plan: ShiftPlan) -> None:
    """Too few on the morning shift and too many at midday: agents are added to the first
    and removed from the second, to the same counts."""
    plan = optimize_shifts(
        two_shifts(),
        [f"phone.service_level>={GOAL}"],
        settings=OptimizeSettings(seed=11),
        context=RunContext(executor=executor),
        start={"team": [5, 9]},
    )
    assert plan.counts == shift_plan.counts and plan.start == {"team": [5, 9]}
    assert {kind for kind, _ in plan.steps} == {"add", "remove"}


def test_intervals_no_shift_covers_are_named_and_the_rest_is_sized(executor: Executor) -> None:
    """Calls at 13:00 with the midday shift ending at 13:00: that hour cannot be helped;
    the plan is not met, names it, and still sizes both shifts for the hours they cover."""
    data = two_shifts(replications=4)
    data["agents"]["team"]["shifts"][1]["end"] = "13:00"
    plan = optimize_shifts(
        data,
        [f"phone.service_level>={GOAL}"],
        settings=OptimizeSettings(seed=11),
        context=RunContext(executor=executor),
    )
    assert not plan.met and plan.uncovered == ("13:00",)
    assert "13:00" in plan.note and "no searched shift is on duty" in plan.note
    judged = plan.intervals[0]
    assert all(judged.met[k] for k in range(24) if k != 13)
    assert plan.counts["team"][1] == 8  # 12:00–13:00 alone needs Erlang C's 8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"settings": OptimizeSettings(groups=("nobody",))}, "no agent group 'nobody'"),
        ({"start": {"team": [1]}}, "one per shift"),
        ({"settings": OptimizeSettings(replications=1, confident=True)}, "at least 2 replications"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optimize_shifts(two_shifts(), [f"phone.service_level>={GOAL}"], **kwargs)


def test_groups_without_shifts_are_refused() -> None:
    with pytest.raises(ValueError, match="works shifts"):
        optimize_shifts(STATIONARY, [f"phone.service_level>={GOAL}"])
    data = two_shifts()
    data["agents"]["helpers"] = {"count": 2, "skills": ["phone"]}
    with pytest.raises(ValueError, match="has no shifts to size"):
        optimize_shifts(
            data, [f"phone.service_level>={GOAL}"], settings=OptimizeSettings(groups=("helpers",))
        )


# --- the command ----------------------------------------------------------------------


def test_cli_shifts_json_table_and_save(tmp_path: Path) -> None:
    """`--shifts --json` lists each shift with its count; the table view and `--save` work,
    and the saved file runs with the sized shifts."""
    src = tmp_path / "shifts.yaml"
    src.write_text(yaml.safe_dump(two_shifts(horizon_hours=48, replications=2)), encoding="utf-8")
    out = tmp_path / "plan.yaml"
    args = [str(src), "--shifts", "-t", "phone.service_level>=0.8", "-j", "1", "-q"]
    result = CliRunner().invoke(optimize_command, [*args, "--json", "--save", str(out)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    counts = [row["count"] for row in d["groups"]["team"]]
    assert [row["shift"] for row in d["groups"]["team"]] == ["daily 08:00–12:00", "daily 12:00–14:00"]
    saved = sim.load_scenario(out)
    assert [s.count for s in saved.agents["team"].shifts or []] == counts
    assert d["total_agent_hours"] == pytest.approx(2 * (4 * counts[0] + 2 * counts[1]))
    text = CliRunner().invoke(optimize_command, args)
    assert text.exit_code == 0 and "daily 08:00–12:00" in text.stdout and "paid agent-hours" in text.stdout
    both = CliRunner().invoke(optimize_command, [*args, "--per-interval"])
    assert both.exit_code == 2 and "choose one of --per-interval" in both.stderr
