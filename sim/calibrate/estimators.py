"""What a contact log says about demand and behaviour: arrivals, handle time, patience, priority.

Each estimator takes the contacts of one class (a `ContactLog` slice, or its frame) and
returns plain figures with the method that produced them, for `sim.calibrate.fit` to write
into a scenario with comments.

- Arrivals: the mean count per interval of the day over the selected days (the profile);
  the between-day and within-day over-dispersion as the coefficients of variation of gamma
  rate multipliers (per day, per interval), estimated by the method of moments from the
  negative-binomial variance of a gamma-mixed Poisson count, Var = m + m²·cv².
- Handle time: the observed handle times of answered contacts, short ones included, as an
  empirical distribution (quantiles), with the lognormal of the same mean and CV beside it;
  a time-of-day multiplier per interval when a Kruskal–Wallis test says handle times differ
  by interval.
- Patience: censored data. An abandoned contact's wait is its patience; an answered
  contact's wait is a lower bound on it (right-censored). The Kaplan–Meier estimate (scipy's
  `ecdf` on `CensoredData`) gives an empirical patience distribution; the exponential
  maximum-likelihood mean is Σ waits ÷ abandons; a likelihood-ratio test against the
  Weibull (which contains the exponential as shape 1) says whether the exponential fits.
- Priority: whether classes wait differently from what the busy-ness of the intervals they
  arrive in explains (an approximate chi-square test stratified by day and interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

QUANTILES = 200
"""Points of an empirical distribution written into a scenario."""
MIN_CELL = 30
"""Answered contacts an interval needs before its own handle-time mean is trusted."""
SIGNIFICANCE = 0.001
"""Level of the tests that decide whether a mechanism goes into the scenario."""


@dataclass(frozen=True)
class ArrivalFit:
    """Arrivals of one class over the selected days.

    Attributes:
        rates_per_hour: mean arrivals per hour in each interval of the day.
        days: days the means are taken over.
        per_day: mean arrivals per day.
        daily_cv: CV of the gamma multiplier per day (0: no more than Poisson between days).
        interval_cv: CV of the gamma multiplier per interval, within the day.
        dispersion_median: median over intervals of the raw variance/mean of the counts
            across days (1 for Poisson), as the log shows it.
    """

    rates_per_hour: list[float]
    days: int
    per_day: float
    daily_cv: float
    interval_cv: float
    dispersion_median: float


def fit_arrivals(counts: NDArray[np.float64], interval_min: int) -> ArrivalFit:
    """Fit the profile and the over-dispersion from counts, days × intervals of the day.

    Model: N[d, i] ~ Poisson(λ[i]·G[d]·H[d, i]), G and H gamma with mean 1 and CVs
    `daily_cv`, `interval_cv`. Within-day: the expected count given the day's level is
    e = λ[i]·N[d]/Σλ; E[(N − e)²] ≈ e + e²·cv_i², so cv_i² = (D/(D−1)·Σ(N − e)² − Σe) / Σe²
    (D/(D−1) for the profile being estimated from the same D days). Between days:
    Var(N[d]) = m + m²·cv_d² + cv_i²·Σλ², solved for cv_d². Negative estimates are 0.
    """
    counts = np.asarray(counts, dtype=np.float64)
    d = counts.shape[0]
    lam = counts.mean(axis=0)
    per_day = float(lam.sum())
    rates = (lam * 60.0 / interval_min).tolist()
    if d < 2 or per_day <= 0:
        return ArrivalFit(rates, d, per_day, 0.0, 0.0, math.nan)
    totals = counts.sum(axis=1)
    expected = np.outer(totals / per_day, lam)
    sq = float(((counts - expected) ** 2).sum()) * d / (d - 1)
    e1, e2 = float(expected.sum()), float((expected**2).sum())
    interval_cv2 = max(0.0, (sq - e1) / e2) if e2 > 0 else 0.0
    daily_cv2 = max(
        0.0, (float(totals.var(ddof=1)) - per_day - interval_cv2 * float((lam**2).sum())) / per_day**2
    )
    active = lam >= 1.0
    ratios = counts[:, active].var(axis=0, ddof=1) / lam[active] if active.any() else np.array([math.nan])
    return ArrivalFit(
        rates, d, per_day, math.sqrt(daily_cv2), math.sqrt(interval_cv2), float(np.median(ratios))
    )


@dataclass(frozen=True)
class HandleFit:
    """Handle times of one class's answered contacts.

    Attributes:
        n: answered contacts with a handle time.
        mean_s: sample mean, seconds.
        cv: sample coefficient of variation.
        short_share: share under 10 s (contacts that found no agent, hung up at once, ...).
        quantiles: `QUANTILES` quantiles, scaled to keep the sample mean (the empirical
            distribution written into the scenario).
        by_interval: multiplier of the mean per interval of the day, or None when handle
            times do not differ by interval (or the log has too few).
        by_interval_p: Kruskal–Wallis p-value of "same distribution in every interval".
    """

    n: int
    mean_s: float
    cv: float
    short_share: float
    quantiles: list[float]
    by_interval: list[float] | None
    by_interval_p: float


def _quantiles(values: NDArray[np.float64], keep_mean: bool = True) -> list[float]:
    q = np.quantile(values, (np.arange(QUANTILES) + 0.5) / QUANTILES)
    if keep_mean and q.mean() > 0:
        q = q * (values.mean() / q.mean())
    return [round(float(v), 2) for v in q]


def fit_handle(
    handle_s: NDArray[np.float64], interval: NDArray[np.int64], n_intervals: int
) -> HandleFit | None:
    """Fit handle times; `interval` is each contact's interval of the day. None without data."""
    ok = np.isfinite(handle_s)
    values, where = handle_s[ok], interval[ok]
    if len(values) == 0 or values.mean() <= 0:
        return None
    mean = float(values.mean())
    cv = float(values.std(ddof=1) / mean) if len(values) > 1 else 0.0
    groups = [values[where == i] for i in range(n_intervals)]
    tested = [g for g in groups if len(g) >= MIN_CELL]
    p = math.nan
    by_interval = None
    if len(tested) >= 2 and float(np.ptp(np.concatenate(tested))) > 0:  # all equal: nothing to test
        p = float(stats.kruskal(*tested).pvalue)
        if p < SIGNIFICANCE:
            # each interval's mean ÷ the overall mean, shrunk toward 1 with a weight of MIN_CELL contacts
            by_interval = [
                round(float((g.sum() / mean + MIN_CELL) / (len(g) + MIN_CELL)), 4) if len(g) else 1.0
                for g in groups
            ]
    return HandleFit(len(values), mean, cv, float((values < 10).mean()), _quantiles(values), by_interval, p)


