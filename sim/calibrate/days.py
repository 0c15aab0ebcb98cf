"""The simulated days of a back-test: each day of a contact log as one run of a scenario.

Every simulated day is one run of the scenario from 00:00 to 24:00, starting empty
(`day_scenario`). As written, each day is the scenario itself; with replay
(`replay_scenarios`) each day gets the log's own arrivals of that day as a trace and the
agents on duty that `staffsim fit` infers from that day's agent activity
(`inferred_staffing`), so that only behaviour comes from the scenario. Replication r of day
d is the task (seed, r·days + d) of `sim.runner.tasks` (`simulate_days`), whatever the
number of worker processes.

A log's contacts belong to scenario channels by name, or — in a scenario written by
`staffsim fit`, one channel per class — by class (`scenario_channels`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.calibrate.aftercall import logged_in_per_day
from sim.calibrate.bands import TALLIES, Tallies
from sim.calibrate.log import ContactLog
from sim.calibrate.staffing import infer_staffing
from sim.config.schema import Arrivals, Scenario, Trace
from sim.config.staffing import StaffingTable
from sim.records import ReplicationOutput
from sim.runner.executors import make_executor
from sim.runner.tasks import Task, run_all

DAY_S = 86_400.0

StaffingFn = Callable[[pd.DataFrame, int], NDArray[np.float64]]
"""Infers on-duty agents per interval of one day's log: (that day's rows, interval
minutes) → one count per interval of the day."""


def inferred_staffing(day: pd.DataFrame, interval_min: int) -> NDArray[np.float64]:
    """Agents on duty per interval of one day's log, as ``staffsim fit --staffing busy`` infers them.

    That is `sim.calibrate.staffing.infer_staffing`: the mean number busy while callers wait.
    """
    return np.asarray(infer_staffing(ContactLog(day), interval_min).means, dtype=np.float64)


def logged_in_staffing(day: pd.DataFrame, interval_min: int) -> NDArray[np.float64]:
    """Agents logged in per interval of one day's log, as ``staffsim fit --staffing logged-in`` infers them."""
    return logged_in_per_day(day, interval_min)


def staffing_for(scenario: Scenario) -> StaffingFn:
    """The staffing inference `staffsim fit` used for a scenario.

    Agents logged in when a channel has after-call work (``wrap_up``, which the fit writes
    only with that staffing), else agents busy while callers wait.
    """
    if any(spec.wrap_up is not None for spec in scenario.channels.values()):
        return logged_in_staffing
    return inferred_staffing


class BacktestError(ValueError):
    """The scenario and the log cannot be back-tested together (the message says why)."""


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
