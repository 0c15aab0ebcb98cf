"""Back-test a scenario against a contact log: the observed day beside the simulated one.

`backtest` simulates the scenario over as many days as the log holds and sets, per interval
of the day and for the whole period, the log's abandonment, P(wait), ASA and service level
(each with a 95 % band from the day-to-day variation, `sim.calibrate.bands`) beside the
simulated mean and its 95 % CI. It counts the intervals in which the simulated mean lies
inside the observed band, and names those in which it does not.

Every simulated day is one run of the scenario from 00:00 to 24:00, starting empty
(`sim.calibrate.days`); replication r of day d draws its random numbers from streams
(seed, r·days + d), so the numbers are the same whatever the number of worker processes.

With `replay`, the exogenous inputs come from the log itself, day by day: its arrivals are
replayed as a trace (every replication sees the same calls at the same times, on the same
channels), and the staffing per interval is the one inferred from the log's agent activity
(the same inference `staffsim fit` uses). Only behaviour — handle times, patience,
priorities, routing — comes from the scenario: this is the honest test of a fitted model on
days it was not fitted to.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibrate.bands import (
    METRICS,
    Band,
    log_tallies,
    observed_bands,
    simulated_estimates,
)
from sim.calibrate.days import (
    BacktestError,
    StaffingFn,
    day_scenario,
    pooled_channels,
    replay_scenarios,
    scenario_channels,
    simulate_days,
    staffing_for,
)
from sim.config.schema import Scenario
from sim.metrics.stats import Estimate

__all__ = ["Backtest", "BacktestError", "Compared", "backtest"]


@dataclass(frozen=True)
class Compared:
    """One figure in one interval (or the whole period): observed band and simulated estimate."""

    observed: Band
    simulated: Estimate

    @property
    def inside(self) -> bool | None:
        """Whether the simulated mean lies inside the observed band; None if either is undefined."""
        if not (math.isfinite(self.observed.ci_low) and math.isfinite(self.simulated.mean)):
            return None
        return self.observed.contains(self.simulated.mean)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: observed, observed_ci, simulated {mean, ci_low, ci_high}."""
        return {
            "observed": _num(self.observed.value),
            "observed_ci": [_num(self.observed.ci_low), _num(self.observed.ci_high)],
            "simulated": {k: _num(v) for k, v in self.simulated.as_dict().items()},
        }