@dataclass(frozen=True)
class PatienceFit:
    """Patience of one class, from waits with censoring.

    Attributes:
        n: contacts (answered ones are censored at their wait).
        abandoned: contacts that abandoned.
        exp_mean_s: exponential MLE, Σ waits ÷ abandons.
        naive_mean_s: the mean wait of the abandoned contacts alone (biased low: shown to
            say why censoring matters).
        km_median_s: Kaplan–Meier median patience, or None when over half never abandon
            within the longest observed wait.
        km_quantiles: empirical patience distribution from Kaplan–Meier (`QUANTILES`
            values); beyond the longest observed wait, where the data say nothing, the
            exponential tail with the MLE mean.
        weibull_shape: censored Weibull MLE shape (1 = exponential).
        lr_p: p-value of the likelihood-ratio test exponential vs Weibull.
        exponential_fits: True when the test does not reject the exponential.
    """

    n: int
    abandoned: int
    exp_mean_s: float
    naive_mean_s: float
    km_median_s: float | None
    km_quantiles: list[float]
    weibull_shape: float
    lr_p: float
    exponential_fits: bool


_EPS_S = 0.5
"""Waits are logged in whole seconds: a wait of 0 is read as 0.5 s in the likelihoods."""


def fit_patience(wait_s: NDArray[np.float64], abandoned: NDArray[np.bool_]) -> PatienceFit | None:
    """Fit patience from waits (abandoned: event; answered: right-censored). None without abandons."""
    waits = np.maximum(np.asarray(wait_s, dtype=np.float64), _EPS_S)
    gave_up = np.asarray(abandoned, dtype=bool)
    k = int(gave_up.sum())
    if k == 0:
        return None
    mean = float(waits.sum() / k)
    data = stats.CensoredData.right_censored(waits, ~gave_up)
    km = stats.ecdf(data).sf
    times, surv = np.asarray(km.quantiles), np.asarray(km.probabilities)
    below = np.flatnonzero(surv <= 0.5)
    median = float(times[below[0]]) if len(below) else None
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    cdf = 1.0 - surv
    f_max = float(cdf[-1])
    idx = np.minimum(np.searchsorted(cdf, u, side="left"), len(times) - 1)
    values = times[idx].astype(np.float64)
    tail = u > f_max
    if tail.any():
        values[tail] = times[-1] - mean * np.log((1.0 - u[tail]) / max(1.0 - f_max, 1e-12))
    ll_exp = k * math.log(1.0 / mean) - float(waits.sum()) / mean
    shape, _, scale = stats.weibull_min.fit(data, floc=0)
    logpdf = stats.weibull_min.logpdf(waits[gave_up], shape, scale=scale)
    logsf = stats.weibull_min.logsf(waits[~gave_up], shape, scale=scale)
    ll_weib = float(logpdf.sum() + logsf.sum())
    lr = max(0.0, 2.0 * (ll_weib - ll_exp))
    p = float(stats.chi2.sf(lr, 1))
    naive = float(np.asarray(wait_s)[gave_up].mean())
    return PatienceFit(
        len(waits),
        k,
        mean,
        naive,
        median,
        [round(float(v), 2) for v in values],
        float(shape),
        p,
        p >= SIGNIFICANCE,
    )


