"""The budget of a per-interval or shift search is an upper bound the search keeps.

Before it starts, `staffsim optimize --per-interval` (or `--shifts`) sizes the run for the
budget check by a number of staffings; the search may not simulate more than that number,
or a user passes a budget check and then sees a run go past it. Here a search that needs
more than 20 staffings (the figure the check once assumed) is bounded by `max_staffings`.

The scenario: four hours of 600 calls an hour of 2 minutes (20 Erlangs), searched from an
empty table, so the add phase alone takes more than 20 steps (about 25 agents an hour).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from sim.cli import main
from sim.planning.headcount import optimize as optimize_headcount
from sim.planning.intervals.optimize import EXPECTED_STAFFINGS, optimize_intervals
from sim.planning.search import MAX_STAFFINGS
from sim.planning.settings import OptimizeSettings, RunContext
from sim.planning.shifts import optimize_shifts

TARGET = ["phone.service_level>=0.8"]


def busy_hours(**agents: Any) -> dict[str, Any]:
    """Four hour-long intervals at 20 Erlangs, two replications."""
    return {
        "name": "busy",
        "seed": 11,
        "replications": 2,
        "horizon_hours": 4,
        "interval_min": 60,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 600},
                "handle_time": {"dist": "exponential", "mean_s": 120},
            }
        },
        "agents": {"team": {"skills": ["phone"], **(agents or {"count": 1})}},
    }


SHIFTS = [{"start": "00:00", "end": "02:00", "count": 1}, {"start": "02:00", "end": "04:00", "count": 1}]


@pytest.fixture(scope="module")
def unbounded() -> Any:
    """The per-interval search from an empty table, with the default bound."""
    return optimize_intervals(busy_hours(), TARGET, start={"team": 0})


def test_a_search_that_needs_more_than_20_staffings_stays_within_the_counted_number(unbounded: Any) -> None:
    assert unbounded.met
    assert unbounded.evaluated > 20  # more than the budget check once counted
    assert unbounded.evaluated <= EXPECTED_STAFFINGS == MAX_STAFFINGS  # what it counts now


def test_max_staffings_stops_the_add_phase(unbounded: Any) -> None:
    plan = optimize_intervals(
        busy_hours(), TARGET, settings=OptimizeSettings(max_staffings=10), start={"team": 0}
    )
    assert plan.evaluated == 10 and not plan.met
    assert "stopped after 10 staffings (max_staffings)" in plan.note
    assert all(a <= b for a, b in zip(plan.tables["team"], unbounded.tables["team"], strict=True))


def test_max_staffings_stops_the_remove_phase_with_a_plan_that_meets_the_targets(unbounded: Any) -> None:
    limit = unbounded.evaluated - 1
    plan = optimize_intervals(
        busy_hours(), TARGET, settings=OptimizeSettings(max_staffings=limit), start={"team": 0}
    )
    assert plan.evaluated <= limit and plan.met
    assert "stopped removing agents" in plan.note and "max_staffings" in plan.note
    # what it keeps is at least the unbounded search's plan, interval by interval
    assert all(a >= b for a, b in zip(plan.tables["team"], unbounded.tables["team"], strict=True))


def test_the_shift_search_is_bounded_too() -> None:
    whole = optimize_shifts(busy_hours(shifts=SHIFTS), TARGET, start={"team": [0, 0]})
    assert whole.met and 20 < whole.evaluated <= MAX_STAFFINGS
    capped = optimize_shifts(
        busy_hours(shifts=SHIFTS), TARGET, settings=OptimizeSettings(max_staffings=8), start={"team": [0, 0]}
    )
    assert capped.evaluated == 8 and not capped.met and "max_staffings" in capped.note


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_max_staffings_must_be_a_whole_number_of_at_least_one(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_staffings"):
        optimize_intervals(busy_hours(), TARGET, settings=OptimizeSettings(max_staffings=bad))


def test_headcount_mode_refuses_max_staffings() -> None:
    import sim

    with pytest.raises(ValueError, match="max_staffings"):
        sim.optimize(busy_hours(), TARGET, settings=sim.OptimizeSettings(max_staffings=5))


def test_the_head_count_search_refuses_max_staffings_when_called_directly() -> None:
    with pytest.raises(ValueError, match='max_staffings applies to mode="intervals" and mode="shifts" only'):
        optimize_headcount(busy_hours(), TARGET, settings=OptimizeSettings(max_staffings=5))


@pytest.mark.parametrize("mode", ["headcount", "intervals", "shifts"])
def test_the_run_context_hears_of_every_replication_the_plan_counts(mode: str) -> None:
    """`progress` hears of each replication once, and `on_total` ends at all of them: the
    staffings the plan says it simulated times their replications (what a budget counts)."""
    done: list[int] = []
    totals: list[int] = []
    context = RunContext(progress=done.append, on_total=totals.append)
    plan: Any
    if mode == "headcount":
        plan = optimize_headcount(busy_hours(), TARGET, context=context)
    elif mode == "intervals":
        plan = optimize_intervals(
            busy_hours(), TARGET, settings=OptimizeSettings(max_staffings=4), context=context
        )
    else:
        data = busy_hours(shifts=SHIFTS)
        plan = optimize_shifts(data, TARGET, settings=OptimizeSettings(max_staffings=4), context=context)
    assert plan.evaluated >= 2
    assert sum(done) == totals[-1] == plan.evaluated * plan.replications == plan.evaluated * 2
    assert totals == sorted(totals) and len(set(totals)) == len(totals)  # it only grows


# --- the command's budget check counts the bound -------------------------------------------


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "busy.yaml"
    path.write_text(yaml.safe_dump(busy_hours()), encoding="utf-8")
    return path


def optimize(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, ["optimize", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("given", "counted"), [([], MAX_STAFFINGS), (["--max-staffings", "30"], 30)])
def test_the_budget_check_counts_the_searchs_bound(
    scenario_file: Path, given: list[str], counted: int
) -> None:
    # a budget of one contact: every search is refused, and the message shows what was counted
    code, out, err = optimize(
        scenario_file, "--per-interval", "-t", TARGET[0], *given, env={"STAFFSIM_MAX_CONTACTS": "1"}
    )
    assert code == 2 and out == "" and "too large" in err, err
    assert f"× {counted} scenarios" in err


def test_max_staffings_needs_an_interval_or_shift_search(scenario_file: Path) -> None:
    code, out, err = optimize(scenario_file, "-t", TARGET[0], "--max-staffings", "5")
    assert code == 2 and out == "" and "--max-staffings needs --per-interval or --shifts" in err
