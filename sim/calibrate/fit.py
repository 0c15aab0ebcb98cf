"""From a centre's contact log to a calibrated scenario (``staffsim fit``).

`fit_log` estimates, for the selected days of the week, per channel and class:

- arrivals per interval of the day with their over-dispersion between days and within the
  day (`sim.calibrate.estimators.fit_arrivals`);
- handle time, empirical with short contacts kept, and by time of day where it differs;
- patience with censoring (Kaplan–Meier, exponential MLE, and a test between them);
- priority between the classes of a channel when their waits differ beyond what the
  busy-ness of their intervals explains;
- after-call work per class, from the agents' gaps between contacts while callers waited,
  when the log has an ``agent`` column (`sim.calibrate.aftercall`);
- agents on duty per interval, never fitted to the outcome figures: with an ``agent``
  column, the agents logged in (`sim.calibrate.aftercall.logged_in_staffing`), else the
  mean number busy while callers waited (`sim.calibrate.staffing`), or read from a roster.

`render_scenario` writes the result as a commented YAML scenario that extends nothing;
`write_scenario` checks that it loads and writes it atomically.

Interface for the back-test (``staffsim backtest``): ``fit_log(log, interval_min, roster)``
returns a `Fit`; ``Fit.staffing`` (a `StaffingFit`: ``counts`` per interval of the day) is
what ``--replay`` needs, and ``infer_staffing(log, interval_min)`` gives it for any slice of
a log (e.g. one week, or one day) without fitting anything else.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.aftercall import (
    MIN_GAPS,
    WrapUpFit,
    after_call_gaps,
    fit_wrap_up,
    has_agents,
    logged_in_staffing,
)
from sim.calibrate.estimators import (
    ArrivalFit,
    HandleFit,
    PatienceFit,
    PriorityFit,
    fit_arrivals,
    fit_handle,
    fit_patience,
    fit_priority,
)
from sim.calibrate.log import DAY_NAMES, ContactLog
from sim.calibrate.staffing import StaffingFit, infer_staffing, read_roster

CLASS_BY = ("class", "priority", "class+priority", "none")
"""What makes a class of a channel: the log's ``class`` column, its ``priority``, both, or nothing."""
MIN_CLASS = 50
"""Classes with fewer contacts over the selected days are pooled into ``other``."""
WIDE_DAYS_CV = 1.0
"""A fitted daily CV above this gets a note: most simulated days are then below the mean
(a gamma of mean 1 and CV 1 is below 1 with probability 1 − 1/e ≈ 0.63, more above it)."""
KINDS = ("phone", "email", "social")
ASSUMED_HANDLE_MIN = 5.0
"""Handle time written, marked as an assumption, for a class whose log has no handle times."""
ASSUMED_OCCUPANCY = 0.8
STAFFING_BY = ("auto", "logged-in", "busy")
"""How agents on duty are inferred: ``logged-in`` (with after-call work; needs an agent
column), ``busy`` (agents talking while callers wait; no after-call work), or ``auto``
(logged-in when the log names its agents, else busy)."""


@dataclass(frozen=True)
class ReplyTimes:
    """First-reply (wait) times of a written channel: what a social log mostly says."""

    median_min: float
    within_60_min: float
    quantiles_min: list[float]
    median_by_hour_min: dict[int, float]


@dataclass(frozen=True)
class ClassFit:
    """Everything fitted for one class of one channel (a channel of the scenario)."""

    key: str
    channel: str
    label: str
    kind: str
    n: int
    arrivals: ArrivalFit
    handle: HandleFit | None
    patience: PatienceFit | None
    abandon_rate: float
    p_wait: float
    asa_s: float
    reply: ReplyTimes | None = None
    wrap_up: WrapUpFit | None = None


@dataclass(frozen=True)
class Fit:
    """A fitted centre: its classes, priorities and staffing, and what it was fitted from."""

    source: str
    days: frozenset[int]
    dates: list[pd.Timestamp]
    interval_min: int
    class_by: str
    classes: list[ClassFit]
    priority: dict[str, PriorityFit]
    staffing: StaffingFit
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    staffing_by: str = "busy"
    """``logged-in`` (agents logged in, with after-call work) or ``busy`` (see `STAFFING_BY`)."""

    @property
    def routing_order(self) -> list[str] | None:
        """Scenario channels in priority order, or None when no channel's classes differ."""
        if not any(p.differ for p in self.priority.values()):
            return None
        order: list[str] = []
        for channel in dict.fromkeys(c.channel for c in self.classes):
            members = {c.label: c.key for c in self.classes if c.channel == channel}
            prio = self.priority.get(channel)
            labels = prio.order if prio is not None and prio.differ else list(members)
            order += [members[label] for label in labels if label in members]
        return order


