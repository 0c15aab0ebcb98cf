"""The parts of the per-interval search: where to add, what to blame, and simulating a set of tables.

`add_positions` picks where an add step puts agents for a miss and `blame` which removals a
failed batch keeps (steps 2 and 3 in the notes of `sim.planning.intervals.optimize`, which
walks the search); `IntervalSearch` simulates candidate tables on common random numbers and
judges every target in every interval.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.config.schema import Scenario
from sim.config.variants import Experiment
from sim.planning.intervals.grid import Grid, scheduled
from sim.planning.intervals.plan import IntervalTrial
from sim.planning.intervals.targets import IntervalJudgement, check_interval_targets, interval_values, judge
from sim.planning.search import Knob, SearchBase, Vector, check_max_staffings, search_setup, searched_groups
from sim.planning.settings import OptimizeSettings
from sim.planning.targets import Target
from sim.results import RunResult

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
class Evaluation:
    """One staffing vector, simulated and judged against every target in every interval."""

    vector: Vector
    result: RunResult
    judgements: tuple[IntervalJudgement, ...]
    shortfall: float

    @property
    def all_met(self) -> bool:
        """Whether every target holds in every interval."""
        return all(all(j.met) for j in self.judgements)

    def missed(self) -> list[tuple[int, int]]:
        """(target index, table interval) of every miss."""
        return [(i, k) for i, j in enumerate(self.judgements) for k, ok in enumerate(j.met) if not ok]


class IntervalSearch(SearchBase[Evaluation]):
    """The per-interval search: every target judged in every table interval."""

    records = "summary"

    def __init__(self, grid: Grid, *args: Any) -> None:
        super().__init__(*args)
        self.grid = grid
        self.threads = {
            g: 1 if spec.concurrency is None else spec.concurrency.threads
            for g, spec in self.base.agents.items()
        }

    def _judge(self, vector: Vector, result: RunResult) -> Evaluation:
        on_duty = scheduled(result.scenario, self.grid)
        judgements = tuple(
            judge(result.outputs, t, self.grid, self.threads, on_duty, self.confident) for t in self.targets
        )
        return Evaluation(vector, result, judgements, sum(sum(j.shortfall) for j in judgements))

    def try_adding(self, x: Vector, adds: set[int], cap: str) -> tuple[Vector, Evaluation] | str:
        """`x` with one agent more at each knob in `adds`, simulated; or why adding stops.

        Args:
            x: the current staffing.
            adds: the knobs to add one agent to (empty when none has room).
            cap: the bound that leaves no room, as the note names it
                (``"max_agents=3 per interval"``).

        Returns:
            (the new staffing, its evaluation), or the note when no knob has room or the
            new staffing would go past `limit` staffings.
        """
        if not adds:
            return f"stopped at {cap} with targets still missed"
        candidate = tuple(v + (i in adds) for i, v in enumerate(x))
        if self.spent([candidate]):
            return f"stopped after {self.limit} staffings (max_staffings) with targets still missed"
        return candidate, self.evaluate([candidate])[0]

    def trials(self, slots: Mapping[str, Sequence[int]]) -> tuple[IntervalTrial, ...]:
        """Every staffing simulated, in order; group g's counts are the vector at `slots[g]`."""
        return tuple(
            IntervalTrial(
                {g: [e.vector[j] for j in js] for g, js in slots.items()},
                e.judgements,
                e.all_met,
                e.shortfall,
            )
            for e in self.cache.values()
        )


def interval_setup(
    source: str | Path | dict[str, Any] | Scenario | Experiment,
    targets: Iterable[str | Target],
    candidates: Callable[[Scenario, Sequence[str] | None], list[str]],
    settings: OptimizeSettings,
) -> tuple[Scenario, list[Target], int, int, list[str], list[str], int]:
    """What a per-interval search starts from, checked (`search_setup`, then its groups).

    Args:
        source: the scenario or experiment.
        targets: the targets, as given.
        candidates: the groups that may be sized, given the scenario and the groups the
            user named (`settings.groups`, None for the default).
        settings: the search's settings (`max_staffings`, replications, seed and
            `max_agents` checked).

    Returns:
        The scenario, the parsed targets, replications, base seed, the groups searched,
        the groups kept as written and the most staffings to simulate
        (`check_max_staffings`).

    Raises:
        ValueError: a bad target, group, `replications`, `max_agents` or `max_staffings`.
        ScenarioError: the scenario cannot be loaded.
    """
    limit = check_max_staffings(settings.max_staffings)
    scenario, parsed, n, base_seed = search_setup(source, targets, settings)
    groups = settings.groups
    names, kept = searched_groups(scenario, parsed, groups, candidates(scenario, groups))
    check_interval_targets(parsed, scenario, names)
    return scenario, parsed, n, base_seed, names, kept, limit


def has_room(full: set[int], where: Mapping[tuple[str, int], int], group: str, k: int) -> bool:
    """Whether `group` may still change in table interval `k` (it is not among the `full` positions)."""
    return where[group, k] not in full


def busiest_groups(evaluation: Evaluation, groups: Sequence[str], search: IntervalSearch) -> list[str]:
    """Per table interval, the group of `groups` with the highest mean occupancy there."""
    means = []
    for g in groups:
        values, _ = interval_values(
            evaluation.result.outputs, Target(g, "occupancy", "<=", 1.0), search.grid, search.threads
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an interval where nobody was on duty
            means.append(np.nan_to_num(np.nanmean(values, axis=0), nan=-math.inf))
    best = np.argmax(np.array(means), axis=0)  # the first of the busiest, as max() picks
    return [groups[int(i)] for i in best]


def blame(
    evaluation: Evaluation,
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
