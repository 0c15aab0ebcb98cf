"""The staffing optimiser (`sim.planning.headcount`) and the `staffsim optimize` command.

On single-queue M/M/c (and M/M/c+M) cases the optimiser must return exactly the Erlang C
(Erlang A) minimum. Each case is chosen so that the analytic service level at the minimum c*
and at c* − 1 are both at least `MARGIN` away from the target — asserted below from the
Erlang formulas — and the test also checks, from the optimiser's own trials, that the
simulation's 95 % CI half-widths at both points are a small fraction of that margin. So the
answer does not hinge on the seed: another seed would give the same c*.

Runs use 4 replications of 100 simulated hours on 2 worker processes.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import sim
from sim.analytic.erlang import erlang_a, erlang_c_service_level, min_agents_erlang_a, min_agents_erlang_c
from sim.cli.optimize import optimize as optimize_command
from sim.config.variants import apply_overrides
from sim.planning.headcount import (
    Knob,
    Target,
    analytic_start,
    apply_knobs,
    channel_agents,
    group_knobs,
    head_count,
    optimize,
    parse_targets,
)
from sim.planning.settings import OptimizeSettings, RunContext
from sim.runner.executors import Executor, make_executor
from tests import builders
from tests.builders import ROOT

REPS = 4
SEED = 11
HOURS = 100
MARGIN = 0.05
"""Least distance between the Erlang service level (at c* and at c* − 1) and the goal."""
ABANDON_MARGIN = 0.01
"""The same for an abandonment-rate bound."""


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    ex = make_executor(2)
    yield ex
    ex.close()


def single_queue(rate_per_hour: float, target_s: float, patience_s: float | None = None) -> dict[str, Any]:
    """One phone channel, Poisson arrivals, exponential 60 s handle times, one team."""
    return builders.single_queue(
        rate_per_hour=rate_per_hour, agents=1, target_s=target_s, patience_s=patience_s,
        hours=HOURS, warmup=2, seed=3, replications=REPS, name="single-queue",
    )  # fmt: skip


TWO_GROUPS: dict[str, Any] = {
    "name": "two-groups",
    "seed": 5,
    "replications": REPS,
    "horizon_hours": HOURS,
    "warmup_hours": 2,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 120},
            "handle_time": {"dist": "lognormal", "mean_s": 180, "cv": 1.1},
            "patience": {"dist": "exponential", "mean_s": 300},
            "target": {"answer_within_s": 20},
        },
        "email": {
            "arrivals": {"rate_per_hour": 30},
            "handle_time": {"dist": "exponential", "mean_min": 6},
            "target": {"answer_within_min": 30},
        },
    },
    "agents": {
        "phone_team": {"count": 5, "skills": ["phone"]},
        "email_team": {"count": 2, "skills": ["email"]},
    },
}
TWO_TARGETS = ["phone.service_level>=0.8", "phone.abandon_rate<=0.08", "email.service_level>=0.9"]


def two_groups(**counts: int) -> sim.Scenario:
    data = copy.deepcopy(TWO_GROUPS)
    for group, n in counts.items():
        data["agents"][group]["count"] = n
    return sim.load_scenario(data)


def assert_far_from_goal(plan: Any, analytic: dict[int, float], goal: float) -> None:
    """At c* and c* − 1 the CI half-width is under a third of the analytic distance to the
    goal, and the simulated mean is more than 3 half-widths from the goal."""
    for c, value in analytic.items():
        trial = plan.trial(team=c)
        assert trial is not None, f"the search never simulated {c} agents"
        e = trial.targets[0].estimate
        assert e.half_width < abs(value - goal) / 3, (c, e)
        assert abs(e.mean - goal) > 3 * e.half_width, (c, e)


# --- M/M/c and M/M/c+M: exactly the Erlang minimum ----------------------------------


@pytest.mark.parametrize(
    ("rate_per_hour", "target_s", "goal"),
    [(60, 10, 0.85), (120, 20, 0.8), (270, 20, 0.83), (360, 60, 0.9)],
)
def test_mmc_matches_erlang_c(executor: Executor, rate_per_hour: float, target_s: float, goal: float) -> None:
    """Without abandonment the plan is min_agents_erlang_c, for several loads and targets."""
    load = rate_per_hour / 3600 * 60
    c_star = min_agents_erlang_c(load, 60, target_s, goal)
    assert erlang_c_service_level(c_star, load, 60, target_s) - goal >= MARGIN
    assert goal - erlang_c_service_level(c_star - 1, load, 60, target_s) >= MARGIN

    plan = optimize(
        sim.load_scenario(single_queue(rate_per_hour, target_s)),
        [f"phone.service_level>={goal}"],
        settings=OptimizeSettings(replications=REPS, seed=SEED),
        context=RunContext(executor=executor),
    )
    assert plan.counts == {"team": c_star}
    assert plan.start == {"team": c_star}  # the analytic start is Erlang C itself
    assert plan.met and plan.targets[0].met
    level = {c: erlang_c_service_level(c, load, 60, target_s) for c in (c_star, c_star - 1)}
    assert_far_from_goal(plan, level, goal)


@pytest.mark.parametrize(("rate_per_hour", "target_s", "goal"), [(120, 20, 0.8), (360, 60, 0.9)])
def test_confident_plan_equals_erlang_c_when_the_evidence_is_clear(
    executor: Executor, rate_per_hour: float, target_s: float, goal: float
) -> None:
    """Judged by the whole 95 % CI, the plan is still the Erlang C minimum in cases where
    the CIs at c* and c* − 1 lie far on either side of the goal (see assert_far_from_goal)."""
    load = rate_per_hour / 3600 * 60
    c_star = min_agents_erlang_c(load, 60, target_s, goal)
    plan = optimize(
        sim.load_scenario(single_queue(rate_per_hour, target_s)),
        [f"phone.service_level>={goal}"],
        settings=OptimizeSettings(replications=REPS, seed=SEED, confident=True),
        context=RunContext(executor=executor),
    )
    assert plan.counts == {"team": c_star} and plan.met and plan.confident
    assert plan.targets[0].estimate.ci_low >= goal
    level = {c: erlang_c_service_level(c, load, 60, target_s) for c in (c_star, c_star - 1)}
    assert_far_from_goal(plan, level, goal)


def test_confident_judges_the_ci_end_nearer_to_failing() -> None:
    """`Target.judged`: the mean, or the lower CI end for >= and the upper for <=."""
    from sim.metrics.stats import Estimate

    e = Estimate(0.82, 0.78, 0.86, 5)
    at_least, at_most = Target.parse("phone.service_level>=0.8"), Target.parse("phone.asa_s<=0.85")
    assert at_least.judged(e) == 0.82 and at_least.met(at_least.judged(e))
    assert at_least.judged(e, confident=True) == 0.78 and not at_least.met(at_least.judged(e, True))
    assert at_most.judged(e, confident=True) == 0.86 and not at_most.met(at_most.judged(e, True))
    with pytest.raises(ValueError, match="at least 2 replications"):
        optimize(
            single_queue(60, 20),
            ["phone.service_level>=0.8"],
            settings=OptimizeSettings(replications=1, confident=True),
        )


def test_mmc_plus_m_service_level_matches_erlang_a(executor: Executor) -> None:
    """With exponential patience the plan is min_agents_erlang_a for a service-level goal."""
    rate, patience, target_s, goal = 240, 120, 20, 0.83
    lam = rate / 3600
    c_star = min_agents_erlang_a(lam, 60, patience, target_s, goal)

    def level(c: int) -> float:
        value = erlang_a(c, lam, 60, patience, target_s).service_level
        assert value is not None
        return value

    assert level(c_star) - goal >= MARGIN and goal - level(c_star - 1) >= MARGIN
    plan = optimize(
        sim.load_scenario(single_queue(rate, target_s, patience)),
        [f"phone.service_level>={goal}"],
        settings=OptimizeSettings(replications=REPS, seed=SEED),
        context=RunContext(executor=executor),
    )
    assert plan.counts == {"team": c_star} and plan.met
    assert_far_from_goal(plan, {c: level(c) for c in (c_star, c_star - 1)}, goal)


def test_mmc_plus_m_abandonment_matches_erlang_a(executor: Executor) -> None:
    """An abandonment bound gives min_agents_erlang_a with that max_abandon."""
    rate, patience, bound = 360, 120, 0.055
    lam = rate / 3600
    c_star = min_agents_erlang_a(lam, 60, patience, 20, 0.0, max_abandon=bound)
    assert bound - erlang_a(c_star, lam, 60, patience).p_abandon >= ABANDON_MARGIN
    assert erlang_a(c_star - 1, lam, 60, patience).p_abandon - bound >= ABANDON_MARGIN
    plan = optimize(
        sim.load_scenario(single_queue(rate, 20, patience)),
        [f"phone.abandon_rate<={bound}"],
        settings=OptimizeSettings(replications=REPS, seed=SEED),
        context=RunContext(executor=executor),
    )
    assert plan.counts == {"team": c_star} and plan.met
    abandon = {c: erlang_a(c, lam, 60, patience).p_abandon for c in (c_star, c_star - 1)}
    assert_far_from_goal(plan, abandon, bound)


@pytest.mark.parametrize(("offset", "evaluated"), [(-2, 3), (2, 4)])
def test_search_reaches_the_minimum_from_a_wrong_start(
    executor: Executor, offset: int, evaluated: int
) -> None:
    """Started below c*, agents are added; above it, removed; each staffing simulated once.

    From c* − 2: c* − 2, c* − 1, c* (c* − 1 is then known to fail: cached). From c* + 2:
    c* + 2, c* + 1, c*, c* − 1.
    """
    c_star = min_agents_erlang_c(2.0, 60, 20, 0.8)  # the (120/h, 20 s, 0.8) case above
    plan = optimize(
        sim.load_scenario(single_queue(120, 20)),
        ["phone.service_level>=0.8"],
        settings=OptimizeSettings(replications=REPS, seed=SEED),
        context=RunContext(executor=executor),
        start={"team": c_star + offset},
    )
    assert plan.counts == {"team": c_star} and plan.met
    assert plan.start == {"team": c_star + offset}
    assert plan.evaluated == evaluated == len(plan.trials)
    expected = [("add", "team")] * 2 if offset < 0 else [("remove", "team")] * 2
    assert list(plan.moves) == expected


# --- two groups ---------------------------------------------------------------------


@pytest.mark.slow
def test_two_groups_plan_is_minimal(executor: Executor) -> None:
    """Every target is met; one agent fewer in any group misses one (checked with sim.run)."""
    plan = optimize(two_groups(), TWO_TARGETS, context=RunContext(executor=executor))
    assert plan.met and all(r.met for r in plan.targets)
    assert plan.searched == ("phone_team", "email_team")
    rerun = sim.run(plan.scenario, replications=REPS, seed=plan.seed, records="none")
    for r in plan.targets:  # the plan's figures are what sim.run gives for its staffing
        assert rerun.estimate(r.target.name, r.target.metric).mean == pytest.approx(
            r.estimate.mean, abs=1e-12
        )
    data = plan.scenario.model_dump(mode="python", exclude_none=True)
    for group, count in plan.counts.items():
        assert count > 0
        fewer = sim.load_scenario(apply_overrides(data, {f"agents.{group}.count": count - 1}))
        result = sim.run(fewer, replications=REPS, seed=plan.seed, records="none")
        missed = [
            str(r.target)
            for r in plan.targets
            if not r.target.met(result.estimate(r.target.name, r.target.metric).mean)
        ]
        assert missed, f"{group} at {count - 1} still meets every target"


@pytest.mark.slow
def test_groups_restriction_keeps_other_counts(executor: Executor) -> None:
    """`groups=` changes only those groups; the others keep the scenario's counts."""
    plan = optimize(
        two_groups(phone_team=12),
        TWO_TARGETS,
        settings=OptimizeSettings(groups=("email_team",)),
        context=RunContext(executor=executor),
    )
    assert plan.searched == ("email_team",)
    assert plan.counts["phone_team"] == 12
    assert plan.scenario.agents["phone_team"].count == 12
    assert plan.met
    assert all(set(t.counts) == {"email_team"} for t in plan.trials)
    assert plan.to_dict()["searched"] == ["email_team"]
    full = optimize(two_groups(), TWO_TARGETS, context=RunContext(executor=executor))
    # the channels are served by separate teams, so the email minimum does not depend on phone
    assert plan.counts["email_team"] == full.counts["email_team"]


