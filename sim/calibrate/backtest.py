"""Back-test a scenario against a contact log: the observed day beside the simulated one.

`backtest` simulates the scenario over as many days as the log holds and sets, per interval
of the day and for the whole period, the log's abandonment, P(wait), ASA and service level
(each with a 95 % band from the day-to-day variation, `sim.calibrate.bands`) beside the
simulated mean and its 95 % CI. It counts the intervals in which the simulated mean lies
inside the observed band, and names those in which it does not.

Every simulated day is one run of the scenario from 00:00 to 24:00, starting empty;
replication r of day d draws its random numbers from streams (seed, r·days + d), so the
numbers are the same whatever the number of worker processes.

With `replay`, the exogenous inputs come from the log itself, day by day: its arrivals are
replayed as a trace (every replication sees the same calls at the same times, on the same
channels), and the staffing per interval is the one inferred from the log's agent activity
(`staffing`, the same function `staffsim fit` uses). Only behaviour — handle times,
patience, priorities, routing — comes from the scenario: this is the honest test of a
fitted model on days it was not fitted to.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.calibrate.bands import (
    METRICS,
    TALLIES,
    Band,
    Tallies,
    log_tallies,
    observed_bands,
    simulated_estimates,
)
from sim.calibrate.log import ContactLog
from sim.calibrate.staffing import infer_staffing
from sim.config.schema import Arrivals, Scenario, Trace
from sim.config.staffing import StaffingTable
from sim.metrics.stats import Estimate
from sim.runner.executors import make_executor
from sim.runner.simulate import ReplicationOutput
from sim.runner.tasks import Task, run_all

DAY_S = 86_400.0

StaffingFn = Callable[[pd.DataFrame, int], NDArray[np.float64]]
"""Infers on-duty agents per interval of one day's log: (that day's rows, interval
minutes) → one count per interval of the day."""


def inferred_staffing(day: pd.DataFrame, interval_min: int) -> NDArray[np.float64]:
    """Agents on duty per interval of one day's log, inferred as `staffsim fit` does.

    That is `sim.calibrate.staffing.infer_staffing`: the mean number busy while callers wait.
    """
    return np.asarray(infer_staffing(ContactLog(day), interval_min).means, dtype=np.float64)


class BacktestError(ValueError):
    """The scenario and the log cannot be back-tested together (the message says why)."""


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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def scenario_channels(frame: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """The scenario channel each logged contact belongs to ("" where none does).

    A contact of log channel ``phone`` belongs to the scenario's channel ``phone``, or — in a
    scenario written by `staffsim fit`, which makes each class of a channel a channel of its
    own — to ``phone_<class>`` (classes by the log's ``class``, by ``p<priority>``, or by
    both, ``<class>_p<priority>``; whichever places the most contacts), or to ``phone_other``
    (the small classes pooled).
    """
    channel = frame["channel"].astype(str)
    cls = frame["class"].astype(str) if "class" in frame else channel
    prio = "p" + (frame["priority"].astype(str) if "priority" in frame else pd.Series("0", index=frame.index))
    known = set(scenario.channels)
    best = pd.Series("", index=frame.index)
    for label in (None, cls, prio, cls + "_" + prio):
        if label is None:
            key = channel
        else:
            key = channel.map(_slug) + "_" + label.map(_slug)
            key = key.where(key.isin(known), channel.map(_slug) + "_other")
        key = key.where(key.isin(known), "")
        if (key != "").sum() > (best != "").sum():
            best = key
    return best


def pooled_channels(scenario: Scenario, mapped: pd.Series) -> list[str]:
    """The scenario's channels compared with the log: those its contacts belong to, else all.

    Raises:
        BacktestError: the compared channels have different answer-within targets.
    """
    named = [c for c in scenario.channels if c in set(mapped)]
    chosen = named or list(scenario.channels)
    targets = {scenario.target_s(c) for c in chosen}
    if len(targets) > 1:
        raise BacktestError(
            f"the channels {', '.join(chosen)} have different answer-within targets "
            f"({', '.join(f'{t:g} s' for t in sorted(targets))}); back-test them one at a time"
        )
    return chosen


def day_scenario(scenario: Scenario, interval_min: int) -> Scenario:
    """The scenario as one day, 00:00 to 24:00, starting empty, with the given intervals."""
    return scenario.model_copy(
        update={"horizon_hours": 24.0, "warmup_hours": 0.0, "interval_min": interval_min}
    )


def replay_scenarios(
    scenario: Scenario,
    frame: pd.DataFrame,
    days: Sequence[str],
    interval_min: int,
    folder: Path,
    staffing: StaffingFn,
    staffing_min: int | None = None,
) -> list[Scenario]:
    """One scenario per log day, with that day's arrivals as a trace and its staffing.

    Arrivals of a log channel that the scenario names are replayed on that channel; the
    traces are written into `folder`, which must outlive the runs. The inferred staffing,
    per interval of `staffing_min` minutes (default: `interval_min`), rounded to whole
    agents, replaces the head count of the scenario's only agent group.

    Raises:
        BacktestError: the scenario has several agent groups, or the log names no channel
            of the scenario.
    """
    if len(scenario.agents) != 1:
        raise BacktestError(
            f"--replay infers one head count per interval, but the scenario has {len(scenario.agents)} "
            f"agent groups ({', '.join(scenario.agents)}); give a scenario with one group"
        )
    mapped = scenario_channels(frame, scenario)
    if (mapped == "").any():
        lost = frame[(mapped == "").to_numpy()]
        kinds = sorted(set(lost["channel"].astype(str) + "/" + lost["class"].astype(str)))
        raise BacktestError(
            f"--replay: {len(lost):,} contacts of the log ({', '.join(kinds[:8])}) belong to no channel of "
            f"the scenario ({', '.join(scenario.channels)}); back-test a scenario fitted to this kind of log"
        )
    base = day_scenario(scenario, interval_min)
    ((group_name, group),) = scenario.agents.items()
    stamps = pd.DatetimeIndex(frame["arrived_at"])
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    dates = np.asarray([d.isoformat() for d in stamps.date])
    seconds = (stamps - stamps.normalize()).total_seconds().to_numpy(dtype=np.float64)
    out = []
    for d, day in enumerate(days):
        on_day = dates == day
        channels = {}
        for name, channel in base.channels.items():
            times = np.sort(seconds[on_day & (mapped.to_numpy() == name)])
            path = folder / f"day{d:03d}_{name}.csv"
            pd.DataFrame({"t": times}).to_csv(path, index=False)
            if len(times) == 0:
                # An empty trace is not a valid file: a far-future time stands for "no calls".
                pd.DataFrame({"t": [10 * DAY_S]}).to_csv(path, index=False)
            arrivals = Arrivals(trace=Trace(file=str(path), column="t"))
            channels[name] = channel.model_copy(update={"arrivals": arrivals})
        step = staffing_min or interval_min
        counts = np.asarray(staffing(frame[on_day], step), dtype=np.float64)
        table = StaffingTable(interval_min=step, counts=[max(0, round(c)) for c in counts])
        agents = {
            group_name: group.model_copy(
                update={"count": None, "shifts": None, "staffing": table, "shrinkage": 0.0}
            )
        }
        out.append(base.model_copy(update={"channels": channels, "agents": agents}))
    return out


def _pooled(out: ReplicationOutput, channels: Sequence[str]) -> dict[str, NDArray[np.float64]]:
    """One replication's interval tallies, summed over the pooled channels."""
    assert out.intervals is not None
    names = out.intervals["channels"]
    tallies = out.intervals["tallies"]
    n_iv = len(tallies["offered"]) // len(names)
    rows = [names.index(c) for c in channels]
    return {
        key: np.asarray(tallies[key], dtype=np.float64).reshape(len(names), n_iv)[rows].sum(axis=0)
        for key in TALLIES
    }


