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

**The search** is the head-count search of `sim.experiment.optimize` with a move rule that
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

All candidates run the same replications with the same seed (common random numbers), each
staffing at most once. The plan is minimal against one-agent removals made in such
batches; it is not a proof of global minimality (no search over integer staffing is
exhaustive at this size).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.config.files import read_trace
from sim.config.loader import validate
from sim.config.schema import Scenario
from sim.config.variants import Experiment, load_experiment
from sim.experiment.optimize import (
    OVERALL,
    Knob,
    SearchBase,
    Target,
    Vector,
    channel_agents,
    check_replications,
    head_count,
    owner_group,
    parse_targets,
)
from sim.metrics.stats import Estimate, mean_ci
from sim.model.arrivals import ArrivalSource
from sim.model.distributions import make_sampler
from sim.model.roster import roster
from sim.results import RunResult
from sim.run.executors import Executor, SerialExecutor
from sim.run.simulate import ReplicationOutput

INTERVAL_CHANNEL_METRICS = ("service_level", "asa_s", "p_wait", "abandon_rate")
"""Channel metrics a per-interval target may use (computed from the interval tallies)."""

INTERVAL_GROUP_METRICS = ("occupancy",)
"""Group metrics a per-interval target may use (from busy and on-duty time per interval)."""

EXPECTED_STAFFINGS = 20
"""About how many staffings a per-interval search simulates, for the budget check before it
starts (the week of `scenarios/baseline.yaml` takes 20; the number is only known afterwards)."""

STALL_STEPS = 5
"""The add phase stops after this many steps in a row that did not lower the total shortfall."""

DAY_S = 86_400.0
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- the table grid ---------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """How the run's intervals map onto the staffing table.

    Attributes:
        interval_s: interval length (the scenario's `interval_min`).
        period: intervals in the table: a day's, or a week's.
        n_run: intervals in the run (the last may be cut by the horizon).
        horizon_s: the run's horizon.
        warmup_s: the run's warm-up: intervals that end within it are not judged.
    """

    interval_s: float
    period: int
    n_run: int
    horizon_s: float
    warmup_s: float = 0.0

    @property
    def n_knobs(self) -> int:
        """Table intervals the run reaches (the others get no agents)."""
        return min(self.period, self.n_run)

    @property
    def wraps(self) -> bool:
        """Whether the run is longer than the table, so its last interval precedes its first."""
        return self.n_run > self.period

    @property
    def weekly(self) -> bool:
        """Whether the table covers a week (else a day)."""
        return self.period * self.interval_s > DAY_S

    def fold(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sum per-run-interval values (last axis) into per-table-interval values."""
        out = np.zeros((*values.shape[:-1], self.n_knobs))
        for start in range(0, self.n_run, self.period):
            chunk = values[..., start : start + self.period]
            out[..., : chunk.shape[-1]] += chunk
        return out

    def fold_judged(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """`fold`, leaving out the run intervals that end within the warm-up."""
        ends = (np.arange(self.n_run) + 1) * self.interval_s
        return self.fold(np.where(ends > self.warmup_s, values, 0.0))

    def hours(self) -> NDArray[np.float64]:
        """Hours the run spends in each table interval (the agent-hours of one agent there)."""
        starts = np.arange(self.n_run) * self.interval_s
        widths = np.minimum(starts + self.interval_s, self.horizon_s) - starts
        return self.fold(widths / 3600.0)

    def distance(self, i: int, j: int) -> int:
        """Intervals between table intervals i and j (across the wrap when the run wraps)."""
        d = abs(i - j)
        return min(d, self.period - d) if self.wraps else d

    def label(self, k: int) -> str:
        """``08:30`` (a daily table) or ``Tue 08:30`` (a weekly one)."""
        seconds = k * self.interval_s
        clock = f"{int(seconds % DAY_S // 3600):02d}:{int(seconds % 3600 // 60):02d}"
        return f"{WEEKDAY_NAMES[int(seconds // DAY_S) % 7]} {clock}" if self.weekly else clock


def table_grid(scenario: Scenario) -> Grid:
    """The table for `scenario`: daily, or weekly when days differ (see the module notes)."""
    interval_s = scenario.interval_min * 60.0
    per_day = int(DAY_S // interval_s)
    horizon = scenario.horizon_s
    days_differ = any(
        spec.arrivals.trace is not None
        or (spec.arrivals.day_of_week is not None and len(set(spec.arrivals.day_of_week)) > 1)
        for spec in scenario.channels.values()
    )
    period = 7 * per_day if horizon > DAY_S and days_differ else per_day
    return Grid(interval_s, period, max(1, math.ceil(horizon / interval_s)), horizon, scenario.warmup_s)


def interval_rates(scenario: Scenario, channel: str, grid: Grid) -> NDArray[np.float64]:
    """A channel's mean arrival rate per second in each table interval (expected arrivals ÷ time)."""
    spec = scenario.channels[channel].arrivals
    edges = np.minimum(np.arange(grid.n_run + 1) * grid.interval_s, grid.horizon_s)
    if spec.trace is not None:
        t = spec.trace
        times = read_trace(t.file, t.column, t.unit, t.day_column)
        counts = np.diff(np.searchsorted(times, edges, side="left")).astype(np.float64)
    else:
        starts, rates = ArrivalSource(spec, grid.horizon_s).rate_segments(None)
        bounds = np.append(starts, grid.horizon_s)
        cumulative = np.concatenate([[0.0], np.cumsum(rates * np.diff(bounds))])
        counts = np.diff(np.interp(edges, bounds, cumulative))
    seconds = grid.hours() * 3600.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seconds > 0, grid.fold(counts) / seconds, 0.0)


