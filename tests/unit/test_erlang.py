"""Tests for the analytic Erlang B / C / A formulas in ``sim.analytic``."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import expm
from scipy.stats import poisson

from sim.analytic import (
    ErlangAResult,
    beta_for_service_level,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_service_level,
    min_agents_erlang_a,
    min_agents_erlang_c,
    sqrt_staffing,
)

# --------------------------------------------------------------------------------------
# Erlang B
# --------------------------------------------------------------------------------------


def test_erlang_b_matches_published_table_value() -> None:
    """B(c=10, a=5) is tabulated as 0.018384 in standard Erlang B tables."""
    assert erlang_b(10, 5.0) == pytest.approx(0.018384, abs=1e-6)


def test_erlang_b_matches_closed_form_for_one_and_two_servers() -> None:
    """B(1, a) = a/(1+a) and B(2, a) = (a²/2)/(1 + a + a²/2)."""
    for a in (0.1, 1.0, 3.7):
        assert erlang_b(1, a) == pytest.approx(a / (1 + a), rel=1e-14)
        assert erlang_b(2, a) == pytest.approx((a * a / 2) / (1 + a + a * a / 2), rel=1e-14)


def test_erlang_b_is_stable_for_ten_thousand_servers() -> None:
    """The recursion works at c = 10,000 and matches Jagerman's B(c, c) ≈ 1/(√(πc/2) + 2/3)."""
    c = 10_000
    expected = 1.0 / (math.sqrt(math.pi * c / 2.0) + 2.0 / 3.0)
    assert erlang_b(c, float(c)) == pytest.approx(expected, rel=1e-4)
    assert 0.0 <= erlang_b(c, 9_000.0) < 1e-12


def test_erlang_b_zero_load_never_blocks() -> None:
    """With no offered traffic nothing is blocked."""
    assert erlang_b(3, 0.0) == 0.0


# --------------------------------------------------------------------------------------
# Erlang C
# --------------------------------------------------------------------------------------


def test_erlang_c_two_servers_one_erlang_is_one_third() -> None:
    """Classic example: M/M/2 at a = 1 Erlang has P(wait) = 1/3."""
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-14)


def test_erlang_c_single_server_matches_mm1_closed_forms() -> None:
    """M/M/1: C = ρ, Wq = ρ/(μ − λ) and P(W <= t) = 1 − ρ·exp(−(μ − λ)t)."""
    lam, mu, t = 0.3, 0.5, 4.0
    rho = lam / mu
    assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-14)
    assert erlang_c_asa(1, rho, 1.0 / mu) == pytest.approx(rho / (mu - lam), rel=1e-12)
    expected_sl = 1.0 - rho * math.exp(-(mu - lam) * t)
    assert erlang_c_service_level(1, rho, 1.0 / mu, t) == pytest.approx(expected_sl, rel=1e-12)


def test_erlang_c_two_servers_matches_mm2_closed_forms() -> None:
    """M/M/2: P(wait) = 2ρ²/(1 + ρ) and Wq = P(wait)/(2μ − λ)."""
    mean_service = 120.0
    mu = 1.0 / mean_service
    for rho in (0.2, 0.5, 0.9):
        lam = 2.0 * rho * mu
        load = lam / mu
        p_wait = 2.0 * rho**2 / (1.0 + rho)
        assert erlang_c(2, load) == pytest.approx(p_wait, rel=1e-12)
        assert erlang_c_asa(2, load, mean_service) == pytest.approx(p_wait / (2.0 * mu - lam), rel=1e-12)


def test_erlang_c_call_centre_worked_example() -> None:
    """100 calls per 30 min with 180 s AHT is 10 Erlangs; 80 % in 20 s needs 14 agents.

    The published walk-through (Call Centre Helper's Erlang C example) quotes
    P(wait) = 0.6821 with 11 agents and a service level of about 88.8 % with 14 agents.
    """
    load = 100 * 180 / 1800
    assert load == pytest.approx(10.0)
    assert erlang_c(11, load) == pytest.approx(0.6821, abs=5e-5)
    assert erlang_c_service_level(14, load, 180.0, 20.0) == pytest.approx(0.888, abs=1e-3)
    assert erlang_c_service_level(13, load, 180.0, 20.0) < 0.80
    assert min_agents_erlang_c(load, 180.0, 20.0, 0.80) == 14