@dataclass
class Backtest:
    """A back-test's figures, per interval of the day and for the whole period.

    Attributes:
        scenario: the scenario's name.
        days: the log's days that were compared (ISO dates).
        interval_s: the interval length, seconds.
        replications: simulated replications (each as many days as `days`).
        replay: whether arrivals and staffing were replayed from the log.
        overall: metric → figure over the whole period.
        intervals: interval index → metric → figure, for the intervals shown (those in
            the chosen hours in which the log has contacts).
        offered: interval index → contacts the log holds in it (all days).
    """

    scenario: str
    days: list[str]
    interval_s: float
    replications: int
    replay: bool
    overall: dict[str, Compared]
    intervals: dict[int, dict[str, Compared]]
    offered: dict[int, int] = field(default_factory=dict)

    def start(self, index: int) -> str:
        """The clock time (HH:MM) at which interval `index` starts."""
        minutes = round(index * self.interval_s / 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def judged(self, metric: str) -> list[int]:
        """The intervals in which `metric` has both an observed band and a simulated mean."""
        return [i for i, figs in self.intervals.items() if figs[metric].inside is not None]

    def inside_share(self, metric: str) -> float:
        """Share of the judged intervals in which the simulated mean is inside the band."""
        judged = self.judged(metric)
        if not judged:
            return math.nan
        return sum(bool(self.intervals[i][metric].inside) for i in judged) / len(judged)

    def misses(self, metric: str) -> list[str]:
        """Start times of the intervals in which the simulated mean is outside the band."""
        return [self.start(i) for i in self.judged(metric) if self.intervals[i][metric].inside is False]

    def relative_error(self, metric: str) -> float:
        """(simulated − observed) ÷ observed over the whole period."""
        fig = self.overall[metric]
        obs = fig.observed.value
        return (fig.simulated.mean - obs) / obs if obs else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim backtest --json` prints."""
        return {
            "overall": {m: f.as_dict() for m, f in self.overall.items()},
            "intervals": [
                {"start": self.start(i), **{m: f.as_dict() for m, f in figs.items()}}
                for i, figs in self.intervals.items()
            ],
            "inside_share": {m: _num(self.inside_share(m)) for m in METRICS},
        }

    def table(self) -> pd.DataFrame:
        """One row per interval (and a last row `all` for the whole period) × metric."""
        rows = []
        for label, figs in [*((self.start(i), f) for i, f in self.intervals.items()), ("all", self.overall)]:
            for metric, f in figs.items():
                rows.append(
                    {
                        "start": label,
                        "metric": metric,
                        "observed": f.observed.value,
                        "observed_low": f.observed.ci_low,
                        "observed_high": f.observed.ci_high,
                        "simulated": f.simulated.mean,
                        "simulated_low": f.simulated.ci_low,
                        "simulated_high": f.simulated.ci_high,
                        "inside": f.inside,
                    }
                )
        return pd.DataFrame(rows)


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def backtest(
    scenario: Scenario,
    frame: pd.DataFrame,
    *,
    replications: int = 20,
    interval_min: int = 30,
    seed: int | None = None,
    replay: bool = False,
    staffing: StaffingFn | None = None,
    hours: tuple[float, float] | None = None,
    workers: int = 1,
    staffing_min: int | None = None,
) -> Backtest:
    """Simulate `scenario` over the days of a contact log and compare figure by figure.

    Args:
        scenario: the validated scenario.
        frame: the log, one row per contact (columns `arrived_at`, `channel`, `outcome`,
            `wait_s`; see the README's contact-log format), already restricted to the days
            to compare.
        replications: replications of the whole set of days.
        interval_min: 15, 30 or 60.
        seed: base seed; default the scenario's.
        replay: replay the log's arrivals and inferred staffing.
        staffing: the staffing inference for `replay` (default `staffing_for(scenario)`: as
            `staffsim fit` inferred it, agents logged in for a scenario with after-call work).
        hours: (first, end) hour of the day of the intervals shown and judged; default all.
        workers: local processes.
        staffing_min: with `replay`, the length of the intervals the staffing is inferred
            for (15, 30 or 60; default: that of the scenario's staffing table, as `staffsim
            fit` wrote it, else `interval_min`).

    Raises:
        BacktestError: an empty log, an interval length that is not 15, 30 or 60, or a
            scenario that cannot be compared with the log.
    """
    for length in (interval_min, staffing_min or interval_min):
        if length not in (15, 30, 60):
            raise BacktestError(f"the interval must be 15, 30 or 60 minutes, not {length}")
    if len(frame) == 0:
        raise BacktestError("the log holds no contacts on the chosen days")
    interval_s = interval_min * 60.0
    channels = pooled_channels(scenario, scenario_channels(frame, scenario))
    target = scenario.target_s(channels[0])
    days, observed = log_tallies(frame, interval_s, target)
    base_seed = scenario.seed if seed is None else seed
    with tempfile.TemporaryDirectory(prefix="staffsim-replay-") as tmp:
        if replay:
            infer = staffing or staffing_for(scenario)
            if staffing_min is None:
                tables = [g.staffing for g in scenario.agents.values() if g.staffing is not None]
                staffing_min = tables[0].interval_min if tables else interval_min
            scenarios = replay_scenarios(scenario, frame, days, interval_min, Path(tmp), infer, staffing_min)
        else:
            scenarios = [day_scenario(scenario, interval_min)] * len(days)
        simulated = simulate_days(scenarios, channels, replications, base_seed, workers)
    n_iv = observed["offered"].shape[1]
    lo, hi = (0.0, 24.0) if hours is None else hours
    shown = [
        i
        for i in range(n_iv)
        if lo * 3600 <= i * interval_s < hi * 3600 and observed["offered"][:, i].sum() > 0
    ]
    overall: dict[str, Compared] = {}
    per_interval: dict[int, dict[str, Compared]] = {i: {} for i in shown}
    for metric in METRICS:
        bands, whole = observed_bands(observed, metric)
        estimates, sim_whole = simulated_estimates(simulated, metric)
        overall[metric] = Compared(whole, sim_whole)
        for i in shown:
            per_interval[i][metric] = Compared(bands[i], estimates[i])
    return Backtest(
        scenario=scenario.name,
        days=days,
        interval_s=interval_s,
        replications=replications,
        replay=replay,
        overall=overall,
        intervals=per_interval,
        offered={i: int(observed["offered"][:, i].sum()) for i in shown},
    )
