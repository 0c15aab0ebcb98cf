"""Agents on duty per interval of the day, from the log's agent activity or from a roster file.

Inferred from the log (never from the outcome figures a back-test compares): the number of
agents busy at each second is the number of answered contacts in service then (answer =
arrival + wait, for handle_s seconds). In a work-conserving centre, whenever a caller waits
every agent on duty is busy, so the mean number busy over the seconds when someone waits is
the number on duty. Per day and interval it is that mean where callers waited at least
`MIN_WAITING_S` seconds in the interval, else the most agents seen busy at once (a lower
bound: nobody waited, so some of those on duty may have been idle). Per interval of the
day it is the mean over the selected days.

Known biases, all toward fewer agents than the roster says: handle_s holds talk time only,
so agents in after-call work, on breaks or in other tasks do not count (which is what a
simulation whose handle time is handle_s needs: the *effective* capacity); the seconds
when callers wait fall more often where fewer agents are on within the interval; an agent
who idles while callers wait (not work-conserving) is missed; quiet intervals give only
the lower bound.

A roster file (``--roster FILE``) replaces the inference: a CSV with columns ``start``
(``HH:MM``, the interval's start) and ``agents`` (on duty), one row per interval of the
fit's length; an optional ``date`` column (ISO date) gives one roster per day, averaged
over the selected days. Intervals not listed have 0 agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.checks import separator_problem
from sim.calibrate.log import ContactLog, LogError, LogProblem

MIN_WAITING_S = 60
"""Seconds of someone waiting an interval needs before the busy count then is trusted."""
DAY_S = 86_400


@dataclass(frozen=True)
class StaffingFit:
    """Agents on duty per interval of the day.

    Attributes:
        counts: whole agents per interval (the rounded means), for the scenario's table.
        means: the unrounded means over the days.
        method: how they were obtained, in words.
        lower_bound_share: share of (day, interval) cells with activity but too little
            waiting, where the most-busy lower bound was used.
    """

    counts: list[int]
    means: list[float]
    method: str
    lower_bound_share: float


def _level(up: np.ndarray, down: np.ndarray, base: float) -> np.ndarray:
    """How many spans are open at each whole second of the day from `base`.

    `up` and `down` are the spans' sorted starts and ends (whole seconds); a span is open at t
    when start <= t < end.
    """
    steps = np.zeros(DAY_S, dtype=np.int64)
    for times, sign in ((up, 1), (down, -1)):
        lo, hi = np.searchsorted(times, [base, base + DAY_S], side="left")
        steps[0] += sign * int(lo)  # opened (or closed) before the day
        np.add.at(steps, (times[lo:hi] - base).astype(np.int64), sign)
    return np.cumsum(steps)


def infer_staffing(log: ContactLog, interval_min: int) -> StaffingFit:
    """Agents on duty per interval, from the answered contacts' service times (see the module)."""
    f = log.frame
    dates = log.dates()
    if not dates:
        raise ValueError("an empty log has no staffing")
    origin = dates[0]
    arrive = ((f["arrived_at"] - origin).dt.total_seconds().to_numpy()).round()
    wait = f["wait_s"].to_numpy().round()
    answered = (f["outcome"] == "answered").to_numpy() & np.isfinite(f["handle_s"].to_numpy())
    handle = np.nan_to_num(f["handle_s"].to_numpy()).round()
    # whole seconds: a service runs from its start (inclusive) to its end (exclusive), a caller
    # waits from arrival to answer or hang-up; sorted, so that each day is counted on its own
    # and memory follows the contacts and one day, not the log's span
    start = np.sort((arrive + wait)[answered])
    end = np.sort((arrive + wait + handle)[answered])
    joined = np.sort(arrive)
    left = np.sort(arrive + wait)
    length = interval_min * 60
    per_day = DAY_S // length
    cells = np.zeros((len(dates), per_day))
    bounded = active = 0
    for row, day in enumerate(dates):
        base = float((day - origin).days * DAY_S)
        b = _level(start, end, base).reshape(per_day, length)
        w = (_level(joined, left, base) > 0).reshape(per_day, length)
        n_wait = w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_when_waiting = (b * w).sum(axis=1) / n_wait
        most = b.max(axis=1)
        use_mean = n_wait >= MIN_WAITING_S
        cells[row] = np.where(use_mean, mean_when_waiting, most)
        active += int((most > 0).sum())
        bounded += int(((most > 0) & ~use_mean).sum())
    means = cells.mean(axis=0)
    method = (
        f"mean number of agents busy while callers waited (>= {MIN_WAITING_S} s of waiting in the "
        f"interval; else the most busy at once, a lower bound), averaged over {len(dates)} days"
    )
    return StaffingFit(
        [math.floor(float(m) + 0.5) for m in means],
        [float(m) for m in means],
        method,
        bounded / active if active else math.nan,
    )


def read_roster(path: str | Path, interval_min: int, dates: list[pd.Timestamp] | None = None) -> StaffingFit:
    """Agents on duty per interval from a roster CSV (``start``, ``agents``, optional ``date``).

    Raises:
        LogError: a missing file or column, a bad clock time or count, or a start that is not
            on the fit's interval grid.
    """
    source = str(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise LogError(source, [LogProblem(f"file not found: {path}")], "roster") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise LogError(
            source, [LogProblem(f"not a readable CSV file: {str(exc).splitlines()[0]}")], "roster"
        ) from None
    wrong_separator = separator_problem(list(table.columns), "a roster", ("start", "agents"), ("date",))
    if wrong_separator is not None:
        raise LogError(source, [wrong_separator], "roster")
    missing = [c for c in ("start", "agents") if c not in table.columns]
    if missing:
        problems = [LogProblem("missing required column", column=c) for c in missing]
        problems.append(LogProblem(f"the file's columns are {', '.join(table.columns)}"))  # once
        raise LogError(source, problems, "roster")
    problems = []
    length = interval_min * 60
    per_day = DAY_S // length
    slot = np.zeros(len(table), dtype=np.int64)
    agents = np.zeros(len(table))
    for i, (start, count) in enumerate(zip(table["start"], table["agents"], strict=True)):
        hh, _, mm = start.strip().partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            problems.append(LogProblem(f"{start!r}: a clock time HH:MM is needed", row=i + 1, column="start"))
            continue
        seconds = int(hh) * 3600 + int(mm) * 60
        if seconds % length:
            message = f"{start!r} is not the start of a {interval_min}-minute interval"
            problems.append(LogProblem(message, row=i + 1, column="start"))
        slot[i] = seconds // length
        value = pd.to_numeric(count.strip(), errors="coerce")
        if pd.isna(value) or value < 0:
            problems.append(
                LogProblem(f"{count!r}: a number of agents >= 0 is needed", row=i + 1, column="agents")
            )
        else:
            agents[i] = float(value)
    if problems:
        raise LogError(source, problems, "roster")
    if "date" in table.columns:
        day = pd.to_datetime(table["date"], errors="coerce").dt.normalize()
        keep = day.isin(dates) if dates is not None else pd.Series(True, index=table.index)
        grid = pd.DataFrame({"d": day[keep], "s": slot[keep.to_numpy()], "a": agents[keep.to_numpy()]})
        n_days = max(1, grid["d"].nunique())
        means = np.zeros(per_day)
        np.add.at(means, grid["s"].to_numpy(), grid["a"].to_numpy())
        means /= n_days
    else:
        means = np.zeros(per_day)
        np.add.at(means, slot, agents)
    return StaffingFit(
        [math.floor(float(m) + 0.5) for m in means], [float(m) for m in means], f"roster file {source}", 0.0
    )
