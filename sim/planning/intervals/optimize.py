"""Per-interval staffing: the fewest agents in every interval of the day (or week).

When demand varies through the day, one head count per group either wastes agents at night
or misses the targets at the peak. `optimize_intervals` instead gives each searched group a
staffing table (`agents.G.staffing`, one count per interval of the scenario's
`interval_min`) and finds the smallest count in every interval such that **every target
holds in every interval**: ``phone.service_level>=0.8`` means 80 % within the answer-within
time in each half hour, judged on the contacts that *arrived* in that interval, as workforce
planners state service goals. An interval in which no contact of the channel arrives (or no
agent of the group is scheduled, for occupancy: agents finishing a call after their shift
are busy all that overtime) meets its target trivially.

Targets that can be judged per interval (from `sim.records.INTERVAL_TALLIES`):
channel metrics `INTERVAL_CHANNEL_METRICS` (service level, ASA, P(wait), abandonment) and the
group metric occupancy (per group or ``overall``).

**The table.** One day of intervals, repeated daily, unless the horizon is longer than a
day and demand differs between days (a `day_of_week` pattern, or a recorded trace): then a
week, Monday first. With a horizon longer than the table, interval k is judged on every day
(week) together; intervals that end within the warm-up are left out. Intervals past the
horizon get no agents.

**The search** is the head-count search of `sim.planning.headcount` with a move rule that
costs one simulation per step instead of one per knob (a day has 48 half-hour knobs per
group, a week 336):

1. *Start*: per interval, Erlang C (or A with patience) for the interval's mean arrival
   rate, per channel, counted towards its specialist group, with proficiency and shrinkage
   as in `analytic_start`; an occupancy bound raises it to ⌈load ÷ bound⌉. This is the
   stationary independent period-by-period (SIPP) approximation; queues that carry over
   from one interval to the next are what the simulation corrects.
2. *Add*: simulate; in every interval that misses a target, add one agent to the group the
   target depends on (the channel's specialist group; the group itself for occupancy; for
   ``overall`` occupancy, the busiest group there) — all such intervals at once. Repeat
   while targets are missed. Where an interval's shortfall did not fall, the next step also
   adds in the interval before it, then the two before, and so on (a queue that builds up
   earlier spills over into it). Stop after `STALL_STEPS` steps in a row without a lower
   total shortfall. An interval whose group is at `max_agents` there gets its agent in the
   nearest earlier interval that has room.
3. *Remove*: try one agent fewer in every interval at once. Where an interval then misses a
   target, the removals nearest to it (same interval first, then its neighbours, whose queue
   spills over) are kept and marked as needed, and the rest are tried again; a batch that
   meets every target is accepted. Stop when every interval is at its lower bound or
   marked. A marked interval's agent was needed in a batch that removed at least as much
   elsewhere, so it stays needed as the others shrink.

The search simulates at most `max_staffings` staffings (default `MAX_STAFFINGS`, 100): it
stops there and says so in the plan's note (targets still missed, or a plan that meets them
but may not be minimal). That bound is what a budget check before the search counts.

All candidates run the same replications with the same seed (common random numbers), each
staffing at most once. The plan is minimal against one-agent removals made in such
batches; it is not a proof of global minimality (no search over integer staffing is
exhaustive at this size).

This module holds `optimize_intervals`, which walks the search. Its parts live in their own
modules and are re-exported here: the table grid in `sim.planning.intervals.grid`, judging
targets per interval in `sim.planning.intervals.targets`, the Erlang start in
`sim.planning.erlang_start`, the search's steps and simulation in
`sim.planning.intervals.search`, and the result (`IntervalPlan`, `IntervalTrial`) in
`sim.planning.intervals.plan`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.config.schema import Scenario
from sim.config.validate import validate
from sim.config.variants import Experiment
from sim.metrics.stats import metric_ci
from sim.planning.erlang_start import interval_start as interval_start
from sim.planning.erlang_start import owner_group
from sim.planning.intervals.grid import DAY_S as DAY_S
from sim.planning.intervals.grid import WEEKDAY_NAMES as WEEKDAY_NAMES
from sim.planning.intervals.grid import Grid as Grid
from sim.planning.intervals.grid import interval_rates as interval_rates
from sim.planning.intervals.grid import scheduled as scheduled
from sim.planning.intervals.grid import table_grid as table_grid
from sim.planning.intervals.plan import IntervalPlan as IntervalPlan
from sim.planning.intervals.plan import IntervalTrial as IntervalTrial
from sim.planning.intervals.search import (
    Evaluation,
    IntervalSearch,
    blame,
    busiest_groups,
    has_room,
    interval_setup,
)
from sim.planning.intervals.search import add_positions as add_positions
from sim.planning.intervals.targets import INTERVAL_CHANNEL_METRICS as INTERVAL_CHANNEL_METRICS
from sim.planning.intervals.targets import INTERVAL_GROUP_METRICS as INTERVAL_GROUP_METRICS
from sim.planning.intervals.targets import IntervalJudgement as IntervalJudgement
from sim.planning.intervals.targets import check_interval_targets as check_interval_targets
from sim.planning.intervals.targets import interval_values as interval_values
from sim.planning.intervals.targets import judge as judge
from sim.planning.search import (
    MAX_STAFFINGS,
    Knob,
    Vector,
    check_start_names,
    kept_warning,
    unstaffed_warnings,
)
from sim.planning.settings import OptimizeSettings, RunContext
from sim.planning.targets import OVERALL, Target

EXPECTED_STAFFINGS = MAX_STAFFINGS
"""The staffings a budget check before a per-interval search counts: the search's own bound
(`max_staffings`, default `MAX_STAFFINGS`), so the estimate is an upper bound."""

STALL_STEPS = 5
"""The add phase stops after this many steps in a row that did not lower the total shortfall."""


def table_groups(scenario: Scenario, groups: Sequence[str] | None) -> list[str]:
    """The groups to staff by table: `groups`, or every group not on shifts.

    Raises:
        ValueError: an unknown or repeated group, or no group to staff.
    """
    if isinstance(groups, str):
        groups = [groups]
    if groups is None:
        names = [g for g, spec in scenario.agents.items() if spec.shifts is None]
    else:
        names = list(groups)
    if not names:
        raise ValueError(
            "no agent group to staff per interval: every group works shifts; name the groups to "
            f"re-plan as staffing tables with --group; groups are: {', '.join(scenario.agents)}"
        )
    for g in names:
        if g not in scenario.agents:
            raise ValueError(
                f"no agent group {g!r} in scenario {scenario.name!r}; groups are: {', '.join(scenario.agents)}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"an agent group is named twice in {', '.join(names)}")
    return names


def _with_tables(base: Scenario, groups: Sequence[str], grid: Grid) -> Scenario:
    """`base` with each of `groups` staffed by an all-zero table on the grid."""
    data = base.model_dump(mode="python", exclude_none=True)
    for g in groups:
        spec = data["agents"][g]
        for key in ("count", "shifts", "staffing"):
            spec.pop(key, None)
        spec["staffing"] = {"interval_min": base.interval_min, "counts": [0] * grid.period}
    return validate(data, label=f"{base.name} (per-interval staffing)", lines={}, base_dir=Path.cwd())


def _start_tables(
    base: Scenario, start: Mapping[str, int | Sequence[int]], names: Sequence[str], grid: Grid
) -> dict[str, list[int]]:
    check_start_names(start, names)
    out = {}
    for g in names:
        value = start.get(g, base.agents[g].count or 0)
        counts = [value] * grid.n_knobs if isinstance(value, int) else list(value)
        if len(counts) != grid.n_knobs or any(
            isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts
        ):
            raise ValueError(
                f"start for {g!r} must be a whole number >= 0 or {grid.n_knobs} of them (one per interval)"
            )
        out[g] = counts
    return out


def optimize_intervals(
    scenario_or_experiment: str | Path | dict[str, Any] | Scenario | Experiment,
    targets: Iterable[str | Target],
    *,
    settings: OptimizeSettings | None = None,
    context: RunContext | None = None,
    start: Mapping[str, int | Sequence[int]] | None = None,
) -> IntervalPlan:
    """Find the fewest agents per group in every interval such that every target holds there.

    Args:
        scenario_or_experiment: the scenario (a file, dict, `Scenario`, or an
            `Experiment` whose baseline is used).
        targets: e.g. ``["phone.service_level>=0.8"]``; metrics from
            `INTERVAL_CHANNEL_METRICS` and `INTERVAL_GROUP_METRICS`.
        settings: groups, replications, seed, max_agents, confident and max_staffings
            (`sim.planning.settings.OptimizeSettings`). Here `groups` are the groups to
            staff by table (default: every group not on shifts; a group named that works
            shifts is re-planned as a table), the others keep their staffing; `max_agents`
            caps one group in one interval; with `confident` an interval meets a target
            only when its whole 95 % CI does (see `sim.planning.headcount.optimize`);
            `max_staffings` (default `MAX_STAFFINGS`) stops the search there, with a note.
        context: the executor and progress callbacks (`sim.planning.settings.RunContext`);
            default in this process, silently.
        start: group → a count for every interval, or one count per table interval,
            instead of the Erlang start.

    Returns:
        The `IntervalPlan`. When the targets cannot be met, `met` is False and `note` says why.

    Raises:
        ValueError: a bad target or group, a start that is not a count or one per table
            interval, or a bad `replications`, `max_agents` or `max_staffings`.
        ScenarioError: the scenario cannot be loaded.
    """
    settings = settings or OptimizeSettings()
    scenario, parsed, n, base_seed, names, kept, limit = interval_setup(
        scenario_or_experiment, targets, table_groups, settings
    )
    max_agents = settings.max_agents
    grid = table_grid(scenario)
    first = (
        interval_start(scenario, parsed, names, grid, max_agents)
        if start is None
        else _start_tables(scenario, start, names, grid)
    )
    if any(c > max_agents for counts in first.values() for c in counts):
        raise ValueError(
            f"the starting tables have an interval with more than max_agents={max_agents} agents"
        )
    base = _with_tables(scenario, names, grid)
    knobs = [
        Knob(f"agents.{g}.staffing.counts", g, index=k, weight=float(w))
        for g in names
        for k, w in enumerate(grid.hours())
    ]
    where = {(g, k): i for i, (g, k) in enumerate((g, k) for g in names for k in range(grid.n_knobs))}
    search = IntervalSearch(
        grid, base, knobs, parsed, n, base_seed, context or RunContext(), settings.confident
    )
    search.limit = limit
    x: Vector = tuple(first[g][k] for g in names for k in range(grid.n_knobs))
    current = search.evaluate([x])[0]
    steps: list[tuple[str, int]] = []
    note = ""
    capped = False  # stopped by max_staffings

    def responsible(target_index: int) -> list[str]:
        """The searched groups a miss of target `target_index` depends on."""
        t = parsed[target_index]
        if t.scope == "channel":
            return [g for g in names if t.name in scenario.agents[g].skills]
        if t.name != OVERALL:
            return [t.name]
        return names

    # Add: one agent, in every interval that misses a target, to the group it depends on;
    # where that did not help the interval, in the intervals before it too (their queue
    # spills over into it).
    stall: dict[tuple[int, int], int] = {}
    flat = 0
    while not current.all_met:
        adds: set[int] = set()
        full = {i for i, v in enumerate(x) if v >= max_agents}
        busiest: list[str] | None = None  # for `overall` occupancy, computed once per step
        for ti, k in current.missed():
            t = parsed[ti]
            if t.scope == "channel":
                g = owner_group(scenario, t.name, names)
                assert g is not None  # checked by check_interval_targets
            elif t.name != OVERALL:
                g = t.name
            else:
                busiest = busiest or busiest_groups(current, names, search)
                g = busiest[k]
            room = functools.partial(has_room, full, where, g)
            adds |= {where[g, j] for j in add_positions(k, stall.get((ti, k), 0), grid, room)}
        step = search.try_adding(x, adds, f"max_agents={max_agents} per interval")
        if isinstance(step, str):
            note = step
            break
        candidate, evaluation = step
        flat = 0 if evaluation.shortfall < current.shortfall else flat + 1
        if flat >= STALL_STEPS:
            note = (
                f"stopped: {STALL_STEPS} steps of adding agents where targets are missed (and in the "
                "intervals before) did not bring them closer; they may not be reachable by staffing "
                "these groups"
            )
            break
        stall = {
            (ti, k): 0 if evaluation.judgements[ti].shortfall[k] < current.judgements[ti].shortfall[k]
            else min(stall.get((ti, k), 0) + 1, grid.n_knobs - 1)
            for ti, k in evaluation.missed()
        }  # fmt: skip
        x, current = candidate, evaluation
        steps.append(("add", len(adds)))
    # Remove: one agent fewer in every interval at once; keep the ones a miss points to.
    if current.all_met:
        needed: set[int] = set()
        while True:
            trial = {i for i, v in enumerate(x) if v > knobs[i].low and i not in needed}
            accepted = False
            while trial:
                candidate = tuple(v - (i in trial) for i, v in enumerate(x))
                if search.spent([candidate]):
                    capped = True
                    break
                evaluation = search.evaluate([candidate])[0]
                if evaluation.all_met:
                    x, current, accepted = candidate, evaluation, True
                    steps.append(("remove", len(trial)))
                    break
                blamed = blame(evaluation, trial, knobs, names, grid, responsible)
                needed |= blamed
                trial -= blamed
            if not accepted or capped:
                break
        note = "every target met in every interval; removing agents where they remain misses a target"
        if all(v <= k.low for v, k in zip(x, knobs, strict=True)):
            note = "every target met in every interval with no agents in the searched groups"
        elif capped:
            note = (
                f"every target met in every interval; stopped removing agents after {limit} staffings "
                "(max_staffings), so fewer may do"
            )

    slots = {g: [where[g, k] for k in range(grid.n_knobs)] for g in names}
    tables = {g: [x[j] for j in js] for g, js in slots.items()}
    result = current.result
    overall = tuple(metric_ci(result.values(t.scope, t.name, t.metric), t.metric) for t in parsed)
    labels = tuple(grid.label(k) for k in range(grid.n_knobs))
    return IntervalPlan(
        scenario=result.scenario,
        tables=tables,
        start={g: list(first[g]) for g in names},
        labels=labels,
        interval_min=scenario.interval_min,
        hours=tuple(float(h) for h in grid.hours()),
        targets=tuple(parsed),
        intervals=current.judgements,
        overall=overall,
        met=current.all_met,
        note=note,
        steps=tuple(steps),
        warnings=(
            *([kept_warning(scenario, kept)] if kept else []),
            *_warnings(parsed, current, labels),
            *unstaffed_warnings(result.scenario),
        ),
        trials=search.trials(slots),
        **search.summary(),
    )


def _warnings(targets: Sequence[Target], evaluation: Evaluation, labels: Sequence[str]) -> tuple[str, ...]:
    out = []
    for t, j in zip(targets, evaluation.judgements, strict=True):
        close = [
            labels[k]
            for k, e in enumerate(j.estimates)
            if j.active[k] and j.met[k] and e.n > 1 and e.ci_low <= t.bound <= e.ci_high
        ]
        if close:
            shown = ", ".join(close[:8]) + (f" and {len(close) - 8} more" if len(close) > 8 else "")
            out.append(
                f"{t} is met by the mean but its 95% CI includes the bound in {len(close)} interval(s) "
                f"({shown}): more replications (-n) would make the plan surer"
            )
    return tuple(out)