def test_unreachable_target_stops_and_says_so(executor: Executor) -> None:
    """When only email agents may change, a phone target they cannot help is reported unmet."""
    plan = optimize(
        two_groups(phone_team=3),
        TWO_TARGETS,
        settings=OptimizeSettings(groups=("email_team",)),
        context=RunContext(executor=executor),
    )
    assert not plan.met
    assert plan.counts["phone_team"] == 3
    assert "no single extra agent" in plan.note
    assert [r.met for r in plan.targets] == [False, False, True]
    assert plan.evaluated == 2  # the start and one more email agent (no change on phone)


def test_max_agents_caps_the_search(executor: Executor) -> None:
    """The search stops at max_agents with the targets still missed; a start above it is an error."""
    scenario = sim.load_scenario(single_queue(120, 20))
    plan = optimize(
        scenario,
        ["phone.service_level>=0.8"],
        settings=OptimizeSettings(replications=2, max_agents=2),
        context=RunContext(executor=executor),
        start={"team": 1},
    )
    assert not plan.met and plan.counts == {"team": 2}
    assert "max_agents=2" in plan.note
    with pytest.raises(ValueError, match="more than max_agents=3"):
        optimize(scenario, ["phone.service_level>=0.8"], settings=OptimizeSettings(max_agents=3))


