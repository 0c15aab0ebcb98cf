"""Across replications: means with confidence intervals that respect a metric's range, and paired differences.

Replications are independent, so the mean of a metric over n replications has a Student-t
interval with n − 1 degrees of freedom: mean ± t · s/√n. That interval is symmetric and can
leave the metric's range — a service level of 3 % [−11 %, 18 %], an ASA of 0.9 s
[−0.2, 2.0] — so figures with a bounded range get the same t interval computed on a scale
where the bound is out of reach, and mapped back (the delta method):

- **proportions** (`PROPORTIONS`: service level, P(wait), abandonment, occupancy, FCR,
  resolution rate, CSAT) on the logit scale: with mean m and standard error e = s/√n,
  expit(logit(m) ± t · e / (m(1 − m))); the interval lies inside (0, 1), is asymmetric near
  the bounds, and matches the plain t interval when m is near one half and n is large;
- **non-negative figures** (`NON_NEGATIVE`: counts, times, queue lengths, agents, costs) on
  the log scale: m · exp(± t · e / m); the interval stays above 0.

A mean of exactly 0 (or 1 for a proportion) comes from replications that all agree on the
bound: its interval is that single point, as is any interval with zero spread. One
replication gives no interval (NaN, null in JSON). Paired
differences (variant − baseline, per replication on common random numbers) are real
numbers and keep the plain t interval, cut to [−1, 1] for proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from sim.metrics.contacts import NON_NEGATIVE, PROPORTIONS
from sim.metrics.student_t import t_quantile

Scale = Literal["real", "proportion", "non_negative"]
"""Which range a figure's interval must respect."""


def scale_of(metric: str) -> Scale:
    """The range of a metric by its name: a proportion, a non-negative figure, or any real."""
    if metric in PROPORTIONS:
        return "proportion"
    if metric in NON_NEGATIVE or metric.endswith("_s") or metric.endswith("_hours"):
        return "non_negative"
    return "real"


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with its confidence interval."""

    mean: float
    ci_low: float
    ci_high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the width of the interval (NaN with fewer than 2 replications)."""
        return (self.ci_high - self.ci_low) / 2

    def as_dict(self) -> dict[str, float]:
        """The mean and interval bounds, as the JSON output shows them."""
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high}


def bounded_ci(
    mean: NDArray[np.float64],
    sd: NDArray[np.float64],
    n: NDArray[np.float64],
    scale: Scale = "real",
    level: float = 0.95,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Interval ends for means with standard deviations `sd` over `n` replications (arrays).

    See the module notes for the scales. NaN means give NaN ends; n = 1 gives NaN (no interval).
    """
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(sd, dtype=np.float64)
    k = np.asarray(n, dtype=np.float64)
    low_bound, high_bound = {
        "real": (-np.inf, np.inf),
        "proportion": (0.0, 1.0),
        "non_negative": (0.0, np.inf),
    }[scale]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        quantiles = {int(d): t_quantile(0.5 + level / 2, int(d)) for d in np.unique(k[k > 1] - 1)}
        t = np.array([quantiles.get(int(d), np.nan) for d in (k - 1).ravel()]).reshape(k.shape)
        half = t * s / np.sqrt(k)
        if scale == "real":
            lo, hi = m - half, m + half
        elif scale == "proportion":
            inside = (m > 0) & (m < 1)
            mc = np.clip(m, 1e-300, 1 - 1e-16)
            centre = np.log(mc / (1 - mc))
            width = half / (mc * (1 - mc))
            lo = np.where(inside, 1 / (1 + np.exp(-(centre - width))), m)
            hi = np.where(inside, 1 / (1 + np.exp(-(centre + width))), m)
        else:
            inside = m > 0
            mc = np.where(inside, m, 1.0)
            lo = np.where(inside, mc * np.exp(-half / mc), m)
            hi = np.where(inside, mc * np.exp(half / mc), m)
        spread = s > 0
        lo = np.where(spread | (k <= 1), lo, m)
        hi = np.where(spread | (k <= 1), hi, m)
        if scale != "real":
            lo = np.clip(lo, low_bound, high_bound)
            hi = np.clip(hi, low_bound, high_bound)
    nan = np.isnan(m) | (k <= 1)
    return np.where(nan, np.nan, lo), np.where(nan, np.nan, hi)


def mean_ci(values: Sequence[float] | np.ndarray, level: float = 0.95, scale: Scale = "real") -> Estimate:
    """Mean and confidence interval of independent replications, ignoring NaN values.

    Args:
        values: one figure per replication.
        level: confidence level.
        scale: the figure's range (`scale_of` gives it for a metric name); the interval
            stays inside it (see the module notes).

    With one value the interval is undefined (NaN, and null in JSON); with none, everything
    is NaN.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    lo, hi = bounded_ci(np.array([mean]), np.array([sd]), np.array([float(n)]), scale, level)
    return Estimate(mean, float(lo[0]), float(hi[0]), n)


def metric_ci(values: Sequence[float] | np.ndarray, metric: str, level: float = 0.95) -> Estimate:
    """`mean_ci` on the scale of `metric` (see `scale_of`)."""
    return mean_ci(values, level, scale_of(metric))


def paired_ci(
    variant: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    level: float = 0.95,
    metric: str | None = None,
) -> Estimate:
    """Student-t interval for the mean of per-replication differences `variant − baseline`.

    The difference of two proportions lies in [−1, 1]: for a proportion `metric` the
    interval's ends are cut there (a few replications can give a t interval of a service
    level's change of −119 pp; the cut removes only values no difference can take, so the
    interval covers the true difference as often as before).
    """
    v = np.asarray(variant, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if v.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {v.shape} vs {b.shape}")
    est = mean_ci(v - b, level)
    if metric is not None and scale_of(metric) == "proportion" and est.n > 1:
        return Estimate(est.mean, max(est.ci_low, -1.0), min(est.ci_high, 1.0), est.n)
    return est