def test_erlang_c_unstable_queue_always_waits() -> None:
    """When load >= servers: C = 1, ASA = inf and service level = 0."""
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c(5, 7.5) == 1.0
    assert erlang_c_asa(5, 5.0, 60.0) == math.inf
    assert erlang_c_service_level(5, 6.0, 60.0, 20.0) == 0.0


def test_erlang_c_zero_load_never_waits() -> None:
    """No traffic means no waiting and a perfect service level."""
    assert erlang_c(2, 0.0) == 0.0
    assert erlang_c_asa(2, 0.0, 60.0) == 0.0
    assert erlang_c_service_level(2, 0.0, 60.0, 0.0) == 1.0


def test_erlang_c_more_agents_never_raise_wait_probability() -> None:
    """P(wait), ASA and the service level improve monotonically with extra agents."""
    load = 37.3
    cs = range(38, 80)
    waits = [erlang_c(c, load) for c in cs]
    asas = [erlang_c_asa(c, load, 240.0) for c in cs]
    levels = [erlang_c_service_level(c, load, 240.0, 20.0) for c in cs]
    assert all(b <= a for a, b in itertools.pairwise(waits))
    assert all(b <= a for a, b in itertools.pairwise(asas))
    assert all(b >= a for a, b in itertools.pairwise(levels))


def test_min_agents_erlang_c_equals_brute_force() -> None:
    """The incremental search returns the same answer as scanning the public formula."""
    for load in (0.0, 0.4, 3.0, 12.5, 48.0):
        for target_s, level in ((20.0, 0.8), (0.0, 0.5), (60.0, 0.95)):
            c = 1
            while load >= c or erlang_c_service_level(c, load, 180.0, target_s) < level:
                c += 1
            assert min_agents_erlang_c(load, 180.0, target_s, level) == c


# --------------------------------------------------------------------------------------
# Square-root staffing
# --------------------------------------------------------------------------------------


def test_sqrt_staffing_formula() -> None:
    """c = ⌈R + β√R⌉, without floating-point bumps, and never negative."""
    assert sqrt_staffing(100.0, 1.0) == 110
    assert sqrt_staffing(100.0, 0.0) == 100
    assert sqrt_staffing(10.0, 1.0) == math.ceil(10.0 + math.sqrt(10.0))
    assert sqrt_staffing(0.0, 2.0) == 0
    assert sqrt_staffing(1.0, -5.0) == 0


@pytest.mark.parametrize(("load", "agents_per_erlang"), [(1.0, 3.0), (10.0, 1.4), (100.0, 1.08)])
def test_staffing_per_erlang_matches_published_figure(load: float, agents_per_erlang: float) -> None:
    """80 % in 20 s with 300 s AHT needs ≈3.0, ≈1.4 and ≈1.08 agents per Erlang at R = 1/10/100.

    Checked for both the exact Erlang C search and square-root staffing with the
    Halfin–Whitt β; tolerance ±0.1 because the published figures are rounded.
    """
    exact = min_agents_erlang_c(load, 300.0, 20.0, 0.8)
    beta = beta_for_service_level(load, 300.0, 20.0, 0.8)
    assert exact / load == pytest.approx(agents_per_erlang, abs=0.1)
    assert sqrt_staffing(load, beta) / load == pytest.approx(agents_per_erlang, abs=0.1)


def test_beta_for_service_level_meets_halfin_whitt_target() -> None:
    """β solves 1 − α(β)·exp(−β√R·t/s) = SL with α(β) = [1 + βΦ(β)/φ(β)]⁻¹."""
    load, service, target, level = 400.0, 300.0, 20.0, 0.9
    beta = beta_for_service_level(load, service, target, level)
    phi = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    alpha = 1.0 / (1.0 + beta * big_phi / phi)
    achieved = 1.0 - alpha * math.exp(-beta * math.sqrt(load) * target / service)
    assert achieved == pytest.approx(level, abs=1e-9)