def test_plan_to_dict_is_json(executor: Executor) -> None:
    """`to_dict` has the plan, the start and each target's mean and CI, and is valid JSON."""
    plan = optimize(
        sim.load_scenario(single_queue(60, 10)),
        ["phone.service_level>=0.85", "overall.occupancy<=0.9"],
        settings=OptimizeSettings(replications=2, seed=SEED),
        context=RunContext(executor=executor),
    )
    d = json.loads(json.dumps(plan.to_dict(), allow_nan=False))
    assert d["agents"] == plan.counts and d["start"] == plan.start
    assert d["met"] is plan.met and d["evaluated"] == plan.evaluated == len(d["trials"])
    assert [t["target"] for t in d["targets"]] == ["phone.service_level>=0.85", "overall.occupancy<=0.9"]
    assert set(d["targets"][0]) == {"target", "mean", "ci_low", "ci_high", "met"}
    assert set(d["channels"]["phone"]) >= {"service_level", "asa_s"} and "overall" in d["groups"]


# --- the analytic start ------------------------------------------------------------


def test_analytic_start_assigns_channels_to_specialists() -> None:
    """A channel several groups serve counts towards the one with the fewest skills; a
    channel without a target adds nothing; shrinkage grosses agents on duty up."""
    data = copy.deepcopy(TWO_GROUPS)
    data["agents"]["pooled"] = {"count": 3, "skills": ["phone", "email"]}
    data["channels"]["social"] = {
        "arrivals": {"rate_per_hour": 10},
        "handle_time": {"dist": "exponential", "mean_min": 4},
    }
    data["agents"]["social_team"] = {"count": 2, "skills": ["social"]}
    data["agents"]["email_team"]["shrinkage"] = 0.25
    scenario = sim.load_scenario(data)
    targets = parse_targets(["phone.service_level>=0.8", "email.service_level>=0.9"])
    start = analytic_start(scenario, targets, list(scenario.agents))
    phone = channel_agents(scenario, "phone", targets)
    email = channel_agents(scenario, "email", targets)
    assert phone == min_agents_erlang_a(120 / 3600, 180, 300, 20, 0.8)
    assert email == min_agents_erlang_c(3.0, 360, 1800, 0.9)
    assert start == {
        "phone_team": phone,
        "email_team": head_count(email, 0.25),
        "pooled": 0,
        "social_team": 0,
    }
    assert head_count(9, 0.25) == 12  # 12 × 0.75 = 9 on duty; 11 × 0.75 rounds to 8