def simulate_days(
    scenarios: Sequence[Scenario],
    channels: Sequence[str],
    replications: int,
    seed: int,
    workers: int = 1,
) -> Tallies:
    """Per replication and interval, the tallies of the pooled channels over all days.

    Replication r of day d is the task (seed, r·days + d) of `sim.runner.tasks`, so the
    numbers do not depend on `workers`.

    Args:
        scenarios: one scenario per simulated day (one day long each).
        channels: the channels whose contacts are counted.
        replications: how many replications of the whole set of days.
        seed: the base seed.
        workers: local processes.

    Returns:
        Tally name → array of shape (replications, intervals of a day).
    """
    days = len(scenarios)
    tasks = [
        Task(f"r{r}d{d}", scenarios[d], seed, r * days + d, "summary")
        for r in range(replications)
        for d in range(days)
    ]
    executor = make_executor(workers)
    try:
        outputs = run_all(tasks, executor)
    finally:
        executor.close()
    n_iv = round(DAY_S / (scenarios[0].interval_min * 60))
    total = {key: np.zeros((replications, n_iv)) for key in TALLIES}
    for task in tasks:
        pooled = _pooled(outputs[task.name], channels)
        r = task.replication // days
        for key in TALLIES:
            total[key][r] += pooled[key][:n_iv]
    return total


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
        staffing: the staffing inference for `replay` (default `inferred_staffing`).
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
            infer = staffing or inferred_staffing
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
