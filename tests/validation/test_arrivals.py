"""Arrivals: Poisson counts, daily profiles, day-of-week multipliers, overdispersion, traces.

Counts are read from the simulator's output (`offered`, and the `offered` column of
`RunResult.intervals()`), not from the arrival module alone, so the checks cover the whole
path from the scenario file to the tallies. Every scenario here has many agents and a
one-second handle time, so nobody queues and every arrival is counted in its interval.
Statistical bounds come from the Poisson distribution: a normal interval on a total count,
a chi-square goodness-of-fit statistic over intervals or days, or the chi-square law of
the index of dispersion.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim

Z99 = float(stats.norm.ppf(0.995))


def _scenario(
    arrivals: dict[str, Any], horizon_hours: float, interval_min: int = 30, **top: Any
) -> sim.Scenario:
    data: dict[str, Any] = {
        "name": "arrivals",
        "seed": 7,
        "horizon_hours": horizon_hours,
        "interval_min": interval_min,
        "channels": {
            "phone": {
                "arrivals": arrivals,
                "handle_time": {"dist": "deterministic", "mean_s": 1},
            }
        },
        "agents": {"team": {"count": 50, "skills": ["phone"]}},
    }
    data.update(top)
    return sim.load_scenario(data)


def _counts_by_interval(result: sim.RunResult) -> np.ndarray:
    """Offered per interval, replications × intervals."""
    iv = result.intervals()
    table = iv.pivot(index="replication", columns="interval", values="offered")
    return table.to_numpy(dtype=np.float64)


def _daily_counts(result: sim.RunResult, interval_min: int) -> np.ndarray:
    """Offered per day, replications × days."""
    per_interval = _counts_by_interval(result)
    per_day = 1440 // interval_min
    reps, n = per_interval.shape
    assert n % per_day == 0
    return per_interval.reshape(reps, n // per_day, per_day).sum(axis=2)


def _chi2_gof(observed: np.ndarray, expected: np.ndarray) -> float:
    return float(((observed - expected) ** 2 / expected).sum())


# A day with two peaks; closed 00:00-06:00 and 22:00-24:00, and for lunch 13:00-13:30.
PROFILE_48 = (
    [0.0] * 12
    + [20, 40, 60, 90, 120, 140, 150, 150, 130, 110]  # 06:00-11:00
    + [90, 70, 80, 85, 0.0]  # 11:00-13:30, closed 13:00-13:30
    + [100, 110, 120, 120, 110, 100, 80, 60, 40, 30, 25, 20, 15]  # 13:30-20:00
    + [10, 5, 5, 2]  # 20:00-22:00
    + [0.0] * 4
)
ZERO_48 = [i for i, r in enumerate(PROFILE_48) if r == 0]
PROFILE_24 = [float(PROFILE_48[2 * h] + PROFILE_48[2 * h + 1]) / 2 for h in range(24)]


def test_homogeneous_poisson_count_matches_rate_times_horizon() -> None:
    """A constant rate gives λT arrivals on average (normal 99 % interval on a Poisson total)."""
    reps, rate_h, hours = 20, 300.0, 8.0
    result = sim.run(_scenario({"rate_per_hour": rate_h}, hours), replications=reps, records="none")
    total = result.values("channel", "phone", "offered").sum()
    expected = reps * rate_h * hours
    assert abs(total - expected) <= Z99 * math.sqrt(expected)


@pytest.mark.parametrize(
    ("rate_key", "value", "per_hour"),
    [("rate_per_min", 5.0, 300.0), ("rate_per_day", 7200.0, 300.0)],
)
def test_rate_units_give_the_same_poisson_rate(rate_key: str, value: float, per_hour: float) -> None:
    """rate_per_min and rate_per_day are converted to the same arrival rate as rate_per_hour."""
    reps, hours = 20, 8.0
    result = sim.run(_scenario({rate_key: value}, hours), replications=reps, records="none")
    total = result.values("channel", "phone", "offered").sum()
    expected = reps * per_hour * hours
    assert abs(total - expected) <= Z99 * math.sqrt(expected)


@pytest.mark.parametrize(
    ("interval_min", "rates"), [(30, PROFILE_48), (60, PROFILE_24)], ids=["30min", "60min"]
)
def test_profile_interval_counts_match_profile(interval_min: int, rates: list[float]) -> None:
    """Per-interval arrival counts follow the daily profile (chi-square goodness of fit, 99.9 %)."""
    reps, days = 10, 2
    scenario = _scenario(
        {"profile": {"interval_min": interval_min, "rates_per_hour": rates}}, 24.0 * days, interval_min
    )
    counts = _counts_by_interval(sim.run(scenario, replications=reps))
    per_day = len(rates)
    by_slot = counts.reshape(reps, days, per_day).sum(axis=(0, 1))
    expected = np.asarray(rates) * (interval_min / 60) * reps * days
    open_ = expected > 0
    stat = _chi2_gof(by_slot[open_], expected[open_])
    assert stat <= stats.chi2.ppf(0.999, int(open_.sum()))


def test_zero_rate_intervals_get_no_arrivals() -> None:
    """Intervals whose profile rate is zero (night, lunch, the end of the horizon) stay empty."""
    reps, days = 10, 2
    scenario = _scenario({"profile": {"interval_min": 30, "rates_per_hour": PROFILE_48}}, 24.0 * days)
    counts = _counts_by_interval(sim.run(scenario, replications=reps))
    slots = np.arange(counts.shape[1]) % 48
    closed = np.isin(slots, ZERO_48)
    assert counts[:, closed].sum() == 0
    # The open neighbours of the lunch gap do get arrivals (the test would notice a shift).
    assert counts[:, slots == 25].sum() > 0 and counts[:, slots == 27].sum() > 0


def test_zero_rate_intervals_get_no_arrivals_in_contact_records() -> None:
    """No contact record has an arrival time inside a zero-rate stretch, horizon end included."""
    scenario = _scenario({"profile": {"interval_min": 30, "rates_per_hour": PROFILE_48}}, 48.0)
    contacts = sim.run(scenario, replications=3, records="full").contacts()
    slot = (contacts["arrived_at"].to_numpy() // 1800).astype(int) % 48
    assert len(contacts) > 0
    assert not np.isin(slot, ZERO_48).any()
    assert contacts["arrived_at"].max() < scenario.horizon_s


DOW = [1.0, 0.5, 2.0, 1.0, 1.5, 0.25, 0.0]


@pytest.mark.parametrize(
    "arrivals",
    [
        {"rate_per_hour": 30.0, "day_of_week": DOW},
        {"profile": {"interval_min": 60, "rates_per_hour": [30.0] * 24}, "day_of_week": DOW},
    ],
    ids=["constant", "profile"],
)
def test_day_of_week_multipliers_scale_daily_counts(arrivals: dict[str, Any]) -> None:
    """Daily counts are the base daily volume times each day's multiplier (chi-square, 99.9 %)."""
    reps = 10
    scenario = _scenario(arrivals, 24.0 * 7, interval_min=60)
    daily = _daily_counts(sim.run(scenario, replications=reps), 60).sum(axis=0)
    expected = np.asarray(DOW) * 30.0 * 24 * reps
    busy = expected > 0
    assert daily[~busy].sum() == 0
    assert _chi2_gof(daily[busy], expected[busy]) <= stats.chi2.ppf(0.999, int(busy.sum()))