def interval_start(
    scenario: Scenario,
    targets: Sequence[Target],
    groups: Sequence[str],
    grid: Grid,
    max_agents: int = 10_000,
) -> dict[str, list[int]]:
    """The per-interval Erlang starting point (see the module notes, step 1).

    Returns:
        group → head count per table interval, grossed up for the group's shrinkage.
    """
    on_duty = {g: np.zeros(grid.n_knobs, dtype=np.int64) for g in groups}
    loads = {g: np.zeros(grid.n_knobs) for g in groups}
    for channel in scenario.channels:
        owner = owner_group(scenario, channel, groups)
        if owner is None:
            continue
        proficiency = scenario.agents[owner].proficiency.get(channel)
        factor = 1.0 if proficiency is None else proficiency.handle_time
        mean_s = make_sampler(scenario.channels[channel].handle_time).mean * factor
        for k, lam in enumerate(interval_rates(scenario, channel, grid)):
            need = channel_agents(scenario, channel, targets, max_agents, factor, rate_per_s=float(lam))
            if need is not None:
                on_duty[owner][k] += need
            loads[owner][k] += lam * mean_s
    for t in targets:
        if t.metric == "occupancy" and not t.wants_more and t.bound > 0:
            for g in groups if t.name == OVERALL else [t.name] if t.name in on_duty else []:
                floor = np.ceil(loads[g] / t.bound - 1e-9).astype(np.int64)
                on_duty[g] = np.maximum(on_duty[g], floor)
    return {
        g: [head_count(int(n), scenario.agents[g].shrinkage, max_agents) for n in on_duty[g]] for g in groups
    }


# --- judging targets per interval ---------------------------------------------------------


@dataclass(frozen=True)
class IntervalJudgement:
    """One target in every table interval, over the replications.

    Attributes:
        estimates: per table interval, the mean [95 % CI] over replications (NaN where
            undefined in every replication).
        active: per table interval, whether the target applies: contacts of the channel
            arrived there (channel metrics) or agents were on duty (occupancy).
        met: per table interval, whether the mean meets the target (True where inactive).
        shortfall: per table interval, the relative shortfall (`Target.shortfall`; 0 where met).
    """

    estimates: tuple[Estimate, ...]
    active: tuple[bool, ...]
    met: tuple[bool, ...]
    shortfall: tuple[float, ...]


