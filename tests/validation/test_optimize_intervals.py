"""Per-interval staffing search (`sim.planning.intervals.optimize`, `optimize --per-interval`).

The central check mirrors the head-count optimiser's: when intervals are long compared with
the queue's relaxation time (60-minute intervals, 30-second calls, occupancy at most 0.75),
each interval behaves like a stationary M/M/c queue, so the plan must equal the Erlang C
minimum of every interval's own load. The loads and the goal are chosen so that Erlang C's
service level at c* and at c* − 1 is at least `MARGIN` from the goal in every interval
(asserted from the formulas), and the test checks from the search's own trials that the
simulation's 95 % CI excludes the goal at both, in every interval: the decision does not
hinge on the seed.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import sim
from sim.analytic.erlang import erlang_c_service_level, min_agents_erlang_c
from sim.cli.optimize import optimize as optimize_command
from sim.config.variants import apply_overrides
from sim.planning.headcount import Target
from sim.planning.intervals.optimize import (
    Grid,
    IntervalPlan,
    add_positions,
    interval_rates,
    interval_start,
    optimize_intervals,
    table_grid,
)
from sim.planning.settings import OptimizeSettings, RunContext
from sim.runner.executors import Executor, make_executor
from tests.builders import ROOT

pytestmark = pytest.mark.slow  # the searches simulate many staffing tables (> 10 s)

MARGIN = 0.08
"""Least distance between Erlang C's service level (at c* and c* − 1) and the goal."""

GOAL = 0.8
HOURLY = [0] * 8 + [480] * 2 + [600] * 2 + [720] * 2 + [0] * 10
"""Calls per hour in each hour of the day: closed at night, three load levels by day."""

STATIONARY: dict[str, Any] = {
    "name": "stationary-hours",
    "seed": 3,
    "replications": 8,
    "horizon_hours": 240,
    "interval_min": 60,
    "channels": {
        "phone": {
            "arrivals": {"profile": {"interval_min": 60, "rates_per_hour": HOURLY}},
            "handle_time": {"dist": "exponential", "mean_s": 30},
            "target": {"answer_within_s": 20},
        }
    },
    "agents": {"team": {"count": 1, "skills": ["phone"]}},
}
"""Ten days, each hour a stationary M/M/c queue; a daily table (no day-of-week pattern)."""


def erlang_table() -> list[int]:
    """Erlang C's minimum for every hour (0 where no calls come)."""
    return [min_agents_erlang_c(r / 3600 * 30, 30, 20, GOAL) if r else 0 for r in HOURLY]


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    ex = make_executor(2)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def erlang_plan(executor: Executor) -> IntervalPlan:
    return optimize_intervals(
        STATIONARY,
        [f"phone.service_level>={GOAL}"],
        settings=OptimizeSettings(seed=11),
        context=RunContext(executor=executor),
    )


def trial_with(plan: IntervalPlan, counts: list[int]) -> Any:
    for t in plan.trials:
        if t.tables["team"] == counts:
            return t
    raise AssertionError(f"the search never simulated {counts}")


# --- the grid and the analytic start -------------------------------------------------