# --- targets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("phone.service_level>=0.8", Target("phone", "service_level", ">=", 0.8)),
        (" email.asa_s <= 86400 ", Target("email", "asa_s", "<=", 86400.0)),
        ("phone.abandon_rate<5%", Target("phone", "abandon_rate", "<", 0.05)),
        ("overall.occupancy<=0.9", Target("overall", "occupancy", "<=", 0.9)),
        ("back.office.p_wait>0.1", Target("back.office", "p_wait", ">", 0.1)),
        ("phone. asa_s >= 80 %", Target("phone", "asa_s", ">=", 0.8)),
    ],
)
def test_target_parse(text: str, expected: Target) -> None:
    """NAME.METRIC OP VALUE, spaces allowed, % for percentages, dots allowed in NAME."""
    assert Target.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("phone.service_level=0.8", "operator must be one of >=, <=, >, <"),
        ("phone.service_level==0.8", "operator must be one of"),
        ("phone.service_level", "must look like NAME.METRIC OP VALUE"),
        ("service_level>=0.8", "as NAME.METRIC"),
        ("phone.sl>=0.8", "unknown metric 'sl'; channel metrics (CHANNEL.METRIC): offered"),
        ("phone.sl>=0.8", "group metrics (GROUP.METRIC or overall.METRIC): occupancy"),
        ("phone.service_level>=high", "the bound must be a number"),
        ("phone.service_level>=nan", "finite number"),
        ("phone.service_level>=0.8<=0.9", "must look like"),
    ],
)
def test_target_parse_errors(text: str, message: str) -> None:
    """Malformed targets raise ValueError saying what is allowed."""
    with pytest.raises(ValueError, match="target") as err:
        Target.parse(text)
    assert message in str(err.value)