def interval_values(
    outputs: Sequence[ReplicationOutput], target: Target, grid: Grid, threads: Mapping[str, int]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per replication × table interval, the target's metric and its denominator.

    The denominator is the contacts offered (channel metrics) or the on-duty time
    (occupancy); where it is 0 in every replication the target does not apply.
    `threads` gives each group's conversation slots per agent (for ``overall`` occupancy).
    """
    values, weights = [], []
    for out in outputs:
        iv = out.intervals
        if iv is None:
            raise ValueError("per-interval targets need records='summary'")
        n_run = len(iv["areas"]) - 1
        if target.scope == "channel":
            i = iv["channels"].index(target.name)
            t = {
                k: np.asarray(v, dtype=np.float64).reshape(len(iv["channels"]), n_run)[i]
                for k, v in iv["tallies"].items()
            }
            f = {k: grid.fold_judged(v) for k, v in t.items()}
            ended = f["answered"] + f["abandoned"]
            with np.errstate(invalid="ignore", divide="ignore"):
                value = {
                    "service_level": f["within_target"] / (ended + f["judged_open"]),
                    "asa_s": f["wait_sum_s"] / f["answered"],
                    "p_wait": f["waited"] / f["offered"],
                    "abandon_rate": f["abandoned"] / ended,
                }[target.metric]
            values.append(value)
            weights.append(f["offered"])
            continue
        areas = np.diff(np.asarray(iv["areas"], dtype=np.float64), axis=0).T
        n_ch, names = len(iv["channels"]), iv["groups"]
        chosen = names if target.name == OVERALL else [target.name]
        busy = sum(grid.fold_judged(areas[n_ch + names.index(g)]) / threads[g] for g in chosen)
        duty = sum(grid.fold_judged(areas[n_ch + len(names) + names.index(g)]) / threads[g] for g in chosen)
        with np.errstate(invalid="ignore", divide="ignore"):
            values.append(np.where(duty > 1e-9, busy / np.where(duty > 1e-9, duty, 1.0), np.nan))
        weights.append(np.asarray(duty, dtype=np.float64))
    return np.array(values), np.array(weights)


def scheduled(scenario: Scenario, grid: Grid) -> dict[str, NDArray[np.float64]]:
    """Per group, the most agents scheduled on duty at any time in each table interval.

    Agents still finishing a contact after their shift count as on duty while they do
    (and are busy all that time), so occupancy is judged only where agents are scheduled.
    """
    out = {}
    edges = np.arange(grid.n_run) * grid.interval_s
    for g, spec in scenario.agents.items():
        steps = roster(spec.count, spec.staffing, spec.shifts, spec.shrinkage, grid.horizon_s)
        times = np.array([t for t, _ in steps])
        levels = np.array([n for _, n in steps], dtype=np.float64)
        at_start = levels[np.searchsorted(times, edges, side="right") - 1]
        # The most within an interval: its level at the start, or any change inside it.
        inside = np.searchsorted(edges, times, side="right") - 1
        most = at_start.copy()
        np.maximum.at(most, inside, levels)
        folded = np.zeros(grid.n_knobs)
        np.maximum.at(folded, np.arange(grid.n_run) % grid.period, most)
        out[g] = folded
    return out


def judge(
    outputs: Sequence[ReplicationOutput],
    target: Target,
    grid: Grid,
    threads: Mapping[str, int],
    on_duty: Mapping[str, NDArray[np.float64]],
    confident: bool = False,
) -> IntervalJudgement:
    """Judge `target` in every table interval (see the module notes).

    `on_duty` gives each group's scheduled agents per table interval (`scheduled`):
    occupancy applies where the groups it covers have someone scheduled. With `confident`,
    an interval meets the target only when its whole 95 % CI does (`Target.judged`).
    """
    values, weights = interval_values(outputs, target, grid, threads)
    active = weights.sum(axis=0) > 1e-9
    if target.scope == "group":
        covered = list(on_duty) if target.name == OVERALL else [target.name]
        active &= sum(on_duty[g] for g in covered) > 0
    estimates, met, shortfall = [], [], []
    for k in range(grid.n_knobs):
        e = mean_ci(values[:, k])
        estimates.append(e)
        value = target.judged(e, confident)
        met.append(not active[k] or target.met(value))
        shortfall.append(target.shortfall(value) if active[k] else 0.0)
    return IntervalJudgement(tuple(estimates), tuple(bool(a) for a in active), tuple(met), tuple(shortfall))


def check_interval_targets(targets: Sequence[Target], scenario: Scenario, groups: Sequence[str]) -> None:
    """Check that every target can be judged per interval and has a searched group to staff.

    Raises:
        ValueError: a metric without per-interval tallies, a channel no searched group
            serves, or an occupancy target on a group not searched.
    """
    for t in targets:
        allowed = INTERVAL_CHANNEL_METRICS if t.scope == "channel" else INTERVAL_GROUP_METRICS
        if t.metric not in allowed:
            raise ValueError(
                f"target {t}: {t.metric} is not measured per interval; per-interval targets may use "
                f"channel metrics {', '.join(INTERVAL_CHANNEL_METRICS)} and group metric "
                f"{', '.join(INTERVAL_GROUP_METRICS)} (or search head counts without --per-interval)"
            )
        if t.scope == "channel" and owner_group(scenario, t.name, groups) is None:
            raise ValueError(
                f"target {t}: no searched group serves {t.name!r}; searched groups are: {', '.join(groups)}"
            )
        if t.scope == "group" and t.name != OVERALL and t.name not in groups:
            raise ValueError(
                f"target {t}: {t.name!r} is not among the searched groups ({', '.join(groups)}); "
                "a per-interval occupancy target needs its group's table searched"
            )


# --- the search ------------------------------------------------------------------------


def add_positions(k: int, stalled: int, grid: Grid, room: Callable[[int], bool]) -> list[int]:
    """Where to add for a miss in table interval k: k and the `stalled` intervals before it.

    Intervals without `room` (at `max_agents`) are skipped and the walk goes further back
    until it has added somewhere, since only an earlier interval can then help. Before the
    first interval it wraps to the last when the run repeats the table, and stops otherwise.

    Args:
        k: the interval that misses a target.
        stalled: steps in a row that adding did not lower k's shortfall.
        grid: the table.
        room: whether table interval j may take one more agent.
    """
    out: list[int] = []
    for back in range(grid.n_knobs):
        j = k - back
        if j < 0 and not grid.wraps:
            break
        j %= grid.n_knobs
        if room(j):
            out.append(j)
        if back >= stalled and out:
            break
    return out


@dataclass(frozen=True)
class _Evaluation:
    vector: Vector
    result: RunResult
    judgements: tuple[IntervalJudgement, ...]
    shortfall: float

    @property
    def all_met(self) -> bool:
        return all(all(j.met) for j in self.judgements)

    def missed(self) -> list[tuple[int, int]]:
        """(target index, table interval) of every miss."""
        return [(i, k) for i, j in enumerate(self.judgements) for k, ok in enumerate(j.met) if not ok]


class _IntervalSearch(SearchBase[_Evaluation]):
    """The per-interval search: every target judged in every table interval."""

    records = "summary"

    def __init__(self, grid: Grid, *args: Any) -> None:
        super().__init__(*args)
        self.grid = grid
        self.threads = {
            g: 1 if spec.concurrency is None else spec.concurrency.threads
            for g, spec in self.base.agents.items()
        }

    def _judge(self, vector: Vector, result: RunResult) -> _Evaluation:
        on_duty = scheduled(result.scenario, self.grid)
        judgements = tuple(
            judge(result.outputs, t, self.grid, self.threads, on_duty, self.confident) for t in self.targets
        )
        return _Evaluation(vector, result, judgements, sum(sum(j.shortfall) for j in judgements))


# --- the plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalTrial:
    """One set of staffing tables the search simulated, in the order simulated.

    Attributes:
        tables: searched group → head count per table interval.
        intervals: per target, its judgement in every table interval.
        met: whether every target held in every interval.
        shortfall: the total relative shortfall over targets and intervals.
    """

    tables: dict[str, list[int]]
    intervals: tuple[IntervalJudgement, ...]
    met: bool
    shortfall: float


@dataclass(frozen=True)
class IntervalPlan:
    """The staffing tables the per-interval search found, and what they achieve.

    Attributes:
        scenario: the scenario with the plan's tables (run it with `sim.run`).
        tables: searched group → head count per table interval (`labels`).
        start: searched group → the per-interval Erlang start (or the `start=` given).
        labels: each table interval's start, ``08:30`` or ``Tue 08:30``.
        interval_min: table interval length, minutes.
        hours: hours of the run in each table interval (one agent there costs this many
            agent-hours).
        targets: the targets, each judged in every interval.
        intervals: per target (same order), its judgement in every table interval.
        overall: per target, the mean [95 % CI] over the whole run (for reference; the
            search judges intervals).
        met: whether every target holds in every interval.
        evaluated: staffing tables simulated (each `replications` times).
        replications: replications per staffing.
        seed: the seed every staffing was run with (common random numbers).
        note: why the search stopped.
        steps: the accepted steps, in order, as ``("add" | "remove", agents changed)``.
        warnings: intervals met by the mean whose CI straddles the bound, and similar.
        trials: every set of tables simulated, in order.
        confident: whether intervals were judged by their 95 % CI instead of their mean.
    """

    scenario: Scenario
    tables: dict[str, list[int]]
    start: dict[str, list[int]]
    labels: tuple[str, ...]
    interval_min: int
    hours: tuple[float, ...]
    targets: tuple[Target, ...]
    intervals: tuple[IntervalJudgement, ...]
    overall: tuple[Estimate, ...]
    met: bool
    evaluated: int
    replications: int
    seed: int
    note: str
    steps: tuple[tuple[str, int], ...] = ()
    warnings: tuple[str, ...] = ()
    trials: tuple[IntervalTrial, ...] = field(default=(), repr=False)
    confident: bool = False

    def agent_hours(self, group: str | None = None) -> float:
        """Agent-hours scheduled over the run, for one searched group or all of them."""
        groups = self.tables if group is None else {group: self.tables[group]}
        return float(sum(np.dot(counts, self.hours) for counts in groups.values()))

    def start_agent_hours(self) -> float:
        """Agent-hours of the starting tables, all searched groups."""
        return float(sum(np.dot(counts, self.hours) for counts in self.start.values()))

    def scenario_counts(self, group: str) -> list[int]:
        """The group's whole staffing table in the plan's scenario: a day or a week.

        Intervals past the horizon are 0.
        """
        table = self.scenario.agents[group].staffing
        assert table is not None
        return list(table.counts)

    def peak(self, group: str) -> int:
        """The most agents a group has in any interval."""
        return max(self.tables[group], default=0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim optimize --per-interval --json` prints (NaN as null)."""

        def clean(e: Estimate) -> dict[str, float | None]:
            return {k: (v if math.isfinite(v) else None) for k, v in e.as_dict().items()}

        return {
            "scenario": self.scenario.name,
            "per_interval": True,
            "confident": self.confident,
            "replications": self.replications,
            "seed": self.seed,
            "met": self.met,
            "interval_min": self.interval_min,
            "labels": list(self.labels),
            "tables": {g: list(c) for g, c in self.tables.items()},
            "start": {g: list(c) for g, c in self.start.items()},
            "agent_hours": {g: self.agent_hours(g) for g in self.tables},
            "total_agent_hours": self.agent_hours(),
            "start_agent_hours": self.start_agent_hours(),
            "evaluated": self.evaluated,
            "note": self.note,
            "steps": [list(s) for s in self.steps],
            "warnings": list(self.warnings),
            "targets": [
                {
                    "target": str(t),
                    "met": all(j.met),
                    "missed_intervals": [self.labels[k] for k, ok in enumerate(j.met) if not ok],
                    "overall": clean(o),
                    "intervals": [
                        {"interval": self.labels[k], "active": j.active[k], "met": j.met[k], **clean(e)}
                        for k, e in enumerate(j.estimates)
                    ],
                }
                for t, j, o in zip(self.targets, self.intervals, self.overall, strict=True)
            ],
        }


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
    unknown = [str(g) for g in start if g not in names]
    if unknown:
        raise ValueError(
            f"start names {', '.join(unknown)}, not among the groups searched ({', '.join(names)})"
        )
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
    groups: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    max_agents: int = 10_000,
    start: Mapping[str, int | Sequence[int]] | None = None,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
    confident: bool = False,
) -> IntervalPlan:
    """Find the fewest agents per group in every interval such that every target holds there.

    Args:
        scenario_or_experiment: the scenario (a file, dict, `Scenario`, or an
            `Experiment` whose baseline is used).
        targets: e.g. ``["phone.service_level>=0.8"]``; metrics from
            `INTERVAL_CHANNEL_METRICS` and `INTERVAL_GROUP_METRICS`.
        groups: the groups to staff by table (default: every group not on shifts; a group
            named here that works shifts is re-planned as a table); the others keep their
            staffing.
        replications: per staffing; default the scenario's.
        seed: base seed; default the scenario's (common random numbers for every staffing).
        executor: where replications run; default in this process.
        max_agents: the most agents one group may have in one interval.
        start: group → a count for every interval, or one count per table interval,
            instead of the Erlang start.
        progress: called with the number of replications finished.
        on_total: called with the number of replications requested so far, as it grows.
        confident: an interval meets a target only when its whole 95 % CI does (see
            `sim.experiment.optimize.optimize`); needs at least 2 replications.

    Returns:
        The `IntervalPlan`. When the targets cannot be met, `met` is False and `note` says why.

    Raises:
        ValueError: a bad target, group, start, `replications` or `max_agents`.
        ScenarioError: the scenario cannot be loaded.
    """
    if isinstance(scenario_or_experiment, Scenario):
        scenario = scenario_or_experiment
    elif isinstance(scenario_or_experiment, Experiment):
        scenario = scenario_or_experiment.baseline
    else:
        scenario = load_experiment(scenario_or_experiment).baseline
    parsed = parse_targets(targets, scenario)
    names = table_groups(scenario, groups)
    check_interval_targets(parsed, scenario, names)
    n = scenario.replications if replications is None else replications
    check_replications(n, confident)
    if max_agents < 1:
        raise ValueError(f"max_agents must be at least 1, not {max_agents}")
    base_seed = scenario.seed if seed is None else seed
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
    search = _IntervalSearch(
        grid, base, knobs, parsed, n, base_seed, executor or SerialExecutor(), progress, on_total, confident
    )
    x: Vector = tuple(first[g][k] for g in names for k in range(grid.n_knobs))
    current = search.evaluate([x])[0]
    steps: list[tuple[str, int]] = []
    note = ""

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
        for ti, k in current.missed():
            t = parsed[ti]
            if t.scope == "channel":
                g = owner_group(scenario, t.name, names)
                assert g is not None  # checked by check_interval_targets
            elif t.name != OVERALL:
                g = t.name
            else:
                g = max(names, key=lambda h: _occupancy(current, h, k, search))
            room = functools.partial(_has_room, full, where, g)
            adds |= {where[g, j] for j in add_positions(k, stall.get((ti, k), 0), grid, room)}
        if not adds:
            note = f"stopped at max_agents={max_agents} per interval with targets still missed"
            break
        candidate = tuple(v + (i in adds) for i, v in enumerate(x))
        evaluation = search.evaluate([candidate])[0]
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
                evaluation = search.evaluate([candidate])[0]
                if evaluation.all_met:
                    x, current, accepted = candidate, evaluation, True
                    steps.append(("remove", len(trial)))
                    break
                blamed = _blame(evaluation, trial, knobs, names, grid, responsible)
                needed |= blamed
                trial -= blamed
            if not accepted:
                break
        note = "every target met in every interval; removing agents where they remain misses a target"
        if all(v <= k.low for v, k in zip(x, knobs, strict=True)):
            note = "every target met in every interval with no agents in the searched groups"

    tables = {g: [x[where[g, k]] for k in range(grid.n_knobs)] for g in names}
    result = current.result
    overall = tuple(mean_ci(result.values(t.scope, t.name, t.metric)) for t in parsed)
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
        evaluated=len(search.cache),
        replications=n,
        seed=base_seed,
        note=note,
        steps=tuple(steps),
        warnings=_warnings(parsed, current, labels),
        confident=confident,
        trials=tuple(
            IntervalTrial(
                {g: [e.vector[where[g, k]] for k in range(grid.n_knobs)] for g in names},
                e.judgements,
                e.all_met,
                e.shortfall,
            )
            for e in search.cache.values()
        ),
    )


