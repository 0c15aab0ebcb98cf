"""After-call work and agents logged in, from the agent column of a contact log.

**After-call work.** Each answered contact names its agent. Per agent, the gap between the
end of one contact (answer + handle_s) and the answer of their next one is the time the
agent was not talking. When callers were waiting at the moment the contact ended (one
second after), a work-conserving agent would have taken the next one at once, so the gap
is the agent's after-call work (or a pause) then. `after_call_gaps` keeps those gaps, from
0 to `LONGEST_GAP_S` (longer ones are breaks or the end of a shift, not after-call work);
`fit_wrap_up` turns the gaps after a class's contacts into that class's ``wrap_up``.

Known biases: (+) the queue may empty during the gap, after which the agent idles with
nobody to take, so some gaps are part idle; (+) a waiting caller may be one the agent does
not serve (another skill), though the log does not say who serves what; (+) pauses under
`LONGEST_GAP_S` (coffee, a colleague's question) are counted as after-call work, which is
right for capacity but not for the talk-related work itself; (−) gaps over `LONGEST_GAP_S`
and overlapping calls (negative gaps, a log's clock jitter) are dropped; (−) the last
contact of an agent's day has no gap. Gaps are conditioned on a queue, i.e. measured in
busy moments, where agents may hurry: the wrap-up of quiet moments is not observed.

**Agents logged in.** With after-call work in the model, the head count must be the agents
present, not the agents talking: an agent is logged in from the answer of their first
contact to the end of their last one, pauses under `LONGEST_GAP_S` included (a longer pause
ends a session and starts another); `logged_in_staffing` averages that count per interval
over the days. Biases: (−) time logged in before an agent's first contact and after the end
of their last (including its after-call work) is missed; (+) a pause just under
`LONGEST_GAP_S` is counted as on duty. It is an agent-activity estimate, never fitted to
the waiting or abandonment figures a back-test compares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibrate.log import ContactLog
from sim.calibrate.staffing import StaffingFit

LONGEST_GAP_S = 1800.0
"""Longest gap between an agent's contacts counted as after-call work (and as logged in)."""
MIN_GAPS = 50
"""A class with fewer gaps takes the gaps of its whole channel (then of the whole log)."""
QUANTILES = 200
MAX_OVERLAP = 0.05
"""Share of an agent label's consecutive contacts that may overlap for it to name one person (the
bank's agents: 0.9 %, clock jitter and transfers; a team of two or more under load: most of them)."""
DAY_S = 86_400


def has_agents(log: ContactLog) -> bool:
    """Whether the log names the individual agent of its answered contacts.

    An agent label counts only if it names one person: one whose contacts overlap (the next
    answered more than a second before the previous one ended) in over `MAX_OVERLAP` of the
    consecutive pairs is a team or a queue, and such a log gives no gaps or sessions.
    """
    f = log.frame
    if "agent" not in f or not bool((f["agent"].notna() & (f["outcome"] == "answered")).any()):
        return False
    origin = f["arrived_at"].min().normalize()
    calls = _answered_calls(f, origin)
    previous_end = calls.groupby("agent", sort=False)["end"].shift(1)
    pairs = previous_end.notna()
    if not pairs.any():
        return True
    overlap = (calls["start"] < previous_end - 1.0)[pairs]
    return float(overlap.mean()) <= MAX_OVERLAP