def test_interval_rates_follow_the_profile_and_day_of_week() -> None:
    """Rates per table interval: the profile × the weekday factor (a weekly table), the
    profile alone (a daily table), and a last interval cut by the horizon."""
    profile = [float(10 * (h + 1)) for h in range(24)]
    week = [1.0, 0.5, 2.0, 1.0, 1.0, 0.2, 0.1]
    data: dict[str, Any] = copy.deepcopy(STATIONARY)
    data["horizon_hours"] = 72
    data["channels"]["phone"]["arrivals"] = {
        "profile": {"interval_min": 60, "rates_per_hour": profile},
        "day_of_week": week,
    }
    weekly = sim.load_scenario(data)
    grid = table_grid(weekly)
    assert grid.period == 7 * 24 and grid.n_knobs == 72 and grid.weekly
    expected = [profile[k % 24] * week[k // 24] / 3600 for k in range(72)]
    np.testing.assert_allclose(interval_rates(weekly, "phone", grid), expected, rtol=1e-12)
    assert grid.label(24 + 9) == "Tue 09:00"

    del data["channels"]["phone"]["arrivals"]["day_of_week"]
    daily = sim.load_scenario(data)
    grid = table_grid(daily)
    assert grid.period == 24 and grid.n_knobs == 24 and not grid.weekly and grid.wraps
    np.testing.assert_allclose(interval_rates(daily, "phone", grid), [p / 3600 for p in profile], rtol=1e-12)
    np.testing.assert_allclose(grid.hours(), [3.0] * 24)
    assert grid.label(9) == "09:00"

    data["horizon_hours"] = 2.5
    short = sim.load_scenario(data)
    grid = table_grid(short)
    assert grid.n_knobs == 3 and not grid.wraps
    np.testing.assert_allclose(grid.hours(), [1.0, 1.0, 0.5])
    np.testing.assert_allclose(
        interval_rates(short, "phone", grid), [p / 3600 for p in profile[:3]], rtol=1e-12
    )


def test_intervals_ending_in_the_warm_up_are_not_judged() -> None:
    """Two days on a daily table of hours with a 1.5 h warm-up: day 0's first hour (over by
    1 h) is left out, its second (ending at 2 h) counts; the scenario's warm-up reaches the grid."""
    grid = Grid(3600.0, 24, 48, 48 * 3600.0, warmup_s=5400.0)
    np.testing.assert_array_equal(grid.fold_judged(np.ones(48)), [1.0] + [2.0] * 23)
    np.testing.assert_array_equal(grid.fold(np.ones(48)), [2.0] * 24)
    data = copy.deepcopy(STATIONARY)
    data["warmup_hours"] = 1.5
    assert table_grid(sim.load_scenario(data)).warmup_s == 5400.0


def test_interval_start_is_erlang_c_per_interval_grossed_up_for_shrinkage() -> None:
    """The start is Erlang C for each hour's own rate, then the fewest heads that leave that
    many on duty after 25 % shrinkage (on duty = round(heads × 0.75))."""
    data = copy.deepcopy(STATIONARY)
    data["agents"]["team"]["shrinkage"] = 0.25
    scenario = sim.load_scenario(data)
    grid = table_grid(scenario)
    targets = [Target.parse(f"phone.service_level>={GOAL}")]
    start = interval_start(scenario, targets, ["team"], grid)["team"]
    for k, need in enumerate(erlang_table()):
        heads = next(n for n in range(200) if math.floor(n * 0.75 + 0.5) >= need)
        assert start[k] == heads, (k, need, start[k])


def test_occupancy_bound_raises_the_start_to_load_over_bound() -> None:
    """An occupancy bound alone needs ⌈load ÷ bound⌉ agents in each interval."""
    scenario = sim.load_scenario(STATIONARY)
    grid = table_grid(scenario)
    start = interval_start(scenario, [Target.parse("team.occupancy<=0.7")], ["team"], grid)["team"]
    assert start == [math.ceil(r / 3600 * 30 / 0.7 - 1e-9) for r in HOURLY]


# --- the search ----------------------------------------------------------------------


def test_plan_is_the_erlang_c_minimum_of_every_interval(erlang_plan: IntervalPlan) -> None:
    """Every hour gets exactly its Erlang C minimum; closed hours get nobody."""
    expected = erlang_table()
    for k, c in enumerate(expected):
        if c:
            load = HOURLY[k] / 3600 * 30
            assert erlang_c_service_level(c, load, 30, 20) - GOAL >= MARGIN
            assert GOAL - erlang_c_service_level(c - 1, load, 30, 20) >= MARGIN
    plan = erlang_plan
    assert plan.met and plan.tables == {"team": expected}
    assert plan.start == {"team": expected}  # the analytic start is Erlang C itself
    # The first removal batch (one agent fewer in every open hour) was simulated and failed.
    below = trial_with(plan, [max(0, c - 1) for c in expected])
    assert not below.met
    for k, c in enumerate(expected):
        if not c:
            assert not plan.intervals[0].active[k]
            continue
        at_c, below_c = plan.intervals[0].estimates[k], below.intervals[0].estimates[k]
        assert at_c.ci_low > GOAL and below_c.ci_high < GOAL, (k, at_c, below_c)
        assert plan.intervals[0].met[k] and not below.intervals[0].met[k]


@pytest.mark.parametrize("offset", [-2, 2])
def test_search_reaches_the_minimum_from_a_wrong_start(
    executor: Executor, erlang_plan: IntervalPlan, offset: int
) -> None:
    """Two agents too few in every open hour: agents are added; two too many everywhere
    (also at night): removed. Both end at the plan found from the Erlang start."""
    expected = erlang_table()
    start = [max(0, c + offset) if c else max(0, offset) for c in expected]
    plan = optimize_intervals(
        STATIONARY,
        [f"phone.service_level>={GOAL}"],
        settings=OptimizeSettings(seed=11),
        context=RunContext(executor=executor),
        start={"team": start},
    )
    assert plan.met and plan.tables == erlang_plan.tables
    assert plan.start == {"team": start}
    # Below: the six open hours miss, twice; each step adds one agent to each. Above: two
    # batches of one fewer everywhere hold; the third (below c* by day) fails, and is not taken.
    assert plan.steps == ((("add", 6),) * 2 if offset < 0 else (("remove", 24),) * 2)


# A working day at 30-minute intervals, demand rising through the morning.
RISING = [0.0] * 48
for _k in range(16, 24):
    RISING[_k] = 300.0 + 100 * (_k - 16)
MORNING: dict[str, Any] = {
    "name": "morning",
    "seed": 3,
    "replications": 6,
    "horizon_hours": 12,
    "interval_min": 30,
    "channels": {
        "phone": {
            "arrivals": {"profile": {"interval_min": 30, "rates_per_hour": RISING}},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "patience": {"dist": "exponential", "mean_s": 240},
            "target": {"answer_within_s": 20},
        },
        "email": {
            "arrivals": {"rate_per_hour": 20},
            "handle_time": {"dist": "exponential", "mean_min": 5},
            "target": {"answer_within_min": 30},
        },
    },
    "agents": {
        "phone_team": {"count": 10, "skills": ["phone"]},
        "email_team": {"count": 2, "skills": ["email"]},
    },
}
MORNING_TARGETS = ["phone.service_level>=0.8", "phone.abandon_rate<=0.05", "email.service_level>=0.9"]


@pytest.fixture(scope="module")
def morning_plan(executor: Executor) -> IntervalPlan:
    return optimize_intervals(MORNING, MORNING_TARGETS, context=RunContext(executor=executor))


def test_plan_holds_in_an_independent_run(morning_plan: IntervalPlan) -> None:
    """Run the plan's scenario with sim.run: its tables are the plan's, and per-interval
    service level and abandonment from `RunResult.intervals()` (a separate code path) equal
    the search's figures and meet every target in every interval with contacts."""
    plan = morning_plan
    assert plan.met
    for g, counts in plan.tables.items():
        table = plan.scenario.agents[g].staffing
        assert table is not None and table.interval_min == 30
        assert table.counts[: len(counts)] == counts and not any(table.counts[len(counts) :])
    result = sim.run(plan.scenario, replications=plan.replications, seed=plan.seed, records="summary")
    iv = result.intervals()
    for target, judged in zip(plan.targets, plan.intervals, strict=True):
        rows = iv[iv.channel == target.name]
        ended = rows.answered + rows.abandoned
        values = rows.service_level if target.metric == "service_level" else rows.abandoned / ended
        per = values.groupby(rows.interval).mean()  # pandas skips NaN, as the search does
        for k, e in enumerate(judged.estimates):
            if not judged.active[k]:
                assert rows[rows.interval == k].offered.sum() == 0
                continue
            assert per[k] == pytest.approx(e.mean, abs=1e-12), (target, k)
            assert target.met(per[k]), (target, k, per[k])


def test_tables_follow_demand(morning_plan: IntervalPlan) -> None:
    """No calls, no phone agents; the busiest half hour has more phone agents than the
    quietest open one; email (a constant rate) is staffed in every interval."""
    phone = morning_plan.tables["phone_team"]
    open_hours = [k for k, r in enumerate(RISING[:24]) if r]
    assert all(phone[k] == 0 for k in range(24) if not RISING[k])
    assert phone[open_hours[-1]] > phone[open_hours[0]] > 0
    assert all(c >= 1 for c in morning_plan.tables["email_team"])
    assert morning_plan.agent_hours() == pytest.approx(
        sum(c * 0.5 for counts in morning_plan.tables.values() for c in counts)
    )


def test_one_agent_fewer_at_the_peak_misses_a_target(morning_plan: IntervalPlan) -> None:
    """Minimal where it matters most: the plan with one phone agent fewer in the busiest half
    hour only, run with sim.run on the same seed, misses a phone target in that half hour."""
    plan = morning_plan
    k = max(range(24), key=lambda i: RISING[i])
    counts = list(plan.scenario.agents["phone_team"].staffing.counts)  # type: ignore[union-attr]
    counts[k] -= 1
    fewer = sim.load_scenario(
        apply_overrides(
            plan.scenario.model_dump(mode="python", exclude_none=True),
            {"agents.phone_team.staffing.counts": counts},
        )
    )
    iv = sim.run(fewer, replications=plan.replications, seed=plan.seed, records="summary").intervals()
    rows = iv[(iv.channel == "phone") & (iv.interval == k)]
    service_level = rows.service_level.mean()
    abandon_rate = (rows.abandoned / (rows.answered + rows.abandoned)).mean()
    assert service_level < 0.8 or abandon_rate > 0.05, (service_level, abandon_rate)


def test_occupancy_target_per_interval_is_load_over_bound(executor: Executor) -> None:
    """With only an occupancy bound, each open hour needs exactly ⌈load ÷ bound⌉ agents
    (occupancy is load ÷ agents in a stable queue without abandonment: 0.63–0.67 at the plan,
    0.71–0.8 with one fewer); closed hours need nobody, although agents who finish a call
    after 14:00 are busy all of their overtime."""
    plan = optimize_intervals(
        STATIONARY,
        ["team.occupancy<=0.7"],
        settings=OptimizeSettings(replications=3),
        context=RunContext(executor=executor),
    )
    expected = [math.ceil(r / 3600 * 30 / 0.7) for r in HOURLY]
    assert plan.met and plan.tables == {"team": expected}
    judged = plan.intervals[0]
    for k, r in enumerate(HOURLY):
        assert judged.active[k] == bool(r)
        if r:
            assert judged.estimates[k].mean == pytest.approx(r / 3600 * 30 / expected[k], abs=0.02)
    below = trial_with(plan, [max(0, c - 1) for c in expected])
    assert not any(below.intervals[0].met[k] for k, r in enumerate(HOURLY) if r)


def test_add_positions_walk_back_when_stalled_or_full() -> None:
    """A miss adds in its own interval; after s stalled steps also in the s before it;
    full intervals are skipped until one has room; the walk wraps only when the run
    repeats the table."""
    day = Grid(1800.0, 48, 48, 86_400.0)  # one day: no wrap
    week = Grid(1800.0, 48, 96, 172_800.0)  # two days of a daily table: wraps
    anywhere = lambda j: True  # noqa: E731
    assert add_positions(5, 0, day, anywhere) == [5]
    assert add_positions(5, 2, day, anywhere) == [5, 4, 3]
    assert add_positions(1, 3, day, anywhere) == [1, 0]
    assert add_positions(1, 3, week, anywhere) == [1, 0, 47, 46]
    assert add_positions(5, 0, day, lambda j: j not in (5, 4)) == [3]
    assert add_positions(5, 1, day, lambda j: j != 4) == [5]
    assert add_positions(2, 0, day, lambda j: j > 2) == []


def test_a_full_interval_gets_help_from_the_one_before(executor: Executor) -> None:
    """Emails (no target) arrive in the first half hour, calls in the second; one team takes
    both, oldest first. Without agents in the first half hour the calls queue behind the
    emails. Capped at Erlang C's 3 agents, the second half hour cannot take more: the search
    adds in the first instead (clearing the emails), and every target is met."""
    email, phone = [0.0] * 48, [0.0] * 48
    email[0], phone[1] = 30.0, 60.0
    data = {
        "name": "backlog",
        "seed": 1,
        "replications": 6,
        "horizon_hours": 1.5,
        "channels": {
            "phone": {
                "arrivals": {"profile": {"interval_min": 30, "rates_per_hour": phone}},
                "handle_time": {"dist": "exponential", "mean_s": 60},
                "target": {"answer_within_s": 20},
            },
            "email": {
                "kind": "email",
                "arrivals": {"profile": {"interval_min": 30, "rates_per_hour": email}},
                "handle_time": {"dist": "exponential", "mean_s": 120},
            },
        },
        "agents": {"team": {"count": 1, "skills": ["phone", "email"]}},
    }
    assert min_agents_erlang_c(1.0, 60, 20, 0.8) == 3
    plan = optimize_intervals(
        data,
        ["phone.service_level>=0.8"],
        settings=OptimizeSettings(max_agents=3),
        context=RunContext(executor=executor),
    )
    assert plan.start == {"team": [0, 3, 0]}
    first = plan.trials[0]
    assert not first.intervals[0].met[1]  # the calls wait behind the emails
    assert plan.met and plan.tables["team"][0] >= 1 and plan.tables["team"][1] <= 3


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "kwargs", "message"),
    [
        (["phone.first_response_s<=60"], {}, "not measured per interval"),
        (
            ["email.service_level>=0.9"],
            {"settings": OptimizeSettings(groups=("phone_team",))},
            "no searched group serves 'email'",
        ),
        (
            ["email_team.occupancy<=0.9"],
            {"settings": OptimizeSettings(groups=("phone_team",))},
            "not among the searched groups",
        ),
        (
            ["phone.service_level>=0.8"],
            {"settings": OptimizeSettings(groups=("nobody",))},
            "no agent group 'nobody'",
        ),
        (["phone.service_level>=0.8"], {"start": {"phone_team": [1, 2]}}, "one per interval"),
        (["phone.service_level>=0.8"], {"start": {"ghost": 3}}, "not among the groups searched"),
        (
            ["phone.service_level>=0.8"],
            {"settings": OptimizeSettings(replications=0)},
            "replications must be at least 1",
        ),
    ],
)
def test_bad_arguments_are_refused(targets: list[str], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        optimize_intervals(MORNING, targets, **kwargs)


def test_groups_on_shifts_stay_unless_named(executor: Executor) -> None:
    """By default a group on shifts keeps them; named, it is re-planned as a table."""
    data = copy.deepcopy(MORNING)
    data["agents"]["email_team"] = {
        "skills": ["email"],
        "shifts": [{"start": "00:00", "end": "12:00", "count": 2}],
    }
    plan = optimize_intervals(
        data,
        ["phone.service_level>=0.8"],
        settings=OptimizeSettings(replications=2),
        context=RunContext(executor=executor),
    )
    assert set(plan.tables) == {"phone_team"}
    assert plan.scenario.agents["email_team"].shifts is not None
    replanned = optimize_intervals(
        data,
        ["email.service_level>=0.9"],
        settings=OptimizeSettings(groups=("email_team",), replications=2),
        context=RunContext(executor=executor),
    )
    assert replanned.scenario.agents["email_team"].shifts is None
    assert replanned.scenario.agents["email_team"].staffing is not None
    data["agents"]["phone_team"] = {
        "skills": ["phone"],
        "shifts": [{"start": "00:00", "end": "12:00", "count": 9}],
    }
    with pytest.raises(ValueError, match="every group works shifts"):
        optimize_intervals(data, ["phone.service_level>=0.8"])


# --- the command and the API ------------------------------------------------------------


@pytest.fixture
def morning_file(tmp_path: Path) -> Path:
    path = tmp_path / "morning.yaml"
    path.write_text(yaml.safe_dump(MORNING), encoding="utf-8")
    return path


def test_cli_json_and_table(morning_file: Path) -> None:
    """`--per-interval --json` gives the tables and each interval's figures; the table view
    lists interval clock times with the counts and ends with the verdict."""
    base = [str(morning_file), "--per-interval", "-t", "phone.service_level>=0.8", "-n", "3", "-j", "1", "-q"]
    result = CliRunner().invoke(optimize_command, [*base, "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["per_interval"] is True and d["interval_min"] == 30 and len(d["labels"]) == 24
    # email_team serves only email, which no target names: kept as written, with a warning
    assert set(d["tables"]) == {"phone_team"} and len(d["tables"]["phone_team"]) == 24
    assert any("email_team" in w for w in d["warnings"])
    assert d["targets"][0]["target"] == "phone.service_level>=0.8"
    assert len(d["targets"][0]["intervals"]) == 24 and d["met"] is (d["targets"][0]["missed_intervals"] == [])
    assert d["total_agent_hours"] == pytest.approx(sum(0.5 * c for t in d["tables"].values() for c in t))
    text = CliRunner().invoke(optimize_command, base)
    assert text.exit_code == 0, text.output
    assert "11:30" in text.stdout and "agent-hours over the run" in text.stdout
    assert "every target met in every interval" in text.stdout


def test_cli_bad_per_interval_target_exits_2(morning_file: Path) -> None:
    result = CliRunner().invoke(
        optimize_command, [str(morning_file), "--per-interval", "-t", "phone.first_response_s<=60"]
    )
    assert result.exit_code == 2 and "not measured per interval" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_cli_budget_refuses_a_large_search(morning_file: Path) -> None:
    """Over the contact limit the search is refused before it starts, quoting the estimate."""
    env = {**os.environ, "STAFFSIM_MAX_CONTACTS": "1000"}
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "optimize",
        str(morning_file),
        "--per-interval",
        "-t",
        "phone.asa_s<=20",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert done.returncode == 2 and "too large" in done.stderr and "--force" in done.stderr
    assert done.stdout == ""


def test_api_per_interval() -> None:
    """`sim.optimize(..., mode="intervals")` returns the per-interval plan."""
    plan = sim.optimize(
        MORNING,
        ["email.service_level>=0.9"],
        mode="intervals",
        settings=OptimizeSettings(groups=("email_team",), replications=2),
    )
    assert isinstance(plan, IntervalPlan) and set(plan.tables) == {"email_team"}
    assert plan.met


def test_save_writes_a_scenario_that_reproduces_the_plan(morning_file: Path, tmp_path: Path) -> None:
    """`--save FILE` writes a small scenario extending the original (a relative path, so the
    pair can move together); loading it gives the plan's tables, and running it on the plan's
    seed gives the figures the search judged."""
    out = tmp_path / "plans" / "morning-plan.yaml"
    args = [str(morning_file), "--per-interval", "-t", "phone.service_level>=0.8", "-n", "3", "-j", "1", "-q"]
    result = CliRunner().invoke(optimize_command, [*args, "--json", "--save", str(out)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    text = out.read_text(encoding="utf-8")
    assert "extends: ../morning.yaml" in text and text.startswith("# Staffing plan")
    saved = sim.load_scenario(out)
    counts = saved.agents["phone_team"].staffing.counts  # type: ignore[union-attr]
    assert counts[:24] == d["tables"]["phone_team"] and not any(counts[24:])
    assert (
        saved.agents["phone_team"].count is None
        and saved.channels == sim.load_scenario(morning_file).channels
    )
    iv = sim.run(saved, replications=3, records="summary").intervals()
    per = iv[iv.channel == "phone"].groupby("interval").service_level.mean()
    for row in d["targets"][0]["intervals"]:
        k = d["labels"].index(row["interval"])
        if row["active"]:
            assert per[k] == pytest.approx(row["mean"], abs=1e-12)
    again = CliRunner().invoke(optimize_command, [*args, "--save", str(out)])
    assert again.exit_code == 2 and "exists" in again.stderr and "--overwrite" in again.stderr


def test_save_head_count_plan(tmp_path: Path) -> None:
    """Without --per-interval, --save writes the searched groups' counts."""
    src = tmp_path / "flat.yaml"
    data = copy.deepcopy(MORNING)
    data["channels"]["phone"]["arrivals"] = {"rate_per_hour": 120}
    src.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "flat-plan.yaml"
    args = [str(src), "-t", "phone.service_level>=0.8", "-g", "phone_team", "-n", "2", "-j", "1", "-q"]
    result = CliRunner().invoke(optimize_command, [*args, "--json", "--save", str(out)])
    assert result.exit_code == 0, result.output
    saved = sim.load_scenario(out)
    assert saved.agents["phone_team"].count == json.loads(result.stdout)["agents"]["phone_team"]
    assert saved.agents["email_team"].count == MORNING["agents"]["email_team"]["count"]


# --- judged by the confidence interval ------------------------------------------------


def test_confident_plan_meets_every_interval_by_its_whole_ci(
    executor: Executor, morning_plan: IntervalPlan
) -> None:
    """With confident=True each interval's 95 % CI clears the bound (not just its mean),
    which takes at least as many agent-hours as judging by the mean on the same customers."""
    plan = optimize_intervals(
        MORNING,
        MORNING_TARGETS,
        settings=OptimizeSettings(confident=True),
        context=RunContext(executor=executor),
    )
    assert plan.met and plan.confident and plan.to_dict()["confident"] is True
    for target, judged in zip(plan.targets, plan.intervals, strict=True):
        for k, e in enumerate(judged.estimates):
            if judged.active[k]:
                edge = e.ci_low if target.wants_more else e.ci_high
                assert target.met(edge), (target, k, e)
    assert plan.agent_hours() >= morning_plan.agent_hours()
    assert not plan.warnings  # no interval is met by its mean with a CI across the bound


def test_confident_needs_two_replications() -> None:
    with pytest.raises(ValueError, match="at least 2 replications"):
        optimize_intervals(
            MORNING, MORNING_TARGETS, settings=OptimizeSettings(replications=1, confident=True)
        )


def test_serial_and_parallel_searches_give_the_same_plan(executor: Executor) -> None:
    """Same scenario and seed: the same plan, trial for trial, in one process or on workers."""
    args = (MORNING, ["phone.service_level>=0.8", "email.service_level>=0.9"])
    serial = optimize_intervals(*args, settings=OptimizeSettings(replications=2))
    parallel = optimize_intervals(
        *args, settings=OptimizeSettings(replications=2), context=RunContext(executor=executor)
    )
    assert json.dumps(serial.to_dict()) == json.dumps(parallel.to_dict())
    assert [t.tables for t in serial.trials] == [t.tables for t in parallel.trials]