def _dispersion_stat(daily: np.ndarray) -> tuple[float, int]:
    """Index of dispersion (D−1)·s²/mean: chi-square with D−1 d.f. for iid Poisson counts."""
    x = daily.ravel()
    return float(((x - x.mean()) ** 2).sum() / x.mean()), len(x) - 1


OVERDISPERSED_DAYS = 30
OVERDISPERSED_REPS = 10


def _daily_counts_over_month(arrivals: dict[str, Any]) -> np.ndarray:
    scenario = _scenario(arrivals, 24.0 * OVERDISPERSED_DAYS, interval_min=60)
    return _daily_counts(sim.run(scenario, replications=OVERDISPERSED_REPS, workers=2), 60)


@pytest.mark.parametrize(
    "arrivals",
    [{"rate_per_hour": 10.0}, {"profile": {"interval_min": 60, "rates_per_hour": PROFILE_24}}],
    ids=["constant", "profile"],
)
@pytest.mark.slow
def test_daily_counts_without_overdispersion_are_poisson(arrivals: dict[str, Any]) -> None:
    """Without overdispersion daily counts have variance ≈ mean (two-sided 99 % chi-square)."""
    stat, dof = _dispersion_stat(_daily_counts_over_month(arrivals))
    assert stats.chi2.ppf(0.005, dof) <= stat <= stats.chi2.ppf(0.995, dof)


def test_overdispersion_makes_daily_counts_overdispersed() -> None:
    """With daily_cv 0.3 the variance/mean ratio of daily counts is far above Poisson's 1."""
    daily = _daily_counts_over_month({"rate_per_hour": 10.0, "overdispersion": {"daily_cv": 0.3}})
    stat, dof = _dispersion_stat(daily)
    assert stat > stats.chi2.ppf(0.999, dof)


