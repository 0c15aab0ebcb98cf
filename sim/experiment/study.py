"""The study: is good customer service scalable, and what does diverting staff cost?

Demand is scaled ×1, ×2, ×4, ×8, ×16 on a centre — the study's own three-channel centre
whose customers need their problems resolved (unresolved ones come back), or any scenario
file — and at each scale the centre is staffed to the same targets by the optimiser in each
team design asked for (`sim.experiment.centres`). Then, at the base scale, k agents are
moved from phone to social with no hire, against hiring k. The conclusions are computed
from the results, never written in:

1. waiting has economies of scale — agents per Erlang of load fall as demand grows
   (square-root staffing); a step where they rise is re-optimised with twice the
   replications (twice at most) and, if it stays, explained by the optimiser's resolution;
2. work does not — busy agent time per resolved journey is the same at every scale;
3. split teams lose pooling — they need more agents than the pooled team **with the same
   routing** (not the preemptive pool, whose routing differs);
4. diverting agents hurts the channel they leave, hiring does not.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.schema import Scenario
from sim.config.validate import validate
from sim.config.variants import load_experiment
from sim.experiment.centres import (
    DESIGNS,
    STUDY_TARGETS,
    base_centre,
    centre_from_file,
    default_targets,
    mean_rate_per_s,
    scaled,
)
from sim.experiment.compare import compare
from sim.experiment.study_results import Conclusion, StudyResult, conclude
from sim.model.distributions import make_sampler
from sim.planning.headcount import optimize
from sim.planning.plan import Plan
from sim.planning.settings import RunContext
from sim.results import RunResult
from sim.runner.executors import Executor, SerialExecutor
from sim.runner.tasks import run_replications
from sim.types import ChannelKind

TARGETS = STUDY_TARGETS
MAX_REFITS = 2
"""Rounds of re-optimising a rising agents-per-Erlang step with twice the replications."""

__all__ = ["Conclusion", "StudyResult", "conclude", "run_study", "search_runs", "study_scenarios"]

FULL_SCALES = (1, 2, 4, 8, 16)
QUICK_SCALES = (1, 2, 4)


def _phone(scenario: Scenario) -> str | None:
    """The first phone channel of a scenario (None without one)."""
    return next((n for n, ch in scenario.channels.items() if ch.kind is ChannelKind.PHONE), None)


def _social(scenario: Scenario) -> str | None:
    return next((n for n, ch in scenario.channels.items() if ch.kind is ChannelKind.SOCIAL), None)


def _load(scenario: Scenario) -> float:
    """Offered load in Erlangs: mean rate × mean handle time, summed over channels."""
    return sum(
        mean_rate_per_s(spec) * make_sampler(spec.handle_time).mean for spec in scenario.channels.values()
    )


def _measures(result: RunResult, counts: dict[str, int], scale: int, design: str) -> list[dict[str, Any]]:
    """Per replication: staffing intensity, cost and quality of an optimised plan."""
    agents = sum(counts.values())
    scenario = result.scenario
    load = _load(scenario)
    phone = _phone(scenario)
    window_h = (scenario.horizon_s - scenario.warmup_s) / 3600.0
    rows = []
    for out in result.outputs:
        offered = sum(m["offered"] for m in out.channels.values())
        resolved = sum(m["journeys_resolved"] for m in out.channels.values())
        busy_h = out.groups["overall"]["busy_agents"] * window_h
        journeys = sum(m["journeys"] for m in out.channels.values())
        csat = (
            sum(m["csat"] * m["journeys"] for m in out.channels.values() if not math.isnan(m["csat"]))
            / journeys
            if journeys
            else math.nan
        )
        rows.append(
            {
                "scale": scale,
                "design": design,
                "replication": out.replication,
                "agents": agents,
                "agents_per_erlang": agents / load,
                "agents_per_1000_contacts": agents / (offered / window_h) * 1000.0,
                "cost_per_resolved_journey": out.groups["overall"]["cost_per_resolved_journey"],
                "busy_hours_per_resolved_journey": busy_h / resolved if resolved else math.nan,
                "phone_service_level": out.channels[phone]["service_level"] if phone else math.nan,
                "csat": csat,
            }
        )
    return rows


@dataclass(frozen=True)
class Centre:
    """What the study scales: the ×1 centre as a mapping, where its files are, its targets."""

    data: dict[str, Any]
    base_dir: Path
    targets: list[str]
    label: str


def _plan(quick: bool, scenario: str | Path | None = None) -> tuple[tuple[int, ...], Centre]:
    """The scales and the ×1 centre of the quick or the full study (of `scenario`, if given)."""
    scales = QUICK_SCALES if quick else FULL_SCALES
    if scenario is None:
        horizon, reps = (8.0, 3) if quick else (24.0, 6)
        return scales, Centre(base_centre(horizon, reps), Path.cwd(), list(STUDY_TARGETS), "the study centre")
    data, base_dir = centre_from_file(scenario)
    if quick:
        data["replications"] = min(int(data.get("replications", 3)), 3)
    return scales, Centre(data, base_dir, default_targets(data), str(scenario))


def _scenario(data: dict[str, Any], base_dir: Path | None = None) -> Scenario:
    return validate(data, label=data["name"], lines={}, base_dir=base_dir or Path.cwd())


def search_runs(groups: int) -> int:
    """About how many staffings the optimiser simulates to staff `groups` agent groups.

    The analytic start, a few steps up or down, and a failed removal from each group at the
    end: 2 + 3 per group. The quick study measures 2 to 7 for one group and 9 to 20 for
    three, 63 in all against the 63 this gives; more demand moves the start further from
    the answer, so larger scales tend to need more.
    """
    return 2 + 3 * groups


def study_scenarios(
    quick: bool = False, scenario: str | Path | None = None, designs: tuple[str, ...] = DESIGNS
) -> list[Scenario]:
    """Every scenario the study simulates, once for each time it runs it (all its replications).

    For each scale and design: the staffings the optimiser tries (`search_runs`; their
    number is only known once it has run) and the final run of its plan. Then the diversion
    experiment: the baseline and its two variants. Staffing does not change how many
    contacts arrive, so every staffing of a scale and design counts as one scenario, and
    `sim.runner.budget.estimate` of this list sizes the study.
    """
    scales, centre = _plan(quick, scenario)
    out: list[Scenario] = []
    for scale in scales:
        for design in designs:
            sc = _scenario(scaled(centre.data, scale, design), centre.base_dir)
            out += [sc] * (search_runs(len(sc.agents)) + 1)
    if "split" in designs:
        out += [_scenario(scaled(centre.data, 1, "split"), centre.base_dir)] * 3  # baseline, divert, hire
    return out


def run_study(
    *,
    quick: bool = False,
    executor: Executor | None = None,
    progress: Callable[[str], object] | None = None,
    divert: int = 2,
    scenario: str | Path | None = None,
    designs: tuple[str, ...] = DESIGNS,
    targets: list[str] | None = None,
) -> StudyResult:
    """Run the scalability study (``quick``: fewer scales, shorter runs, for tests).

    Args:
        quick: scales ×1, ×2, ×4 with short horizons and few replications.
        executor: where simulations run; default in this process.
        progress: called with a short message before each step.
        divert: agents moved (or hired) in the diversion experiment.
        scenario: a scenario file whose centre is scaled (default: the study centre).
        designs: the team designs to staff (see `sim.experiment.centres`).
        targets: what the optimiser must meet (default: the study's targets, or for a
            scenario file 80 % of every channel's contacts within its own target time).

    Raises:
        ValueError: an unknown design, or a centre whose demand cannot be scaled.
        ScenarioError: the scenario file is invalid.
    """
    unknown = [d for d in designs if d not in DESIGNS]
    if unknown or not designs:
        raise ValueError(f"unknown design {', '.join(unknown) or '(none)'}; allowed: {', '.join(DESIGNS)}")
    executor = executor or SerialExecutor()
    say = progress or (lambda _msg: None)
    scales, centre = _plan(quick, scenario)
    goals = targets or centre.targets
    if not goals:
        raise ValueError(f"{centre.label}: no channel has a target time; give --target")
    rows: list[dict[str, Any]] = []
    plans: dict[tuple[int, str], Plan] = {}
    notes: list[str] = []

    def staff(
        scale: int, design: str, replications: int | None = None, start: dict[str, int] | None = None
    ) -> None:
        say(
            f"×{scale} {design}: optimising staffing"
            + (f" ({replications} replications)" if replications else "")
        )
        sc = _scenario(scaled(centre.data, scale, design), centre.base_dir)
        if replications:
            sc = sc.model_copy(update={"replications": replications})
        plan = optimize(sc, goals, context=RunContext(executor=executor), start=start)
        plans[(scale, design)] = plan
        rows[:] = [r for r in rows if not (r["scale"] == scale and r["design"] == design)]
        rows.extend(_measures(_run(plan.scenario, executor), plan.counts, scale, design))

    for scale in scales:
        for design in designs:
            staff(scale, design)
    trend = "pooled" if "pooled" in designs else designs[0]
    for _ in range(MAX_REFITS):
        rising = _rising_steps(plans, scales, trend)
        if not rising:
            break
        for lo, hi in rising:
            for scale in (lo, hi):
                n = plans[(scale, trend)].replications * 2
                notes.append(
                    f"agents per Erlang rose from ×{lo} to ×{hi} ({trend}): ×{scale} re-optimised with {n} replications"
                )
                staff(scale, trend, n, start=dict(plans[(scale, trend)].counts))
    scaling = pd.DataFrame(rows)
    if "split" in designs:
        split_1 = plans[(scales[0], "split")]
        phone, social = _phone(split_1.scenario), _social(split_1.scenario)
        if phone and social:
            say(f"diversion: move {divert} {phone} agents to {social} vs hire {divert}")
            diversion = _diversion(centre, split_1.counts, divert, phone, social, executor)
        else:
            notes.append("no diversion experiment: it needs a phone and a social channel")
            diversion = pd.DataFrame()
    else:
        notes.append("no diversion experiment: it needs the split design (one team per channel)")
        diversion = pd.DataFrame()
    result = StudyResult(
        scaling, diversion, designs=tuple(designs), notes=notes, centre=centre.label, quick=quick
    )
    result.conclusions = conclude(result, scales, plans)
    return result


def _rising_steps(
    plans: dict[tuple[int, str], Plan], scales: tuple[int, ...], design: str
) -> list[tuple[int, int]]:
    """Consecutive scales between which the design's agents per Erlang rise."""
    ape = {s: sum(plans[(s, design)].counts.values()) / _load(plans[(s, design)].scenario) for s in scales}
    return [(a, b) for a, b in itertools.pairwise(scales) if ape[b] > ape[a] + 1e-12]


def _run(scenario: Scenario, executor: Executor) -> RunResult:
    outputs = run_replications(scenario, scenario.replications, scenario.seed, executor)
    return RunResult(scenario, scenario.seed, outputs, "none")


def _diversion(
    centre: Centre, counts: dict[str, int], k: int, phone: str, social: str, executor: Executor
) -> pd.DataFrame:
    """At ×1 with split teams sized by the optimiser: divert k phone agents vs hire k."""
    data = scaled(centre.data, 1, "split")
    for group, n in counts.items():
        data["agents"][group]["count"] = n
    p, s = counts[f"{phone}_team"], counts[f"{social}_team"]
    data["variants"] = {
        f"divert_{k}_{phone}_to_{social}": {
            f"agents.{phone}_team.count": max(p - k, 0),
            f"agents.{social}_team.count": s + k,
        },
        f"hire_{k}_for_{social}": {f"agents.{social}_team.count": s + k},
    }
    comparison = compare(load_experiment(data), executor=executor)
    table = comparison.table()
    table = table[table.scope == "channel"].reset_index(drop=True)
    return table.assign(phone=phone)