def test_targets_are_checked_against_the_scenario() -> None:
    """Channel and group names must exist; the message lists the ones that do."""
    scenario = two_groups()
    assert len(parse_targets([*TWO_TARGETS, "email_team.occupancy<=0.95"], scenario)) == 4
    with pytest.raises(ValueError, match=r"no channel 'social'.*channels are: phone, email"):
        parse_targets(["social.service_level>=0.8"], scenario)
    with pytest.raises(ValueError, match=r"group metric.*groups are: phone_team, email_team, overall"):
        parse_targets(["phone.occupancy<=0.9"], scenario)
    with pytest.raises(ValueError, match="at least one target"):
        parse_targets([], scenario)


def test_target_met_and_shortfall() -> None:
    """Strict bounds fail at equality; shortfalls are relative to the bound; NaN never meets."""
    at_least = Target.parse("phone.service_level>=0.8")
    above = Target.parse("phone.service_level>0.8")
    at_most = Target.parse("phone.asa_s<=20")
    assert at_least.met(0.8) and not above.met(0.8)
    assert at_least.shortfall(0.6) == pytest.approx(0.25) and at_least.shortfall(0.9) == 0
    assert above.shortfall(0.8) > 0
    assert at_most.shortfall(30) == pytest.approx(0.5)
    assert not at_most.met(math.nan) and at_most.shortfall(math.nan) > 1e6


def test_bad_groups_are_rejected() -> None:
    """Unknown, repeated or empty group lists raise ValueError naming the groups."""
    scenario = two_groups()
    with pytest.raises(ValueError, match=r"no agent group 'nobody'.*groups are: phone_team, email_team"):
        optimize(scenario, TWO_TARGETS, settings=OptimizeSettings(groups=("nobody",)))
    with pytest.raises(ValueError, match="named twice"):
        group_knobs(scenario, ["email_team", "email_team"])
    with pytest.raises(ValueError, match="at least one group"):
        group_knobs(scenario, [])
    with pytest.raises(ValueError, match="not among the groups searched"):
        optimize(
            scenario, TWO_TARGETS, settings=OptimizeSettings(groups=("email_team",)), start={"phone_team": 3}
        )


