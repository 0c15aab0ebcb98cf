"""Observed and simulated service figures per interval of the day, each with a 95 % band.

A back-test sets four figures of a contact log beside the same figures of a simulation:
abandonment, P(wait), ASA and the service level (answered within the target). Each is a
ratio of two tallies — for example abandoned ÷ (answered + abandoned) — counted per day
and per interval of the day (contacts belong to the interval in which they arrived).

**Observed.** The log's figure for an interval is the pooled ratio over its days: the
abandoned of every day ÷ the ended of every day. Its 95 % interval comes from the
day-to-day variation: days are the independent units (a bad Monday makes every one of its
intervals bad together), so the standard error is that of a ratio estimator over days,
``se = sqrt(Σ_d (y_d − R·x_d)² / (n (n − 1))) / x̄`` with Student-t quantiles on n − 1
degrees of freedom (the linearisation, or delta-method, estimator of survey sampling). A
day without a contact in the interval adds nothing to either sum, and still counts as one
of the n days.

**Simulated.** Each replication simulates as many days as the log has and pools them the
same way, so one replication's figure is the simulated counterpart of the observed one;
the replications give the mean and its Student-t 95 % interval (`sim.metrics.stats`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats as _stats

from sim.metrics.stats import Estimate, metric_ci

METRICS: dict[str, str] = {
    "abandon_rate": "abandoned ÷ (answered + abandoned)",
    "p_wait": "contacts that waited at all (wait > 0) ÷ offered",
    "asa_s": "mean wait of answered contacts, seconds (average speed of answer)",
    "service_level": "answered within the target ÷ (answered + abandoned)",
}
"""The back-tested figures and their definitions (the README repeats this table)."""

TALLIES = ("offered", "answered", "abandoned", "within_target", "waited", "wait_sum_s", "judged_open")
"""Counts per day (or replication) and interval that the figures are ratios of."""

_PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "abandon_rate": ("abandoned", ("answered", "abandoned")),
    "p_wait": ("waited", ("offered",)),
    "asa_s": ("wait_sum_s", ("answered",)),
    "service_level": ("within_target", ("answered", "abandoned", "judged_open")),
}
"""Numerator and denominator tallies of each figure (`judged_open` is zero in a log: every
logged contact ended; in a simulation it counts contacts still open at the end of a day
whose service-level outcome is already known, as `sim.records.interval_ratios` does)."""


Tallies = dict[str, NDArray[np.float64]]
"""Tally name → array of counts; the last axis is the interval of the day."""


def ratio_parts(
    tallies: Mapping[str, NDArray[np.float64]], metric: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Numerator and denominator arrays of `metric` from `tallies`."""
    num, dens = _PARTS[metric]
    den = np.zeros_like(tallies[num])
    for key in dens:
        den = den + tallies[key]
    return tallies[num], den


