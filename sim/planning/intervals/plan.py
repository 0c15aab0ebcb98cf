"""What the per-interval search returns: an `IntervalPlan`, with an `IntervalTrial` per set of tables.

`sim.planning.intervals.optimize.optimize_intervals` builds them; the head-count search's
result is in `sim.planning.plan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.config.schema import Scenario
from sim.metrics.stats import Estimate
from sim.model.distributions import make_sampler
from sim.planning.intervals.grid import interval_rates, table_grid
from sim.planning.intervals.targets import IntervalJudgement, targets_json
from sim.planning.targets import Target


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


@dataclass(frozen=True, kw_only=True)
class IntervalJudgedPlan:
    """What a search that judges every target in every table interval found, and why it stopped.

    The per-interval plan (`IntervalPlan`) and the shift plan
    (`sim.planning.shifts.ShiftPlan`) carry these, each with its own staffing.

    Attributes:
        scenario: the scenario with the plan's staffing (run it with `sim.run`).
        labels: each table interval's start, ``08:30`` or ``Tue 08:30``.
        targets: the targets, each judged in every interval.
        intervals: per target (same order), its judgement in every table interval.
        overall: per target, the mean [95 % CI] over the whole run (for reference; the
            search judges intervals).
        met: whether every target holds in every interval.
        evaluated: staffings simulated (each `replications` times).
        replications: replications per staffing.
        seed: the seed every staffing was run with (common random numbers).
        note: why the search stopped.
        steps: the accepted steps, in order, as ``("add" | "remove", agents changed)``.
        confident: whether intervals were judged by their 95 % CI instead of their mean.
        warnings: groups kept as written because no target depends on them, channels the
            plan leaves with no agents, and (per interval) targets met by the mean whose CI
            straddles the bound.
        trials: every staffing simulated, in order (a shift plan's `IntervalTrial.tables`
            hold the counts per shift).
    """

    scenario: Scenario
    labels: tuple[str, ...]
    targets: tuple[Target, ...]
    intervals: tuple[IntervalJudgement, ...]
    overall: tuple[Estimate, ...]
    met: bool
    evaluated: int
    replications: int
    seed: int
    note: str
    steps: tuple[tuple[str, int], ...] = ()
    confident: bool = False
    warnings: tuple[str, ...] = ()
    trials: tuple[IntervalTrial, ...] = field(default=(), repr=False)

    def json_head(self, kind: str) -> dict[str, Any]:
        """The keys a plan's JSON object opens with: the scenario, ``kind: true``, how it was run, met.

        Args:
            kind: the key that says what was sized (``"per_interval"``, ``"shifts_searched"``).
        """
        return {
            "scenario": self.scenario.name,
            kind: True,
            "confident": self.confident,
            "replications": self.replications,
            "seed": self.seed,
            "met": self.met,
        }


@dataclass(frozen=True, kw_only=True)
class IntervalPlan(IntervalJudgedPlan):
    """The staffing tables the per-interval search found, and what they achieve.

    Attributes (besides those of `IntervalJudgedPlan`):
        tables: searched group → head count per table interval (`labels`).
        start: searched group → the per-interval Erlang start (or the `start=` given).
        interval_min: table interval length, minutes.
        hours: hours of the run in each table interval (one agent there costs this many
            agent-hours).
    """

    tables: dict[str, list[int]]
    start: dict[str, list[int]]
    interval_min: int
    hours: tuple[float, ...]

    def offered_load(self) -> dict[str, NDArray[np.float64]]:
        """Per channel a searched group serves: mean arrival rate × mean handle time (Erlangs), per table interval."""
        scenario = self.scenario
        grid = table_grid(scenario)
        served = {ch for g in self.tables for ch in scenario.agents[g].skills}
        out = {}
        for channel, spec in scenario.channels.items():
            if channel in served:
                rates = interval_rates(scenario, channel, grid)[: len(self.labels)]
                out[channel] = rates * make_sampler(spec.handle_time).mean
        return out

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
        return {
            **self.json_head("per_interval"),
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
            "targets": targets_json(self.targets, self.intervals, self.overall, self.labels),
        }
