"""Model mechanisms a fitted scenario uses: within-day overdispersion, handle time by time of day,
and priority classes within a phone line (classes as channels under `priority` routing).

Each is checked against theory: the negative-binomial variance of a gamma-mixed Poisson count,
the mean of a scaled distribution, and the direction of a priority (the first class never
waits longer than the last), with normal or chi-square bounds at 99 %.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

import sim

Z99 = float(stats.norm.ppf(0.995))


def _scenario(channels: dict[str, Any], horizon_hours: float, agents: int = 60, **top: Any) -> sim.Scenario:
    data: dict[str, Any] = {
        "name": "mechanisms",
        "seed": 11,
        "horizon_hours": horizon_hours,
        "interval_min": 30,
        "channels": channels,
        "agents": {"team": {"count": agents, "skills": list(channels)}},
    }
    data.update(top)
    return sim.load_scenario(data)


def _phone(arrivals: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"phone": {"arrivals": arrivals, "handle_time": {"dist": "deterministic", "mean_s": 1}, **more}}


def _interval_counts(result: sim.RunResult) -> np.ndarray:
    iv = result.intervals()
    return iv.pivot(index="replication", columns="interval", values="offered").to_numpy(dtype=np.float64)


def test_interval_overdispersion_gives_the_negative_binomial_variance() -> None:
    """Half-hour counts at a constant rate with interval_cv have variance μ + cv²μ² (ratio 1 + μ·cv²).

    The bound is a normal interval on the sample variance with the negative binomial's own
    excess kurtosis: Var(s²) ≈ σ⁴·(2/(n−1) + κ/n), over n independent half-hours.
    """
    cv, rate_h = 0.25, 120.0
    arrivals = {"rate_per_hour": rate_h, "overdispersion": {"interval_cv": cv}}
    result = sim.run(_scenario(_phone(arrivals), 24 * 20), replications=2, records="summary")
    counts = _interval_counts(result).ravel()
    mu = rate_h / 2
    shape = 1 / cv**2
    var, kurt = (float(v) for v in stats.nbinom(shape, shape / (shape + mu)).stats(moments="vk"))
    assert var / mu == pytest.approx(1 + mu * cv**2)
    n = len(counts)
    se = var * math.sqrt(2 / (n - 1) + kurt / n)
    assert abs(counts.var(ddof=1) - var) <= Z99 * se, (counts.var(ddof=1) / counts.mean(), var / mu)
    # the multipliers have mean 1: the total is the Poisson–gamma mean, within its own 99 % bound
    assert abs(counts.mean() - mu) <= Z99 * math.sqrt(var / n)


def test_interval_overdispersion_follows_the_profile_intervals() -> None:
    """With a profile, one multiplier per profile interval: hours with a rate keep their mean."""
    rates = [0.0] * 8 + [100.0] * 10 + [0.0] * 6  # 08-18 h
    arrivals = {
        "profile": {"interval_min": 60, "rates_per_hour": rates},
        "overdispersion": {"interval_cv": 0.3},
    }
    result = sim.run(_scenario(_phone(arrivals), 24 * 30, interval_min=60), replications=1, records="summary")
    counts = _interval_counts(result).reshape(30, 24)
    assert counts[:, :8].sum() == 0 and counts[:, 18:].sum() == 0
    busy = counts[:, 8:18].ravel()
    mu, cv = 100.0, 0.3
    var = mu + cv**2 * mu**2
    assert abs(busy.mean() - mu) <= Z99 * math.sqrt(var / len(busy))
    # far above Poisson: the dispersion statistic is beyond the chi-square's 99.9 % point
    assert (busy.var(ddof=1) * (len(busy) - 1) / busy.mean()) > stats.chi2.ppf(0.999, len(busy) - 1)


def test_interval_overdispersion_keeps_common_random_numbers() -> None:
    """Arrival times do not depend on staffing; interval_cv 0 draws exactly as no interval_cv."""
    arrivals = {"rate_per_hour": 200.0, "overdispersion": {"daily_cv": 0.1, "interval_cv": 0.3}}
    channel = {"phone": {"arrivals": arrivals, "handle_time": {"dist": "exponential", "mean_s": 150}}}

    def times(scenario: sim.Scenario) -> np.ndarray:
        contacts = sim.run(scenario, replications=1, records="full").contacts()
        return np.sort(contacts["arrived_at"].to_numpy())

    few, many = (times(_scenario(channel, 24, agents=n)) for n in (6, 12))
    assert np.array_equal(few, many)
    plain = {"rate_per_hour": 200.0, "overdispersion": {"daily_cv": 0.1}}
    zero = {"rate_per_hour": 200.0, "overdispersion": {"daily_cv": 0.1, "interval_cv": 0.0}}
    assert np.array_equal(times(_scenario(_phone(plain), 48)), times(_scenario(_phone(zero), 48)))


def test_handle_time_profile_scales_the_mean_by_time_of_day() -> None:
    """Mornings at ×0.5 and afternoons at ×2 of an exponential mean of 100 s, within 99 % bounds."""
    multipliers = [0.5] * 12 + [2.0] * 12
    channels = {
        "phone": {
            "arrivals": {"rate_per_hour": 60},
            "handle_time": {"dist": "exponential", "mean_s": 100},
            "handle_time_profile": {"interval_min": 60, "multipliers": multipliers},
        }
    }
    contacts = sim.run(_scenario(channels, 24 * 5), replications=1, records="full").contacts()
    hour = (contacts["arrived_at"].to_numpy() % 86_400) // 3600
    handle = contacts["handle_time_s"].to_numpy()
    for part, mult in ((hour < 12, 0.5), (hour >= 12, 2.0)):
        values = handle[part]
        mean = 100 * mult
        assert abs(values.mean() - mean) <= Z99 * mean / math.sqrt(len(values)), (mult, values.mean())


def test_a_handle_time_profile_needs_one_multiplier_per_interval() -> None:
    channels = {
        "phone": {
            "arrivals": {"rate_per_hour": 60},
            "handle_time": {"dist": "exponential", "mean_s": 100},
            "handle_time_profile": {"interval_min": 60, "multipliers": [1.0] * 23},
        }
    }
    with pytest.raises(sim.ScenarioError, match="multipliers needs 24 values"):
        _scenario(channels, 24)


def test_priority_classes_within_a_phone_line() -> None:
    """Two classes of one line as two phone channels under priority routing.

    Against theory: with a preemptive-free priority queue the high class waits less than
    the low class, and total work is conserved, so the pooled mean wait lies between the
    classes' (a direction, not a figure; the gap is many standard errors wide at ρ ≈ 0.9).
    """
    handle = {"dist": "exponential", "mean_s": 120}
    channels = {
        "vip": {"kind": "phone", "arrivals": {"rate_per_hour": 60}, "handle_time": handle},
        "regular": {"kind": "phone", "arrivals": {"rate_per_hour": 210}, "handle_time": handle},
    }
    scenario = _scenario(channels, 24, agents=10, routing={"policy": "priority", "order": ["vip", "regular"]})
    result = sim.run(scenario, replications=8, records="summary")
    vip, regular = (result.estimate(ch, "asa_s") for ch in ("vip", "regular"))
    assert vip.ci_high < regular.ci_low