# --------------------------------------------------------------------------------------
# Erlang A
# --------------------------------------------------------------------------------------


def _reference_erlang_a(
    c: int, lam: float, mean_service: float, mean_patience: float, target: float, n_max: int
) -> dict[str, float]:
    """Brute-force Erlang A from dense linear algebra on explicitly built CTMCs.

    The stationary law comes from solving πQ = 0 on a truncated generator; the tagged
    customer's fate comes from an absorbing chain (stages ahead, served, abandoned): the
    fundamental matrix gives P(served) and E[W·1{served}], a dense matrix exponential
    gives P(served by target).
    """
    mu, theta = 1.0 / mean_service, 1.0 / mean_patience
    q = np.zeros((n_max + 1, n_max + 1))
    for n in range(n_max):
        q[n, n + 1] = lam
        q[n + 1, n] = min(n + 1, c) * mu + max(n + 1 - c, 0) * theta
    np.fill_diagonal(q, -q.sum(axis=1))
    system = q.T.copy()
    system[-1, :] = 1.0
    rhs = np.zeros(n_max + 1)
    rhs[-1] = 1.0
    pi = np.linalg.solve(system, rhs)

    stages = n_max - c + 1  # arrival sees j = 0..n_max-c customers waiting
    served, abandoned = stages, stages + 1
    gen = np.zeros((stages + 2, stages + 2))
    for j in range(stages):
        gen[j, j - 1 if j > 0 else served] += c * mu + j * theta
        gen[j, abandoned] += theta
    np.fill_diagonal(gen, -gen.sum(axis=1))
    transient = gen[:stages, :stages]
    fundamental = np.linalg.inv(-transient)
    h = fundamental @ gen[:stages, served]  # P(eventually served | stage)
    served_wait = fundamental @ h  # E[W·1{served} | stage]
    within = expm(gen * target)[:stages, served]

    waiting = pi[c:]
    p_served = pi[:c].sum() + waiting @ h
    lq = float(np.arange(stages) @ waiting)
    return {
        "p_wait": float(waiting.sum()),
        "p_abandon": 1.0 - float(p_served),
        "asa_s": float(waiting @ served_wait / p_served),
        "mean_wait_s": lq / lam,
        "service_level": float(pi[:c].sum() + waiting @ within),
        "occupancy": float(np.minimum(np.arange(n_max + 1), c) @ pi / c),
    }


@pytest.mark.parametrize(
    ("c", "lam", "mean_service", "mean_patience", "target"),
    [(3, 0.05, 60.0, 90.0, 20.0), (1, 0.02, 40.0, 30.0, 10.0), (5, 0.1, 60.0, 200.0, 45.0)],
)
def test_erlang_a_matches_dense_ctmc(
    c: int, lam: float, mean_service: float, mean_patience: float, target: float
) -> None:
    """Every Erlang A metric agrees with an independent dense-matrix CTMC computation."""
    ref = _reference_erlang_a(c, lam, mean_service, mean_patience, target, n_max=80)
    got = erlang_a(c, lam, mean_service, mean_patience, target)
    for name, value in ref.items():
        assert getattr(got, name) == pytest.approx(value, rel=1e-8, abs=1e-10), name


def test_erlang_a_tiny_abandonment_approaches_erlang_c() -> None:
    """As θ → 0 (patience → ∞) Erlang A converges to Erlang C."""
    c, load, service, target = 10, 8.0, 100.0, 20.0
    result = erlang_a(c, load / service, service, 1e9, target)
    assert result.p_wait == pytest.approx(erlang_c(c, load), abs=1e-6)
    assert result.asa_s == pytest.approx(erlang_c_asa(c, load, service), rel=1e-5)
    assert result.service_level == pytest.approx(erlang_c_service_level(c, load, service, target), abs=1e-6)
    assert result.p_abandon < 1e-6


