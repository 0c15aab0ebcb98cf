"""Across replications: means with Student-t confidence intervals, and paired differences.

Replications are independent, so the mean of a metric over n replications has a Student-t
interval with n − 1 degrees of freedom. A paired difference (variant − baseline, computed
per replication on common random numbers) is treated the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.metrics.student_t import t_quantile


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over replications with its confidence interval."""

    mean: float
    ci_low: float
    ci_high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the width of the interval (inf with fewer than 2 replications)."""
        return (self.ci_high - self.ci_low) / 2

    def as_dict(self) -> dict[str, float]:
        """The mean and interval bounds, as the JSON output shows them."""
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high}


def mean_ci(values: Sequence[float] | np.ndarray, level: float = 0.95) -> Estimate:
    """Mean and Student-t interval of independent replications, ignoring NaN values.

    With one value the interval is unbounded (±inf); with none, everything is NaN.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Estimate(mean, -math.inf, math.inf, 1)
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def paired_ci(
    variant: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray, level: float = 0.95
) -> Estimate:
    """Interval for the mean of per-replication differences `variant − baseline`."""
    v = np.asarray(variant, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if v.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {v.shape} vs {b.shape}")
    return mean_ci(v - b, level)
