"""Sizing shifts: how many agents on each shift so that every target holds in every interval.

`optimize --per-interval` answers with a requirement per half hour; real centres staff with
shifts. `optimize_shifts` keeps the searched groups' shifts as written (start, end, days,
breaks) and searches only their **counts**, judging every target in every interval exactly
as the per-interval search does (`sim.planning.intervals.targets`): the cost is paid
agent-hours, breaks included.

1. *Start*: the per-interval Erlang requirement (`interval_start`) covered greedily: while
   some interval is short, add one agent to the shift that covers the most of the shortfall
   per paid hour among those on duty in the shortest interval.
2. *Add*: simulate; for every interval that misses a target, add one agent to the group's
   shift that is on duty there and covers the most missed intervals (fewest paid hours on a
   tie). Five steps in a row without a lower total shortfall end the search. A miss in an
   interval where none of the target's groups has a shift on duty cannot be helped: those
   intervals are set aside (the plan is not `met`, and its note and `uncovered` name them)
   and the shifts are sized for every other interval.
3. *Remove*: one agent fewer on one shift at a time, the shift with the most paid hours
   first, while every target holds in every interval; stop when no single removal keeps
   them all.

The table grid is a day, unless the horizon is longer than a day and days differ in demand or
in the searched shifts' weekdays: then a week. Every staffing runs the same replications
(common random numbers), each once, and at most `max_staffings` of them (default
`sim.planning.search.MAX_STAFFINGS`): the search stops there and says so in its note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.config.schema import Scenario
from sim.config.staffing import WEEKDAYS, Shift
from sim.config.variants import Experiment
from sim.metrics.stats import metric_ci
from sim.model.roster import roster
from sim.planning.erlang_start import interval_start, owner_group
from sim.planning.intervals.grid import DAY_S, Grid, table_grid
from sim.planning.intervals.plan import IntervalJudgedPlan
from sim.planning.intervals.search import Evaluation, IntervalSearch, interval_setup
from sim.planning.intervals.targets import targets_json
from sim.planning.search import (
    Knob,
    Vector,
    check_start_names,
    kept_warning,
    unstaffed_warnings,
)
from sim.planning.settings import OptimizeSettings, RunContext
from sim.planning.targets import OVERALL, Target

STALL_STEPS = 5
"""The add phase stops after this many steps in a row that did not lower the total shortfall."""


def shift_groups(scenario: Scenario, groups: Sequence[str] | None) -> list[str]:
    """The groups whose shifts to size: `groups`, or every group that works shifts.

    Raises:
        ValueError: an unknown or repeated group, a group without shifts, or none at all.
    """
    if isinstance(groups, str):
        groups = [groups]
    names = [g for g, a in scenario.agents.items() if a.shifts] if groups is None else list(groups)
    if not names:
        raise ValueError(
            f"no agent group works shifts in {scenario.name!r}; size head counts (optimize) or "
            "tables (--per-interval) instead"
        )
    for g in names:
        if g not in scenario.agents:
            raise ValueError(
                f"no agent group {g!r} in scenario {scenario.name!r}; groups are: {', '.join(scenario.agents)}"
            )
        if not scenario.agents[g].shifts:
            raise ValueError(f"agent group {g!r} has no shifts to size; leave it out of the groups to search")
    if len(set(names)) != len(names):
        raise ValueError(f"an agent group is named twice in {', '.join(names)}")
    return names


def shift_grid(scenario: Scenario, groups: Sequence[str]) -> Grid:
    """`table_grid`, widened to a week when the searched shifts work on some weekdays only."""
    grid = table_grid(scenario)
    partial = any(set(s.days) != set(WEEKDAYS) for g in groups for s in scenario.agents[g].shifts or [])
    if partial and not grid.weekly and scenario.horizon_s > DAY_S:
        period = 7 * int(DAY_S // grid.interval_s)
        return Grid(grid.interval_s, period, grid.n_run, grid.horizon_s, grid.warmup_s)
    return grid


def _mean_level(steps: list[tuple[float, int]], grid: Grid) -> NDArray[np.float64]:
    """The time-average of a step function over each run interval."""
    times = np.array([t for t, _ in steps] + [grid.horizon_s])
    levels = np.array([n for _, n in steps], dtype=np.float64)
    area = np.concatenate([[0.0], np.cumsum(levels * np.diff(times))])
    edges = np.minimum(np.arange(grid.n_run + 1) * grid.interval_s, grid.horizon_s)
    covered = np.diff(np.interp(edges, times, area))
    widths = np.diff(edges)
    return np.where(widths > 0, covered / np.where(widths > 0, widths, 1.0), 0.0)


def coverage(shifts: Sequence[Shift], grid: Grid) -> NDArray[np.float64]:
    """Shift × table interval: the share of the interval one agent of the shift is on duty.

    Breaks are excluded; the share is averaged over the days the run maps onto the interval.
    """
    out = np.zeros((len(shifts), grid.n_knobs))
    seen = grid.fold(np.ones(grid.n_run))
    for i, shift in enumerate(shifts):
        one = shift.model_copy(update={"count": 1})
        level = _mean_level(roster(None, None, [one], 0.0, grid.horizon_s), grid)
        out[i] = grid.fold(level) / np.where(seen > 0, seen, 1.0)
    return out


def paid_hours(shift: Shift, horizon_s: float) -> float:
    """Hours one agent of `shift` is paid over the run: its shifts before the horizon, breaks included."""
    one = shift.model_copy(update={"count": 1, "breaks": []})
    steps = roster(None, None, [one], 0.0, horizon_s)
    times = [t for t, _ in steps] + [horizon_s]
    return sum(n * (times[i + 1] - times[i]) for i, (_, n) in enumerate(steps)) / 3600.0


def describe(shift: Shift) -> str:
    """``mon–fri 07:00–15:30`` (breaks not shown)."""
    days = [WEEKDAYS.index(d) for d in shift.days]
    if len(days) == 7:
        when = "daily"
    elif days == list(range(days[0], days[-1] + 1)):
        when = f"{WEEKDAYS[days[0]]}–{WEEKDAYS[days[-1]]}" if len(days) > 1 else WEEKDAYS[days[0]]
    else:
        when = ",".join(WEEKDAYS[d] for d in days)
    return f"{when} {shift.start}–{shift.end}"


def cover_start(requirement: Sequence[int], cover: NDArray[np.float64], hours: Sequence[float]) -> list[int]:
    """Greedy shift counts that cover a requirement per interval (see the module notes, step 1).

    Intervals that no shift covers are left short.
    """
    deficit = np.asarray(requirement, dtype=np.float64).copy()
    deficit[cover.sum(axis=0) <= 0] = 0.0
    counts = [0] * cover.shape[0]
    while (deficit > 1e-9).any():
        k = int(np.argmax(deficit))
        on_duty = [s for s in range(cover.shape[0]) if cover[s, k] > 0]
        gain = [float(np.minimum(deficit, cover[s]).clip(min=0).sum()) / max(hours[s], 1e-9) for s in on_duty]
        best = on_duty[int(np.argmax(gain))]
        counts[best] += 1
        deficit -= cover[best]
    return counts


@dataclass(frozen=True, kw_only=True)
class ShiftPlan(IntervalJudgedPlan):
    """The shift counts the search found, and what they achieve in every interval.

    Attributes (besides those of `IntervalJudgedPlan`):
        counts: searched group → agents per shift, in the order of the group's shifts.
        start: searched group → the greedy cover of the Erlang requirement (or `start=`).
        shifts: searched group → each shift described (``mon–fri 07:00–15:30``).
        paid_hours: searched group → hours one agent of each shift is paid over the run.
        uncovered: intervals that miss a target where none of its groups has a shift on duty.
    """

    counts: dict[str, list[int]]
    start: dict[str, list[int]]
    shifts: dict[str, list[str]]
    paid_hours: dict[str, list[float]]
    uncovered: tuple[str, ...] = ()

    def agent_hours(self, group: str | None = None, start: bool = False) -> float:
        """Paid agent-hours over the run, for one searched group or all (of the start with `start`)."""
        table = self.start if start else self.counts
        names = list(table) if group is None else [group]
        return float(sum(np.dot(table[g], self.paid_hours[g]) for g in names))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim optimize --shifts --json` prints (NaN as null)."""
        return {
            **self.json_head("shifts_searched"),
            "groups": {
                g: [
                    {"shift": d, "count": c, "start": s, "paid_hours_each": h}
                    for d, c, s, h in zip(
                        self.shifts[g], self.counts[g], self.start[g], self.paid_hours[g], strict=True
                    )
                ]
                for g in self.counts
            },
            "agent_hours": {g: self.agent_hours(g) for g in self.counts},
            "total_agent_hours": self.agent_hours(),
            "start_agent_hours": self.agent_hours(start=True),
            "evaluated": self.evaluated,
            "note": self.note,
            "steps": [list(s) for s in self.steps],
            "uncovered": list(self.uncovered),
            "warnings": list(self.warnings),
            "targets": targets_json(self.targets, self.intervals, self.overall, self.labels),
        }