def _answered_calls(frame: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    f = frame[(frame["outcome"] == "answered") & frame["agent"].notna() & frame["handle_s"].notna()]
    start = (f["arrived_at"] - origin).dt.total_seconds().to_numpy() + f["wait_s"].to_numpy()
    calls = pd.DataFrame(
        {"agent": f["agent"].to_numpy(), "start": start, "end": start + f["handle_s"].to_numpy()},
        index=f.index,
    )
    return calls.sort_values(["agent", "start"])


def after_call_gaps(frame: pd.DataFrame, longest_s: float = LONGEST_GAP_S) -> pd.Series:
    """Per answered contact (by the frame's index), the after-call gap kept, in seconds.

    A contact's gap is kept when its agent has a next contact, callers (any) were waiting
    one second after it ended, and 0 <= gap <= `longest_s`; the others are left out.
    """
    if len(frame) == 0 or "agent" not in frame:
        return pd.Series(dtype=np.float64)
    origin = frame["arrived_at"].min().normalize()
    arrive = (frame["arrived_at"] - origin).dt.total_seconds().to_numpy()
    # callers waiting at whole second t: joined at or before t, left (answered or hung up) after
    # it; counted from the sorted times, so memory follows the contacts, not the log's span
    joined = np.sort(arrive.round())
    left = np.sort((arrive + frame["wait_s"].to_numpy()).round())
    calls = _answered_calls(frame, origin)
    following = calls.groupby("agent", sort=False)["start"].shift(-1)
    gap = following - calls["end"]
    at = calls["end"].to_numpy().round() + 1.0
    waiting = np.searchsorted(joined, at, side="right") > np.searchsorted(left, at, side="right")
    keep = gap.notna().to_numpy() & (gap >= 0).to_numpy() & (gap <= longest_s).to_numpy() & waiting
    return gap[keep].astype(np.float64)


@dataclass(frozen=True)
class WrapUpFit:
    """After-call work of one class: the gaps kept, summarised, and as an empirical distribution.

    Attributes:
        n: gaps used.
        mean_s, median_s, p90_s: their mean, median and 90th percentile.
        quantiles: `QUANTILES` values, scaled to keep the sample mean (the scenario's values).
        source: whose gaps they are: ``"class"``, ``"channel"``, ``"channel, too few"`` (the
            class had too few) or ``"log"`` (the channel too).
    """

    n: int
    mean_s: float
    median_s: float
    p90_s: float
    quantiles: list[float]
    source: str


def fit_wrap_up(gaps: pd.Series, source: str) -> WrapUpFit | None:
    """Summarise a class's after-call gaps (None when there are none)."""
    values = gaps.to_numpy(dtype=np.float64)
    if len(values) == 0:
        return None
    q = np.quantile(values, (np.arange(QUANTILES) + 0.5) / QUANTILES)
    if q.mean() > 0:
        q = q * (values.mean() / q.mean())
    return WrapUpFit(
        len(values),
        float(values.mean()),
        float(np.median(values)),
        float(np.quantile(values, 0.9)),
        [round(float(v), 1) for v in q],
        source,
    )


def logged_in_per_day(day: pd.DataFrame, interval_min: int, pause_s: float = LONGEST_GAP_S) -> np.ndarray:
    """Mean agents logged in per interval of one day's log (see the module)."""
    per_day = 1440 // interval_min
    if len(day) == 0 or "agent" not in day:
        return np.zeros(per_day)
    origin = day["arrived_at"].min().normalize()
    calls = _answered_calls(day, origin)
    on = np.zeros(2 * DAY_S + 1)
    for _, c in calls.groupby("agent", sort=False):
        new_session = (c["start"] - c["end"].cummax().shift()).fillna(0.0).gt(pause_s).cumsum()
        sessions = c.groupby(new_session).agg(first=("start", "min"), last=("end", "max"))
        for first, last in zip(sessions["first"], sessions["last"], strict=True):
            lo, hi = round(first), round(min(last, 2 * DAY_S))
            if hi > lo:
                on[lo] += 1
                on[hi] -= 1
    level = np.cumsum(on)[:DAY_S]
    return np.asarray(level.reshape(per_day, -1).mean(axis=1), dtype=np.float64)


def logged_in_staffing(log: ContactLog, interval_min: int, pause_s: float = LONGEST_GAP_S) -> StaffingFit:
    """Agents logged in per interval of the day, the mean over the log's days (see the module)."""
    dates = log.dates()
    if not dates:
        raise ValueError("an empty log has no staffing")
    f = log.frame
    day_of = f["arrived_at"].dt.normalize()
    cells = np.array([logged_in_per_day(f[day_of == d], interval_min, pause_s) for d in dates])
    means = cells.mean(axis=0)
    method = (
        f"mean number of agents logged in (from the answer of an agent's first contact to the end of "
        f"their last, pauses under {pause_s / 60:g} min included), averaged over {len(dates)} days"
    )
    return StaffingFit([math.floor(float(m) + 0.5) for m in means], [float(m) for m in means], method, 0.0)