def test_erlang_a_patience_equal_to_service_is_infinite_server_queue() -> None:
    """θ = μ makes N ~ Poisson(λ/μ) (M/M/∞): P(wait) is the Poisson tail P(N >= c)."""
    service = 60.0
    for c, load in ((3, 2.0), (10, 12.0), (40, 30.0)):
        result = erlang_a(c, load / service, service, service)
        k = np.arange(c, c + 400)
        lq = float(np.sum((k - c) * poisson.pmf(k, load)))
        assert result.p_wait == pytest.approx(poisson.sf(c - 1, load), rel=1e-10)
        assert result.mean_wait_s == pytest.approx(lq / (load / service), rel=1e-10)
        n = np.arange(c + 400)
        busy = float(np.sum(np.minimum(n, c) * poisson.pmf(n, load)))
        assert result.occupancy == pytest.approx(busy / c, rel=1e-10)


def test_erlang_a_abandonment_equals_theta_times_mean_wait() -> None:
    """P(abandon) = θ × mean wait of all arrivals (Little's law on the queue)."""
    for c, lam, patience in ((4, 0.08, 45.0), (20, 0.4, 120.0), (50, 0.15, 300.0)):
        result = erlang_a(c, lam, 60.0, patience, 20.0)
        assert result.p_abandon == pytest.approx(result.mean_wait_s / patience, rel=1e-12)


def test_erlang_a_occupancy_balances_served_work() -> None:
    """Busy agents = λ·(1 − P(abandon))·s, so occupancy = λ(1 − P_ab)s / c."""
    c, lam, service = 12, 0.25, 50.0
    result = erlang_a(c, lam, service, 80.0)
    assert result.occupancy == pytest.approx(lam * (1 - result.p_abandon) * service / c, rel=1e-10)


def test_erlang_a_asa_is_consistent_with_answer_time_distribution() -> None:
    """ASA·P(served) = ∫₀^∞ (P(served) − SL(t)) dt ties asa_s to service_level(t)."""
    args = (3, 2.5 / 60.0, 60.0, 45.0)
    result = erlang_a(*args)
    p_served = 1.0 - result.p_abandon

    def unanswered_yet(t: float) -> float:
        level = erlang_a(*args, target_s=t).service_level
        assert level is not None
        return p_served - level

    integral, _ = quad(unanswered_yet, 0.0, math.inf, limit=200)
    assert integral / p_served == pytest.approx(result.asa_s, rel=1e-7)


def test_erlang_a_service_level_limits() -> None:
    """SL(0) = 1 − P(wait); SL grows with the target and tends to P(served)."""
    args = (6, 0.09, 60.0, 40.0)
    levels: list[float] = []
    for t in (0.0, 5.0, 20.0, 60.0, 1e5):
        level = erlang_a(*args, target_s=t).service_level
        assert level is not None
        levels.append(level)
    result = erlang_a(*args)
    assert result.service_level is None
    assert levels[0] == pytest.approx(1.0 - result.p_wait, rel=1e-12)
    assert all(b >= a for a, b in itertools.pairwise(levels))
    assert levels[-1] == pytest.approx(1.0 - result.p_abandon, rel=1e-12)


def test_erlang_a_more_agents_never_raise_wait_or_abandonment() -> None:
    """P(wait) and P(abandon) fall and the service level rises as agents are added."""
    results = [erlang_a(c, 0.3, 120.0, 60.0, 20.0) for c in range(1, 60)]
    for before, after in itertools.pairwise(results):
        assert after.p_wait <= before.p_wait + 1e-15
        assert after.p_abandon <= before.p_abandon + 1e-15
        assert after.service_level is not None and before.service_level is not None
        assert after.service_level >= before.service_level - 1e-15


def test_erlang_a_is_stable_when_overloaded() -> None:
    """Abandonment keeps a 3x overloaded queue stable; the excess 2/3 of arrivals abandon."""
    result = erlang_a(100, 5.0, 60.0, 600.0, 20.0)  # 300 Erlangs offered to 100 agents
    assert result.p_wait == pytest.approx(1.0, abs=1e-9)
    assert result.occupancy == pytest.approx(1.0, abs=1e-9)
    assert result.p_abandon == pytest.approx(2.0 / 3.0, abs=1e-6)
    assert result.mean_wait_s == pytest.approx(600.0 * 2.0 / 3.0, rel=1e-6)


