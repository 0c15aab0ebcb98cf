"""Duration distributions: every family draws with the mean (and spread) its spec asks for.

Samplers are built the way the simulator builds them: a scenario dict goes through
`sim.load_scenario`, and the validated `handle_time` spec goes to `make_sampler`. Sample
means are checked against the spec's mean inside a 99.9 % normal interval computed from
the distribution's own theoretical standard deviation (n is in the hundreds of thousands,
so the CLT applies); sample variances are checked the same way, with the standard error
of a sample variance, sqrt((μ4 − σ⁴)/n), from the theoretical fourth central moment.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

import sim
from sim.model.distributions import BLOCK, Sampler, make_sampler
from tests.builders import mmc

N = 400_000
Z = float(stats.norm.ppf(0.9995))  # two-sided 99.9 %


def _spec(dist: dict[str, Any]) -> Any:
    """The validated distribution spec of a scenario whose phone handle time is `dist`."""
    data = mmc()
    data["channels"]["phone"]["handle_time"] = dist
    return sim.load_scenario(data).channels["phone"].handle_time


def _sampler(dist: dict[str, Any]) -> Sampler:
    return make_sampler(_spec(dist))


def _draws(dist: dict[str, Any], n: int = N, seed: int = 1) -> np.ndarray:
    return _sampler(dist).sample(np.random.default_rng(seed), n)


def _raw_moments(dist: dict[str, Any]) -> list[float]:
    """E[X], E[X²], E[X³], E[X⁴] of a parametric family, from its textbook formulas."""
    family = dist["dist"]
    if family == "exponential":
        m = dist["mean_s"]
        return [math.factorial(k) * m**k for k in range(1, 5)]
    if family == "lognormal":
        m, cv = dist["mean_s"], dist["cv"]
        s2 = math.log1p(cv * cv)
        mu = math.log(m) - s2 / 2
        return [math.exp(k * mu + k * k * s2 / 2) for k in range(1, 5)]
    if family == "gamma":
        m, cv = dist["mean_s"], dist["cv"]
        shape = 1 / cv**2
        scale = m / shape
        return [scale**k * math.exp(gammaln(shape + k) - gammaln(shape)) for k in range(1, 5)]
    if family == "uniform":
        a, b = dist["low_s"], dist["high_s"]
        return [(b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a)) for k in range(1, 5)]
    raise AssertionError(family)


def _mean_var_mu4(dist: dict[str, Any]) -> tuple[float, float, float]:
    m1, m2, m3, m4 = _raw_moments(dist)
    var = m2 - m1 * m1
    mu4 = m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1**4
    return m1, var, mu4


PARAMETRIC = {
    "exponential": {"dist": "exponential", "mean_s": 240.0},
    "lognormal": {"dist": "lognormal", "mean_s": 180.0, "cv": 1.2},
    "gamma_cv_half": {"dist": "gamma", "mean_s": 300.0, "cv": 0.5},
    "gamma_cv_two": {"dist": "gamma", "mean_s": 90.0, "cv": 2.0},
    "uniform": {"dist": "uniform", "low_s": 30.0, "high_s": 90.0},
}


@pytest.mark.parametrize("dist", PARAMETRIC.values(), ids=PARAMETRIC.keys())
def test_sample_mean_matches_spec_mean(dist: dict[str, Any]) -> None:
    """The mean of many draws lies within the 99.9 % CLT interval around the spec's mean."""
    mean, var, _ = _mean_var_mu4(dist)
    x = _draws(dist)
    assert abs(x.mean() - mean) <= Z * math.sqrt(var / N)


@pytest.mark.parametrize("dist", PARAMETRIC.values(), ids=PARAMETRIC.keys())
def test_sample_variance_matches_spec_spread(dist: dict[str, Any]) -> None:
    """The sample variance of many draws matches the variance implied by the spec (its CV)."""
    _, var, mu4 = _mean_var_mu4(dist)
    x = _draws(dist)
    se = math.sqrt((mu4 - var * var) / N)
    assert abs(x.var(ddof=1) - var) <= Z * se


@pytest.mark.parametrize(
    ("dist", "cv"),
    [
        ({"dist": "exponential", "mean_s": 60.0}, 1.0),
        ({"dist": "lognormal", "mean_s": 60.0, "cv": 0.7}, 0.7),
        ({"dist": "gamma", "mean_s": 60.0, "cv": 1.5}, 1.5),
        ({"dist": "uniform", "low_s": 0.0, "high_s": 120.0}, 1 / math.sqrt(3)),
    ],
    ids=["exponential", "lognormal", "gamma", "uniform"],
)
def test_theoretical_cv_of_family_is_the_spec_cv(dist: dict[str, Any], cv: float) -> None:
    """The moments used as the reference above have the CV the spec names (no circularity)."""
    mean, var, _ = _mean_var_mu4(dist)
    assert math.sqrt(var) / mean == pytest.approx(cv, rel=1e-12)


def test_deterministic_draws_are_all_the_mean() -> None:
    """A deterministic duration is always exactly its mean."""
    x = _draws({"dist": "deterministic", "mean_min": 2.5}, n=10_000)
    assert np.all(x == 150.0)


def test_uniform_draws_stay_within_bounds() -> None:
    """Uniform draws never leave [low, high] and reach close to both ends."""
    x = _draws({"dist": "uniform", "low_s": 30.0, "high_s": 90.0})
    assert x.min() >= 30.0 and x.max() <= 90.0
    # P(no draw within 0.01 s of an end) = (1 - 0.01/60)^N ≈ 1e-29.
    assert x.min() < 30.01 and x.max() > 89.99