@dataclass(frozen=True)
class PriorityFit:
    """Whether classes of a channel wait differently than their intervals explain.

    Attributes:
        ratio: per class, contacts that waited ÷ the number expected from the waiting share of
            the (day, interval) cells they arrived in (1: no different from the others).
        p_value: approximate chi-square test of "all ratios 1".
        order: classes from the lowest ratio (served first) to the highest.
        differ: True when the test rejects at `SIGNIFICANCE`: priority routing in that order.
    """

    ratio: dict[str, float]
    p_value: float
    order: list[str]
    differ: bool


def fit_priority(frame: pd.DataFrame, label: pd.Series, cell: pd.Series) -> PriorityFit:
    """Test whether classes (`label`) wait differently within the same cells (`cell`)."""
    waited = (frame["wait_s"].to_numpy() > 0).astype(float)
    share = pd.Series(waited).groupby(cell.to_numpy()).transform("mean").to_numpy()
    parts = pd.DataFrame({"c": label.to_numpy(), "o": waited, "e": share, "v": share * (1 - share)})
    sums = parts.groupby("c")[["o", "e", "v"]].sum()
    ratio = {str(c): float(r.o / r.e) if r.e > 0 else 1.0 for c, r in sums.iterrows()}
    usable = sums[sums.v > 0]
    stat = float(((usable.o - usable.e) ** 2 / usable.v).sum())
    dof = max(1, len(usable) - 1)
    p = float(stats.chi2.sf(stat, dof)) if len(usable) > 1 else 1.0
    order = sorted(ratio, key=lambda c: (ratio[c], c))
    return PriorityFit(ratio, p, order, p < SIGNIFICANCE and len(ratio) > 1)
