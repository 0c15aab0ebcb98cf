"""What the head-count search returns: a `Plan`, with a `Trial` per staffing and a `TargetResult` per target.

`sim.planning.headcount.optimize` builds them; the per-interval search's result is in
`sim.planning.intervals.plan`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.config.schema import Scenario
from sim.metrics.stats import Estimate
from sim.planning.targets import Target


@dataclass(frozen=True)
class TargetResult:
    """A target and the mean [95 % CI] achieved on it."""

    target: Target
    estimate: Estimate
    met: bool

    def to_dict(self) -> dict[str, Any]:
        """``{"target", "mean", "ci_low", "ci_high", "met"}`` (NaN and ±inf as null)."""
        return {"target": str(self.target), **_clean(self.estimate.as_dict()), "met": self.met}


@dataclass(frozen=True)
class Trial:
    """One staffing the search simulated, in the order it was simulated.

    Attributes:
        counts: searched group → agents.
        targets: each target's mean [95 % CI] there.
        met: whether every target was met.
        shortfall: the total relative shortfall (see `Target.shortfall`).
    """

    counts: dict[str, int]
    targets: tuple[TargetResult, ...]
    met: bool
    shortfall: float

    def to_dict(self) -> dict[str, Any]:
        """The trial as plain JSON values."""
        return {
            "agents": dict(self.counts),
            "met": self.met,
            "shortfall": self.shortfall if math.isfinite(self.shortfall) else None,
            "targets": [r.to_dict() for r in self.targets],
        }


@dataclass(frozen=True)
class Plan:
    """The staffing the optimiser found, and what it achieves.

    Attributes:
        scenario: the scenario with the plan's staffing (run it with `sim.run`).
        counts: group → agents in the plan, for every group with a `count` (the groups
            not searched keep theirs).
        start: group → where the search started: the analytic (Erlang) staffing for the
            searched groups unless `start=` was given; the fixed count for the others.
        searched: the groups whose counts the search could change.
        targets: each target with the achieved mean [95 % CI] and whether it is met.
        channels: channel → metric → estimate at the plan.
        groups: group (and ``"overall"``) → metric → estimate at the plan.
        met: whether every target is met (by the mean over replications, or with
            `confident` by its whole 95 % CI).
        evaluated: staffing vectors simulated (each `replications` times).
        replications: replications per staffing vector.
        seed: the seed every vector was run with (common random numbers).
        note: why the search stopped.
        moves: the accepted steps, in order, as ``("add" | "remove", group)``.
        trials: every staffing simulated, in order.
        warnings: things about the plan a planner should check (e.g. a group busy nearly
            all the time, whose queue grows over the horizon: means over a finite run then
            flatter it).
        confident: whether targets were judged by their 95 % CI instead of their mean.
    """

    scenario: Scenario
    counts: dict[str, int]
    start: dict[str, int]
    searched: tuple[str, ...]
    targets: tuple[TargetResult, ...]
    channels: dict[str, dict[str, Estimate]]
    groups: dict[str, dict[str, Estimate]]
    met: bool
    evaluated: int
    replications: int
    seed: int
    note: str
    moves: tuple[tuple[str, str], ...] = ()
    trials: tuple[Trial, ...] = field(default=(), repr=False)
    warnings: tuple[str, ...] = ()
    confident: bool = False

    @property
    def total_agents(self) -> int:
        """Agents in the plan, over the groups in `counts`."""
        return sum(self.counts.values())

    def trial(self, **counts: int) -> Trial | None:
        """The trial with these searched-group counts, if the search simulated it."""
        for t in self.trials:
            if t.counts == counts:
                return t
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim optimize --json` prints (NaN and ±inf as null)."""
        return {
            "scenario": self.scenario.name,
            "replications": self.replications,
            "seed": self.seed,
            "met": self.met,
            "confident": self.confident,
            "agents": dict(self.counts),
            "total_agents": self.total_agents,
            "start": dict(self.start),
            "start_total": sum(self.start.values()),
            "searched": list(self.searched),
            "evaluated": self.evaluated,
            "note": self.note,
            "moves": [list(m) for m in self.moves],
            "warnings": list(self.warnings),
            "targets": [r.to_dict() for r in self.targets],
            "channels": {
                ch: {m: _clean(e.as_dict()) for m, e in metrics.items()}
                for ch, metrics in self.channels.items()
            },
            "groups": {
                g: {m: _clean(e.as_dict()) for m, e in metrics.items()} for g, metrics in self.groups.items()
            },
            "trials": [t.to_dict() for t in self.trials],
        }


def _clean(d: Mapping[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in d.items()}