def test_empirical_inline_values_resampled_uniformly() -> None:
    """Inline empirical values are resampled with equal probability per listed value."""
    values = [10.0, 20.0, 20.0, 35.0, 80.0, 300.0]
    x = _draws({"dist": "empirical", "values": values})
    distinct, expected_share = np.unique(values, return_counts=True)
    assert set(np.unique(x)) <= set(distinct)
    observed = np.array([(x == v).sum() for v in distinct])
    expected = expected_share / len(values) * N
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 <= stats.chi2.ppf(0.999, len(distinct) - 1)


def test_empirical_inline_sample_mean_matches_values_mean() -> None:
    """Resampled inline values average to the mean of the values (CLT, 99.9 %)."""
    values = np.array([10.0, 20.0, 20.0, 35.0, 80.0, 300.0])
    x = _draws({"dist": "empirical", "values": values.tolist()})
    assert abs(x.mean() - values.mean()) <= Z * values.std() / math.sqrt(N)


def test_empirical_from_csv_column_resamples_that_column(tmp_path: Path) -> None:
    """An empirical spec with file + column resamples exactly that column's values."""
    rng = np.random.default_rng(3)
    column = np.round(rng.lognormal(5, 0.8, 500), 3)
    other = column + 1000.0  # a second column that must not be read
    path = tmp_path / "handle.csv"
    lines = ["other,handle_s"] + [f"{o},{v}" for o, v in zip(other, column, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    x = _draws({"dist": "empirical", "file": str(path), "column": "handle_s"})
    assert set(np.unique(x)) <= set(column)
    assert abs(x.mean() - column.mean()) <= Z * column.std() / math.sqrt(N)


def test_empirical_from_csv_sampler_mean_is_column_mean(tmp_path: Path) -> None:
    """`Sampler.mean` of a CSV-backed empirical spec is the mean of the column (times unit)."""
    path = tmp_path / "t.csv"
    path.write_text("minutes\n1.5\n2\n4.5\n", encoding="utf-8")
    sampler = _sampler({"dist": "empirical", "file": str(path), "column": "minutes", "unit": "min"})
    assert sampler.mean == pytest.approx(60 * (1.5 + 2 + 4.5) / 3, rel=1e-12)


@pytest.mark.parametrize(
    "dist",
    [
        {"dist": "exponential", "mean_s": 90.0},
        {"dist": "exponential", "mean_min": 1.5},
        {"dist": "exponential", "mean_h": 0.025},
        {"dist": "lognormal", "mean_min": 1.5, "cv": 1.0},
        {"dist": "gamma", "mean_h": 0.025, "cv": 0.5},
        {"dist": "deterministic", "mean_min": 1.5},
        {"dist": "uniform", "low_min": 0.5, "high_min": 2.5},
        {"dist": "uniform", "low_h": 0.0, "high_h": 0.05},
        {"dist": "empirical", "values": [1.0, 2.0], "unit": "min"},
        {"dist": "empirical", "values": [0.01, 0.04], "unit": "h"},
    ],
    ids=lambda d: "-".join(str(v) for k, v in d.items() if k != "values"),
)
def test_units_convert_to_seconds(dist: dict[str, Any]) -> None:
    """Means given in seconds, minutes or hours all become 90 s, in the spec and the draws."""
    sampler = _sampler(dist)
    assert sampler.mean == pytest.approx(90.0, rel=1e-12)
    x = sampler.sample(np.random.default_rng(11), 200_000)
    # Every family here has a standard deviation of at most 90 s (CV ≤ 1).
    assert abs(x.mean() - 90.0) <= Z * 90.0 / math.sqrt(len(x))


@pytest.mark.parametrize(
    ("dist", "mean"),
    [
        ({"dist": "exponential", "mean_s": 240.0}, 240.0),
        ({"dist": "lognormal", "mean_min": 3.0, "cv": 1.2}, 180.0),
        ({"dist": "gamma", "mean_s": 300.0, "cv": 0.5}, 300.0),
        ({"dist": "deterministic", "mean_h": 0.5}, 1800.0),
        ({"dist": "uniform", "low_s": 30.0, "high_s": 90.0}, 60.0),
        ({"dist": "empirical", "values": [10.0, 20.0, 60.0]}, 30.0),
    ],
    ids=["exponential", "lognormal", "gamma", "deterministic", "uniform", "empirical"],
)
def test_sampler_mean_is_spec_mean(dist: dict[str, Any], mean: float) -> None:
    """`Sampler.mean` equals the mean the spec describes, in seconds."""
    assert _sampler(dist).mean == pytest.approx(mean, rel=1e-12)


def test_stream_hands_out_block_draws_in_order() -> None:
    """`stream` yields the same values, in order, as block draws from the same generator."""
    sampler = _sampler({"dist": "lognormal", "mean_s": 100.0, "cv": 1.0})
    it = sampler.stream(np.random.default_rng(5))
    streamed = np.array([next(it) for _ in range(2 * BLOCK + 10)])
    rng = np.random.default_rng(5)
    blocks = np.concatenate([sampler.sample(rng, BLOCK) for _ in range(3)])
    assert np.array_equal(streamed, blocks[: len(streamed)])