def test_overdispersion_variance_matches_poisson_gamma_mixture() -> None:
    """Daily counts have the negative-binomial variance μ + cv²μ² of a gamma-mixed Poisson.

    The bound is a normal interval on the sample variance whose standard error uses the
    negative binomial's own excess kurtosis: Var(s²) ≈ σ⁴·(2/(D−1) + κ/D).
    """
    cv, rate_h = 0.3, 10.0
    daily = _daily_counts_over_month({"rate_per_hour": rate_h, "overdispersion": {"daily_cv": cv}}).ravel()
    mu = rate_h * 24
    shape = 1 / cv**2
    var, kurt = (float(v) for v in stats.nbinom(shape, shape / (shape + mu)).stats(moments="vk"))
    assert var == pytest.approx(mu + cv**2 * mu**2)
    d = len(daily)
    se = var * math.sqrt(2 / (d - 1) + kurt / d)
    assert abs(daily.var(ddof=1) - var) <= Z99 * se
    # And the daily mean stays the base volume: the multipliers have mean 1.
    assert abs(daily.mean() - mu) <= Z99 * math.sqrt(var / d)


# --- traces ----------------------------------------------------------------------------


def _trace_scenario(tmp_path: Path, text: str, trace: dict[str, Any], horizon_hours: float) -> sim.Scenario:
    path = tmp_path / "trace.csv"
    path.write_text(text, encoding="utf-8")
    return _scenario({"trace": {"file": str(path), **trace}}, horizon_hours)


def _arrival_times(result: sim.RunResult) -> dict[int, np.ndarray]:
    contacts = result.contacts()
    return {
        int(rep): group.sort_values("contact_id")["arrived_at"].to_numpy()
        for rep, group in contacts.groupby("replication")
    }


def test_trace_replays_file_times_exactly(tmp_path: Path) -> None:
    """A trace without dates replays the file's times, in every replication, dropping those past the horizon."""
    times = [0.0, 12.5, 12.5, 100.25, 3599.0, 3600.0, 7199.75, 7200.0, 9000.0]
    text = "id,t\n" + "".join(f"{i},{t}\n" for i, t in enumerate(times))
    scenario = _trace_scenario(tmp_path, text, {"column": "t"}, horizon_hours=2)
    by_rep = _arrival_times(sim.run(scenario, replications=3, records="full"))
    expected = np.array([t for t in times if t < 7200.0])
    assert sorted(by_rep) == [0, 1, 2]
    for arrived in by_rep.values():
        assert np.array_equal(arrived, expected)


def test_trace_unit_minutes_are_converted(tmp_path: Path) -> None:
    """A trace in minutes is replayed at 60 × the file's values, in seconds."""
    scenario = _trace_scenario(tmp_path, "m\n0.5\n2\n10.25\n", {"column": "m", "unit": "min"}, 1)
    (arrived,) = _arrival_times(sim.run(scenario, replications=1, records="full")).values()
    assert np.array_equal(arrived, [30.0, 120.0, 615.0])


def test_trace_with_day_column_puts_each_date_on_the_next_day(tmp_path: Path) -> None:
    """With day_column, each distinct date is the next simulated day and times are times of day."""
    rows = [
        ("2024-01-01", 100.0),
        ("2024-01-01", 5000.0),
        ("2024-01-02", 50.0),
        ("2024-01-02", 86000.0),
        ("2024-01-05", 10.0),  # a gap in the calendar is still just the next day
    ]
    text = "date,tod\n" + "".join(f"{d},{t}\n" for d, t in rows)
    scenario = _trace_scenario(tmp_path, text, {"column": "tod", "day_column": "date"}, horizon_hours=72)
    (arrived,) = _arrival_times(sim.run(scenario, replications=1, records="full")).values()
    assert np.array_equal(arrived, [100.0, 5000.0, 86_450.0, 172_400.0, 172_810.0])


def test_real_bank_week_trace_offers_every_call(bank_data: Path) -> None:
    """Replaying the Anonymous Bank week (7–13 Feb 1999) over 7 days offers all 7,959 calls."""
    path = bank_data / "anonymous_bank_feb1999_calls_week_0207_0213.csv"
    rows = pd.read_csv(path)
    assert len(rows) == 7959
    scenario = _scenario(
        {"trace": {"file": str(path), "column": "queue_arrival_s_of_day", "day_column": "date"}}, 24.0 * 7
    )
    result = sim.run(scenario, replications=2, records="none")
    assert result.values("channel", "phone", "offered").tolist() == [7959.0, 7959.0]