def test_knobs_address_list_elements_and_skip_table_groups() -> None:
    """A knob can set one interval of a staffing table; tables are not searched as counts."""
    data = copy.deepcopy(TWO_GROUPS)
    data["agents"]["email_team"] = {"staffing": {"interval_min": 60, "counts": [2] * 24}, "skills": ["email"]}
    scenario = sim.load_scenario(data)
    assert [k.label for k in group_knobs(scenario)] == ["phone_team"]
    with pytest.raises(ValueError, match="staffing table"):
        group_knobs(scenario, ["email_team"])
    knob = Knob("agents.email_team.staffing.counts", "email_team@09:00", index=9)
    changed = apply_knobs(scenario, [*group_knobs(scenario), knob], [7, 4])
    table = changed.agents["email_team"].staffing
    assert table is not None and table.counts == [2] * 9 + [4] + [2] * 14
    assert changed.agents["phone_team"].count == 7


# --- the command --------------------------------------------------------------------


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "queue.yaml"
    path.write_text(yaml.safe_dump(single_queue(60, 10)))
    return path


C_STAR_CLI = 3
"""min_agents_erlang_c for the command tests' case (60/h, 60 s, 10 s, 85 %): see test_cli_json."""


def test_cli_json(scenario_file: Path) -> None:
    """`optimize --json` prints one JSON object with the plan (run on the command object)."""
    assert min_agents_erlang_c(1.0, 60, 10, 0.85) == C_STAR_CLI
    args = [str(scenario_file), "--target", "phone.service_level>=0.85", "-n", "3", "-j", "2", "--json", "-q"]
    result = CliRunner().invoke(optimize_command, args)
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["agents"] == {"team": C_STAR_CLI} and d["met"] is True
    assert d["targets"][0]["target"] == "phone.service_level>=0.85" and d["targets"][0]["met"] is True


def test_cli_table(scenario_file: Path) -> None:
    """Without --json: the plan, the Erlang start and each target's mean [CI] and verdict."""
    args = [str(scenario_file), "-t", "phone.service_level>=0.85", "-n", "3", "-j", "1", "-q"]
    result = CliRunner().invoke(optimize_command, args)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "every target met with 3 agents (Erlang start: 3)" in out
    assert "phone.service_level>=0.85" in out and "yes" in out and "Erlang start" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "phone.sl>=0.8"], "unknown metric 'sl'"),
        (["--target", "email.service_level>=0.8"], "no channel 'email'"),
        (["--target", "phone.service_level>=0.8", "--group", "nobody"], "no agent group 'nobody'"),
    ],
)
def test_cli_bad_input_exits_2(scenario_file: Path, extra: list[str], message: str) -> None:
    """Bad targets and groups exit 2 with one message on stderr and no traceback."""
    result = CliRunner().invoke(optimize_command, [str(scenario_file), *extra])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_cli_missing_scenario_exits_2(tmp_path: Path) -> None:
    """A missing scenario file is the usual scenario error."""
    result = CliRunner().invoke(optimize_command, [str(tmp_path / "nope.yaml"), "-t", "phone.asa_s<=20"])
    assert result.exit_code == 2 and "file not found" in result.stderr


@pytest.mark.slow
def test_python_m_sim_optimize(scenario_file: Path) -> None:
    """`python -m sim optimize` works end to end: the command is registered in sim.cli."""
    base = [sys.executable, "-m", "sim", "optimize", str(scenario_file), "-n", "3", "-j", "1", "-q"]
    done = subprocess.run(
        [*base, "--target", "phone.service_level>=0.85", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["agents"] == {"team": C_STAR_CLI}
    bad = subprocess.run(
        [*base, "--target", "phone.sl>=1"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert bad.returncode == 2 and "unknown metric" in bad.stderr and bad.stdout == ""