def _has_room(full: set[int], where: Mapping[tuple[str, int], int], group: str, k: int) -> bool:
    return where[group, k] not in full


def _occupancy(evaluation: _Evaluation, group: str, k: int, search: _IntervalSearch) -> float:
    values, _ = interval_values(
        evaluation.result.outputs, Target(group, "occupancy", "<=", 1.0), search.grid, search.threads
    )
    e = mean_ci(values[:, k])
    return -math.inf if math.isnan(e.mean) else e.mean


def _blame(
    evaluation: _Evaluation,
    trial: set[int],
    knobs: Sequence[Knob],
    names: Sequence[str],
    grid: Grid,
    responsible: Callable[[int], list[str]],
) -> set[int]:
    """The removals in `trial` that a failed batch points to.

    For each miss: the trial knobs of the groups its target depends on, in the intervals
    nearest to it (the same interval first); failing those, any trial knobs nearest to it.
    """
    out: set[int] = set()
    for ti, k in evaluation.missed():
        groups = responsible(ti)
        for pool in (groups, names):
            mine = [i for i in trial if knobs[i].label in pool and knobs[i].index is not None]
            if mine:
                nearest = min(grid.distance(knobs[i].index or 0, k) for i in mine)
                out |= {i for i in mine if grid.distance(knobs[i].index or 0, k) == nearest}
                break
    return out or set(trial)


def _warnings(targets: Sequence[Target], evaluation: _Evaluation, labels: Sequence[str]) -> tuple[str, ...]:
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