def test_erlang_a_zero_arrivals() -> None:
    """No arrivals: nobody waits or abandons and the service level is perfect."""
    assert erlang_a(2, 0.0, 60.0, 30.0, 20.0) == ErlangAResult(
        p_wait=0.0, p_abandon=0.0, asa_s=0.0, mean_wait_s=0.0, service_level=1.0, occupancy=0.0
    )


def test_erlang_a_result_is_frozen() -> None:
    """ErlangAResult is immutable."""
    result = erlang_a(2, 0.01, 60.0, 30.0)
    with pytest.raises(AttributeError):
        result.p_wait = 0.5  # type: ignore[misc]


def test_erlang_a_is_fast_for_a_hundred_agents() -> None:
    """A 100-agent evaluation with a service-level target takes well under 0.2 s."""
    start = time.perf_counter()
    erlang_a(100, 0.3, 300.0, 180.0, 20.0)
    erlang_a(100, 0.45, 300.0, 180.0, 3600.0)
    assert time.perf_counter() - start < 0.2


def test_min_agents_erlang_a_equals_brute_force() -> None:
    """The doubling/bisection search equals a linear scan over the number of agents."""
    for lam, patience, target, level, cap in (
        (0.05, 60.0, 20.0, 0.8, None),
        (0.2, 120.0, 30.0, 0.9, None),
        (0.2, 120.0, 30.0, 0.5, 0.01),
        (0.01, 30.0, 0.0, 0.6, None),
    ):
        c = 1
        while True:
            result = erlang_a(c, lam, 90.0, patience, target)
            assert result.service_level is not None
            if result.service_level >= level and (cap is None or result.p_abandon <= cap):
                break
            c += 1
        assert min_agents_erlang_a(lam, 90.0, patience, target, level, cap) == c


def test_min_agents_erlang_a_needs_fewer_agents_than_erlang_c() -> None:
    """Abandonment relieves the queue, so Erlang A never needs more agents than Erlang C."""
    lam, service = 100 / 1800, 180.0
    assert min_agents_erlang_a(lam, service, 120.0, 20.0, 0.8) <= min_agents_erlang_c(
        lam * service, service, 20.0, 0.8
    )


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(0, 1.0),
        lambda: erlang_b(-3, 1.0),
        lambda: erlang_b(2.5, 1.0),  # type: ignore[arg-type]
        lambda: erlang_b(True, 1.0),
        lambda: erlang_b(3, -0.1),
        lambda: erlang_b(3, math.nan),
        lambda: erlang_c(3, math.inf),
        lambda: erlang_c_asa(3, 1.0, 0.0),
        lambda: erlang_c_asa(3, 1.0, -60.0),
        lambda: erlang_c_service_level(3, 1.0, 60.0, -1.0),
        lambda: erlang_c_service_level(3, 1.0, 60.0, math.inf),
        lambda: erlang_a(0, 0.1, 60.0, 30.0),
        lambda: erlang_a(2, -0.1, 60.0, 30.0),
        lambda: erlang_a(2, 0.1, 60.0, math.inf),
        lambda: erlang_a(2, 0.1, 60.0, 0.0),
        lambda: erlang_a(2, 0.1, math.nan, 30.0),
        lambda: erlang_a(2, 0.1, 60.0, 30.0, -5.0),
        lambda: sqrt_staffing(-1.0, 1.0),
        lambda: sqrt_staffing(10.0, math.nan),
        lambda: beta_for_service_level(0.0, 300.0, 20.0, 0.8),
        lambda: beta_for_service_level(10.0, 300.0, 20.0, 1.0),
        lambda: min_agents_erlang_c(10.0, 300.0, 20.0, 1.0),
        lambda: min_agents_erlang_c(10.0, 300.0, 20.0, -0.1),
        lambda: min_agents_erlang_c(-10.0, 300.0, 20.0, 0.8),
        lambda: min_agents_erlang_a(0.1, 300.0, 60.0, 20.0, 0.8, max_abandon=0.0),
        lambda: min_agents_erlang_a(0.1, 300.0, 60.0, 20.0, 1.5),
    ],
)
def test_invalid_arguments_raise_value_error(call: Callable[[], object]) -> None:
    """Bad server counts, negative or non-finite values and impossible targets are rejected."""
    with pytest.raises(ValueError):
        call()
