"""The per-interval staffing table's grid: how a run's intervals map onto a day's or a week's table.

`Grid` and `table_grid` lay the table out (see the notes in
`sim.planning.intervals.optimize`), `interval_rates` gives a channel's mean arrival rate in
each table interval, and `scheduled` the agents each group has scheduled there. Judging
targets on the grid is in `sim.planning.intervals.targets`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.config.files import read_trace
from sim.config.schema import Scenario
from sim.model.arrivals import ArrivalSource
from sim.model.roster import roster

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
    """The table for `scenario`: daily, or weekly when days differ (see the notes in `optimize_intervals`)."""
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