def _labels(frame: pd.DataFrame, class_by: str) -> pd.Series:
    if class_by == "class":
        return frame["class"].astype(str)
    if class_by == "priority":
        return "p" + frame["priority"].astype(str)
    if class_by == "class+priority":
        return frame["class"].astype(str) + "_p" + frame["priority"].astype(str)
    return frame["channel"].astype(str)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def _reply_times(waits: np.ndarray, hours: np.ndarray) -> ReplyTimes:
    minutes = waits / 60.0
    by_hour = pd.Series(minutes).groupby(hours).median()
    q = np.quantile(minutes, np.linspace(0.1, 0.9, 9))
    return ReplyTimes(
        float(np.median(minutes)),
        float((minutes <= 60).mean()),
        [round(float(v), 2) for v in q],
        {int(str(h)): round(float(v), 2) for h, v in by_hour.items()},
    )


def fit_log(
    log: ContactLog,
    interval_min: int = 30,
    roster: str | Path | None = None,
    class_by: str = "class",
    min_class: int = MIN_CLASS,
    staffing_by: str = "auto",
    wrap_up_by: str = "channel",
) -> Fit:
    """Fit a scenario's figures from a contact log (already restricted to the days wanted).

    Args:
        log: the contacts, e.g. ``read_log(path).on_days("Sun,Mon,Tue,Wed,Thu")``.
        interval_min: 15, 30 or 60: the intervals of the arrival profile and staffing table.
        roster: a roster CSV replacing the inferred staffing (`sim.calibrate.staffing`).
        class_by: one of `CLASS_BY`.
        min_class: classes with fewer contacts are pooled into ``other``.
        staffing_by: one of `STAFFING_BY`.
        wrap_up_by: ``channel`` (one after-call work for all classes of a channel, the
            default: a gap follows the agent's habits as much as the class of the call
            before it, and pooling is the steadier estimate) or ``class`` (each class from
            the gaps after its own contacts).

    Raises:
        ValueError: an empty log, an interval that is not 15, 30 or 60, or an unknown `class_by`.
        LogError: a bad roster file.
    """
    started = time.perf_counter()
    if interval_min not in (15, 30, 60):
        raise ValueError(f"interval_min must be 15, 30 or 60, got {interval_min}")
    if class_by not in CLASS_BY:
        raise ValueError(f"class_by must be one of {', '.join(CLASS_BY)}, got {class_by!r}")
    if staffing_by not in STAFFING_BY:
        raise ValueError(f"staffing_by must be one of {', '.join(STAFFING_BY)}, got {staffing_by!r}")
    if wrap_up_by not in ("class", "channel"):
        raise ValueError(f"wrap_up_by must be class or channel, got {wrap_up_by!r}")
    if staffing_by == "auto":
        staffing_by = "logged-in" if has_agents(log) else "busy"
    elif staffing_by == "logged-in" and not has_agents(log):
        raise ValueError(f"{log.source}: staffing by agents logged in needs the log's agent column")
    if len(log) == 0:
        raise ValueError(f"{log.source}: no contacts on the selected days")
    f = log.frame
    dates = log.dates()
    per_day = 1440 // interval_min
    interval = log.interval_of_day(interval_min).to_numpy()
    day_index = pd.Index(dates).get_indexer(f["arrived_at"].dt.normalize())
    labels = _labels(f, class_by)
    sizes = labels.groupby([f["channel"], labels]).transform("size")
    labels = labels.where(sizes >= min_class, "other")
    cells = pd.Series(day_index * per_day + interval)
    gaps = after_call_gaps(f) if staffing_by == "logged-in" else pd.Series(dtype=np.float64)
    classes: list[ClassFit] = []
    priority: dict[str, PriorityFit] = {}
    notes: list[str] = []
    for channel in sorted(f["channel"].unique()):
        in_channel = (f["channel"] == channel).to_numpy()
        names = sorted(labels[in_channel].unique())
        if len(names) > 1:
            sub = f[in_channel]
            priority[channel] = fit_priority(sub, labels[in_channel], cells[in_channel])
        kind = channel if channel in KINDS else "phone"
        channel_gaps = gaps[gaps.index.isin(f.index[in_channel])]
        for label in names:
            rows = in_channel & (labels == label).to_numpy()
            sub = f[rows]
            counts = np.zeros((len(dates), per_day))
            np.add.at(counts, (day_index[rows], interval[rows]), 1.0)
            answered = (sub["outcome"] == "answered").to_numpy()
            waits = sub["wait_s"].to_numpy()
            abandoned = ~answered
            key = channel if len(names) == 1 else f"{_slug(channel)}_{_slug(label)}"
            reply = None
            if kind != "phone":
                hours = (log.seconds_of_day().to_numpy()[rows] // 3600).astype(int)
                reply = _reply_times(waits[answered], hours[answered]) if answered.any() else None
            wrap = None
            if staffing_by == "logged-in":
                own = gaps[gaps.index.isin(sub.index)]
                if wrap_up_by == "class" and len(own) >= MIN_GAPS:
                    wrap = fit_wrap_up(own, "class")
                elif len(channel_gaps) >= MIN_GAPS:
                    wrap = fit_wrap_up(
                        channel_gaps, "channel" if wrap_up_by == "channel" else "channel, too few"
                    )
                else:
                    wrap = fit_wrap_up(gaps, "log")
            arrivals = fit_arrivals(counts, interval_min)
            if arrivals.daily_cv > WIDE_DAYS_CV:
                notes.append(_wide_days_note(key, arrivals.daily_cv, counts.sum(axis=1), dates))
            classes.append(
                ClassFit(
                    key=key,
                    channel=channel,
                    label=label,
                    kind=kind,
                    n=int(rows.sum()),
                    arrivals=arrivals,
                    handle=fit_handle(sub["handle_s"].to_numpy(), interval[rows], per_day),
                    patience=fit_patience(waits, abandoned) if kind != "email" else None,
                    abandon_rate=float(abandoned.mean()),
                    p_wait=float((waits > 0).mean()),
                    asa_s=float(waits[answered].mean()) if answered.any() else float("nan"),
                    reply=reply,
                    wrap_up=wrap,
                )
            )
    if roster is not None:
        staffing = read_roster(roster, interval_min, dates)
    elif staffing_by == "logged-in":
        staffing = logged_in_staffing(log, interval_min)
    elif f["handle_s"].notna().any():
        staffing = infer_staffing(log, interval_min)
    else:
        staffing = _assumed_staffing(classes, interval_min)
        notes.append("the log has no handle times: staffing is ASSUMED (give --roster FILE)")
    return Fit(
        log.source,
        log.weekdays,
        dates,
        interval_min,
        class_by,
        classes,
        priority,
        staffing,
        time.perf_counter() - started,
        notes,
        staffing_by,
    )


def _wide_days_note(key: str, daily_cv: float, totals: np.ndarray, dates: list[pd.Timestamp]) -> str:
    """A note on a class whose days differ so much that most simulated days are quiet."""
    busiest = int(np.argmax(totals))
    share = float(totals[busiest] / totals.sum())
    return (
        f"{key}: the days differ widely (daily CV {daily_cv:.2f}; {dates[busiest]:%Y-%m-%d} alone has "
        f"{share:.0%} of its contacts), so most simulated days are quieter than the mean and a few far "
        "busier: use many replications (-n), or fit days that are alike (--days)"
    )


def _assumed_staffing(classes: list[ClassFit], interval_min: int) -> StaffingFit:
    """Offered load (arrivals × assumed handle time) ÷ occupancy, per interval: no data, an assumption."""
    load = np.zeros(1440 // interval_min)
    for c in classes:
        handle_s = c.handle.mean_s if c.handle is not None else ASSUMED_HANDLE_MIN * 60
        load += np.asarray(c.arrivals.rates_per_hour) / 3600.0 * handle_s
    means = load / ASSUMED_OCCUPANCY
    counts = [int(np.ceil(m - 1e-9)) for m in means]
    method = (
        f"ASSUMED, not inferred (the log has no handle times): offered load ÷ {ASSUMED_OCCUPANCY:g} "
        "occupancy, rounded up; replace with --roster FILE"
    )
    return StaffingFit(counts, [float(m) for m in means], method, float("nan"))


def days_text(days: frozenset[int]) -> str:
    """The days of the week as names, Monday first (``Mon,Tue,Wed,Thu,Fri``)."""
    return ",".join(DAY_NAMES[d] for d in sorted(days))