def optimize_shifts(
    scenario_or_experiment: str | Path | dict[str, Any] | Scenario | Experiment,
    targets: Iterable[str | Target],
    *,
    settings: OptimizeSettings | None = None,
    context: RunContext | None = None,
    start: Mapping[str, Sequence[int]] | None = None,
) -> ShiftPlan:
    """Find the fewest paid agent-hours of shifts such that every target holds in every interval.

    Args:
        scenario_or_experiment: the scenario (a file, dict, `Scenario`, or an
            `Experiment` whose baseline is used).
        targets: e.g. ``["phone.service_level>=0.8"]``; per-interval metrics only
            (`sim.planning.intervals.targets`).
        settings: groups, replications, seed, max_agents, confident and max_staffings
            (`sim.planning.settings.OptimizeSettings`). Here `groups` are the groups whose
            shift counts may change (default: every group with shifts that some target
            depends on; the others keep their shifts as written, with a warning);
            `max_agents` caps one shift; with `confident` an interval meets a target only
            when its whole 95 % CI does; `max_staffings` (default
            `sim.planning.search.MAX_STAFFINGS`) stops the search there, with a note.
        context: the executor and progress callbacks (`sim.planning.settings.RunContext`);
            default in this process, silently.
        start: group → a count per shift instead of the greedy Erlang cover.

    Returns:
        The `ShiftPlan`; when the targets cannot be met, `met` is False and `note` says why.

    Raises:
        ValueError: a bad target or group (one without shifts), a start that is not one
            count per shift, or a bad `replications`, `max_agents` or `max_staffings`.
        ScenarioError: the scenario cannot be loaded.
    """
    settings = settings or OptimizeSettings()
    scenario, parsed, n, base_seed, names, kept, limit = interval_setup(
        scenario_or_experiment, targets, shift_groups, settings
    )
    max_agents = settings.max_agents
    grid = shift_grid(scenario, names)
    shifts = {g: list(scenario.agents[g].shifts or []) for g in names}
    cover = {g: coverage(shifts[g], grid) for g in names}
    hours = {g: [paid_hours(s, scenario.horizon_s) for s in shifts[g]] for g in names}
    if start is None:
        need = interval_start(scenario, parsed, names, grid, max_agents)
        first = {g: cover_start(need[g], cover[g], hours[g]) for g in names}
    else:
        first = _start_counts(start, names, shifts)
    if any(c > max_agents for counts in first.values() for c in counts):
        raise ValueError(f"the starting counts have a shift with more than max_agents={max_agents} agents")
    knobs = [
        Knob(f"agents.{g}.shifts", f"{g}[{i}]", index=i, key="count", weight=hours[g][i])
        for g in names
        for i in range(len(shifts[g]))
    ]
    where = {(g, i): j for j, (g, i) in enumerate((g, i) for g in names for i in range(len(shifts[g])))}
    search = IntervalSearch(
        grid, scenario, knobs, parsed, n, base_seed, context or RunContext(), settings.confident
    )
    search.limit = limit
    x: Vector = tuple(first[g][i] for g in names for i in range(len(shifts[g])))
    current = search.evaluate([x])[0]
    steps: list[tuple[str, int]] = []
    note = ""
    capped = False  # stopped by max_staffings

    def owner(t: Target) -> list[str]:
        if t.scope == "channel":
            g = owner_group(scenario, t.name, names)
            return [g] if g is not None else []
        return names if t.name == OVERALL else [t.name]

    owners = [owner(t) for t in parsed]  # the searched groups each target depends on

    # A miss where none of the target's groups has a shift on duty cannot be helped by
    # sizing shifts: the search meets the targets everywhere else and names those intervals.
    beyond = {
        ti: {k for k in range(grid.n_knobs) if not any((cover[g][:, k] > 0).any() for g in owners[ti])}
        for ti in range(len(parsed))
    }

    def reachable(e: Evaluation) -> list[tuple[int, int]]:
        return [(ti, k) for ti, k in e.missed() if k not in beyond[ti]]

    def shortfall(e: Evaluation) -> float:
        return sum(e.judgements[ti].shortfall[k] for ti, k in reachable(e))

    flat = 0
    while missed := reachable(current):
        # Per group, how much of its missed intervals each of its shifts covers.
        covers_missed = {
            g: cover[g][:, sorted({k for ti, k in missed if g in owners[ti]})].sum(axis=1) for g in names
        }
        adds: set[int] = set()
        for ti, k in missed:
            for g in owners[ti]:
                on_duty = [
                    i for i in range(len(shifts[g])) if cover[g][i, k] > 0 and x[where[g, i]] < max_agents
                ]
                if on_duty:
                    score = covers_missed[g]
                    best = max(on_duty, key=lambda i: (score[i], -hours[g][i], -i))
                    adds.add(where[g, best])
        step = search.try_adding(x, adds, f"max_agents={max_agents} per shift")
        if isinstance(step, str):
            note = step
            break
        candidate, evaluation = step
        flat = 0 if shortfall(evaluation) < shortfall(current) else flat + 1
        x, current = candidate, evaluation
        steps.append(("add", len(adds)))
        if flat >= STALL_STEPS:
            note = (
                f"stopped: {STALL_STEPS} steps of adding agents to the shifts on duty where targets are "
                "missed did not bring them closer"
            )
            break
    if not reachable(current):
        removed = True
        while removed and not capped:
            removed = False
            order = sorted(
                (j for j in range(len(x)) if x[j] > knobs[j].low), key=lambda j: (-x[j] * knobs[j].weight, j)
            )
            for j in order:
                candidate = tuple(v - (i == j) for i, v in enumerate(x))
                if search.spent([candidate]):
                    capped = True
                    break
                evaluation = search.evaluate([candidate])[0]
                if not reachable(evaluation):
                    x, current, removed = candidate, evaluation, True
                    steps.append(("remove", 1))
                    break
        note = "every target met in every interval; one agent fewer on any shift misses a target"
        if current.missed():
            note = (
                "every target met where a searched shift is on duty; one agent fewer on any shift "
                "misses a target there"
            )
        if capped:
            note = (
                f"{note.split(';')[0]}; stopped removing agents after {limit} staffings (max_staffings), "
                "so fewer may do"
            )
    uncovered = {k for ti, k in current.missed() if k in beyond[ti]}
    labels = tuple(grid.label(k) for k in range(grid.n_knobs))
    if uncovered:
        shown = ", ".join(labels[k] for k in sorted(uncovered)[:8])
        note += (
            f"; targets are missed at {shown}{' …' if len(uncovered) > 8 else ''}, where no searched "
            "shift is on duty: add a shift there, or close the channel then (channels.NAME.hours)"
        )
    result = current.result
    slots = {g: [where[g, i] for i in range(len(shifts[g]))] for g in names}
    return ShiftPlan(
        scenario=result.scenario,
        counts={g: [x[j] for j in js] for g, js in slots.items()},
        start={g: list(first[g]) for g in names},
        shifts={g: [describe(s) for s in shifts[g]] for g in names},
        paid_hours=hours,
        labels=labels,
        targets=tuple(parsed),
        intervals=current.judgements,
        overall=tuple(metric_ci(result.values(t.scope, t.name, t.metric), t.metric) for t in parsed),
        met=current.all_met,
        note=note,
        steps=tuple(steps),
        uncovered=tuple(labels[k] for k in sorted(uncovered)),
        warnings=(*([kept_warning(scenario, kept)] if kept else []), *unstaffed_warnings(result.scenario)),
        trials=search.trials(slots),
        **search.summary(),
    )


def _start_counts(
    start: Mapping[str, Sequence[int]], names: Sequence[str], shifts: Mapping[str, list[Shift]]
) -> dict[str, list[int]]:
    check_start_names(start, names)
    out = {}
    for g in names:
        counts = list(start.get(g, [s.count for s in shifts[g]]))
        if len(counts) != len(shifts[g]) or any(
            isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts
        ):
            raise ValueError(f"start for {g!r} must be {len(shifts[g])} whole numbers >= 0, one per shift")
        out[g] = counts
    return out