def log_tallies(
    frame: pd.DataFrame, interval_s: float, target_s: NDArray[np.float64] | float
) -> tuple[list[str], Tallies]:
    """Count a contact log's contacts per day and interval of arrival.

    Args:
        frame: one row per contact with `arrived_at` (datetime; its wall-clock date and
            time of day are used), `outcome` (``answered`` or ``abandoned``) and `wait_s`.
        interval_s: the length of an interval (it divides a day).
        target_s: the answer-within target, one for all or one per row.

    Returns:
        The days (ISO dates, in order) and the tallies, each of shape (days, intervals).
    """
    n_iv = round(86_400 / interval_s)
    stamps = pd.DatetimeIndex(frame["arrived_at"])
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    dates = stamps.normalize()
    days = sorted(set(dates))
    day_index = pd.Index(days).get_indexer(dates)
    seconds = (stamps - dates).total_seconds().to_numpy(dtype=np.float64)
    iv = np.minimum((seconds // interval_s).astype(np.int64), n_iv - 1)
    wait = frame["wait_s"].to_numpy(dtype=np.float64)
    outcome = frame["outcome"].astype(str).to_numpy()
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    target = np.broadcast_to(np.asarray(target_s, dtype=np.float64), wait.shape)
    per_contact = {
        "offered": np.ones_like(wait),
        "answered": answered.astype(np.float64),
        "abandoned": abandoned.astype(np.float64),
        "within_target": (answered & (wait <= target)).astype(np.float64),
        "waited": (wait > 0).astype(np.float64),
        "wait_sum_s": np.where(answered, wait, 0.0),
        "judged_open": np.zeros_like(wait),
    }
    flat = day_index * n_iv + iv
    size = len(days) * n_iv
    tallies = {
        key: np.bincount(flat, weights=values, minlength=size).astype(np.float64).reshape(len(days), n_iv)
        for key, values in per_contact.items()
    }
    return [d.date().isoformat() for d in days], tallies


@dataclass(frozen=True)
class Band:
    """An observed figure with its 95 % interval from the day-to-day variation."""

    value: float
    ci_low: float
    ci_high: float
    days: int

    def contains(self, x: float) -> bool:
        """Whether `x` lies inside the interval (False when either is undefined)."""
        return math.isfinite(x) and math.isfinite(self.ci_low) and self.ci_low <= x <= self.ci_high


def ratio_band(num: NDArray[np.float64], den: NDArray[np.float64], level: float = 0.95) -> Band:
    """The pooled ratio Σnum ÷ Σden over days, with its day-clustered Student-t interval.

    Args:
        num: the numerator per day.
        den: the denominator per day.
        level: the confidence level.

    Returns:
        NaN everywhere when the denominator is zero on every day; an unbounded interval
        with fewer than two days.
    """
    n = len(num)
    total = float(np.sum(den))
    if n == 0 or total <= 0:
        return Band(math.nan, math.nan, math.nan, n)
    r = float(np.sum(num)) / total
    if n < 2:
        return Band(r, -math.inf, math.inf, n)
    resid = num - r * den
    se = math.sqrt(float(np.sum(resid * resid)) / (n * (n - 1))) / (total / n)
    half = float(_stats.t.ppf(0.5 + level / 2, n - 1)) * se
    return Band(r, r - half, r + half, n)


def observed_bands(tallies: Mapping[str, NDArray[np.float64]], metric: str) -> tuple[list[Band], Band]:
    """Per interval and for the whole period: the observed `metric` and its band.

    The band is cut to the values the figure can take (a share within [0, 1], a time ≥ 0).

    Args:
        tallies: per day × interval counts (`log_tallies`).
        metric: one of `METRICS`.
    """
    num, den = ratio_parts(tallies, metric)
    top = math.inf if metric == "asa_s" else 1.0
    per_interval = [_clipped(ratio_band(num[:, i], den[:, i]), top) for i in range(num.shape[1])]
    return per_interval, _clipped(ratio_band(num.sum(axis=1), den.sum(axis=1)), top)


def _clipped(band: Band, top: float) -> Band:
    """The band cut to the figure's possible values: [0, 1] for a share, [0, ∞) for a time.

    With fewer than two days the band stays unbounded: one day says nothing of the spread.
    """
    if band.days < 2 or not math.isfinite(band.value):
        return band
    return Band(band.value, max(band.ci_low, 0.0), min(band.ci_high, top), band.days)


def simulated_estimates(
    tallies: Mapping[str, NDArray[np.float64]], metric: str
) -> tuple[list[Estimate], Estimate]:
    """Per interval and for the whole period: the simulated `metric`, mean and 95 % CI.

    Args:
        tallies: per replication × interval counts, each replication pooling as many
            simulated days as the log has.
        metric: one of `METRICS`.
    """
    num, den = ratio_parts(tallies, metric)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_rep = num / den
        whole = num.sum(axis=1) / den.sum(axis=1)
    return [metric_ci(per_rep[:, i], metric) for i in range(per_rep.shape[1])], metric_ci(whole, metric)
