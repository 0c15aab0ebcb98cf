"""Statistical validation of the simulator against queueing theory, plus its invariants.

Theory checks: M/M/c against Erlang C, M/M/c+M against Erlang A, M/G/1 against
Pollaczek–Khinchine, Little's law, occupancy = offered load per agent. Each assertion asks
that the theoretical value lie inside the 99 % Student-t confidence interval of the
replication means (`sim.metrics.stats.mean_ci`), with no extra allowance: horizons are
long and each run starts after a warm-up of at least three relaxation times of the queue
(for M/M/c about 1/(cμ(1−√ρ)²)), so the start-up bias is far below the CI width.

Invariants: conservation of contacts, reproducibility, and monotonicity in staffing (with
first-come-first-served queues and each customer's handle time drawn at arrival, adding an
agent never lengthens any customer's wait, replication by replication).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analytic import erlang_a, erlang_c, erlang_c_asa, erlang_c_service_level
from sim.metrics.stats import Estimate, mean_ci
from tests.builders import mmc

LEVEL = 0.99
MEAN_S = 60.0
TARGET_S = 20.0


def _ci(values: np.ndarray) -> Estimate:
    return mean_ci(values, LEVEL)


def _assert_theory_in_ci(theory: float, values: np.ndarray) -> None:
    e = _ci(values)
    assert e.ci_low <= theory <= e.ci_high, f"theory {theory:.6g} outside {LEVEL:.0%} CI {e}"


def _mmc(c: int, rho: float, hours: float, warmup: float, **phone: Any) -> dict[str, Any]:
    """An M/M/c scenario (exponential 60 s handle time) at utilisation `rho`."""
    data = mmc(horizon_hours=hours, warmup_hours=warmup)
    ch = data["channels"]["phone"]
    ch["arrivals"] = {"rate_per_hour": rho * c * 3600 / MEAN_S}
    ch["handle_time"] = {"dist": "exponential", "mean_s": MEAN_S}
    ch["target"] = {"answer_within_s": TARGET_S}
    ch.update(phone)
    data["agents"]["team"]["count"] = c
    return data


# --- M/M/c against Erlang C --------------------------------------------------------------

# name: (agents, utilisation, horizon h, warm-up h, replications). Relaxation times are
# about 2,250 s, 990 s and 470 s; warm-ups are 3.2, 3.6 and 3.8 of them.
ERLANG_C = {
    "c1-rho0.70": (1, 0.70, 52.0, 2.0, 40),
    "c10-rho0.85": (10, 0.85, 40.0, 1.0, 20),
    "c100-rho0.93": (100, 0.93, 6.5, 0.5, 20),
}


@functools.cache
def _erlang_c_run(name: str) -> sim.RunResult:
    c, rho, hours, warmup, reps = ERLANG_C[name]
    return sim.run(
        sim.load_scenario(_mmc(c, rho, hours, warmup)), replications=reps, records="none", workers=2
    )


def _load(name: str) -> tuple[int, float]:
    c, rho, *_ = ERLANG_C[name]
    return c, rho * c


@pytest.mark.parametrize("name", ERLANG_C)
@pytest.mark.slow
def test_p_wait_matches_erlang_c(name: str) -> None:
    """The fraction of callers who wait matches the Erlang C delay probability."""
    c, a = _load(name)
    _assert_theory_in_ci(erlang_c(c, a), _erlang_c_run(name).values("channel", "phone", "p_wait"))


@pytest.mark.parametrize("name", ERLANG_C)
@pytest.mark.slow
def test_asa_matches_erlang_c_mean_wait(name: str) -> None:
    """ASA (mean wait of answered = of all callers, without abandonment) matches C·s/(c−a)."""
    c, a = _load(name)
    _assert_theory_in_ci(erlang_c_asa(c, a, MEAN_S), _erlang_c_run(name).values("channel", "phone", "asa_s"))


@pytest.mark.parametrize("name", ERLANG_C)
def test_service_level_matches_erlang_c(name: str) -> None:
    """The share answered within 20 s matches 1 − C·exp(−(c−a)·t/s)."""
    c, a = _load(name)
    theory = erlang_c_service_level(c, a, MEAN_S, TARGET_S)
    _assert_theory_in_ci(theory, _erlang_c_run(name).values("channel", "phone", "service_level"))


@pytest.mark.parametrize("name", ERLANG_C)
def test_occupancy_matches_offered_load_per_agent(name: str) -> None:
    """Agent occupancy in M/M/c is λ·E[S]/c."""
    c, a = _load(name)
    _assert_theory_in_ci(a / c, _erlang_c_run(name).values("group", "team", "occupancy"))


# --- M/M/c+M against Erlang A ------------------------------------------------------------

# name: (agents, utilisation, mean patience s); 20 replications of 20 h after 1 h warm-up.
# Abandonment pulls the queue back at a rate of at least one over the mean patience, so
# the 1 h warm-up is 20-30 of those relaxation times.
ERLANG_A = {"rho0.9-patience120": (10, 0.9, 120.0), "rho1.2-patience180": (10, 1.2, 180.0)}


@functools.cache
def _erlang_a_run(name: str) -> sim.RunResult:
    c, rho, patience = ERLANG_A[name]
    data = _mmc(c, rho, 21.0, 1.0, patience={"dist": "exponential", "mean_s": patience})
    return sim.run(sim.load_scenario(data), replications=20, records="none", workers=2)


def _erlang_a_theory(name: str) -> Any:
    c, rho, patience = ERLANG_A[name]
    return erlang_a(c, rho * c / MEAN_S, MEAN_S, patience, TARGET_S)


@pytest.mark.parametrize("name", ERLANG_A)
def test_abandon_rate_matches_erlang_a(name: str) -> None:
    """The abandonment rate with exponential patience matches Erlang A's P(abandon)."""
    theory = _erlang_a_theory(name).p_abandon
    _assert_theory_in_ci(theory, _erlang_a_run(name).values("channel", "phone", "abandon_rate"))


@pytest.mark.parametrize("name", ERLANG_A)
def test_p_wait_matches_erlang_a(name: str) -> None:
    """The fraction of callers who wait matches Erlang A's P(wait)."""
    theory = _erlang_a_theory(name).p_wait
    _assert_theory_in_ci(theory, _erlang_a_run(name).values("channel", "phone", "p_wait"))


@pytest.mark.parametrize("name", ERLANG_A)
def test_asa_matches_erlang_a(name: str) -> None:
    """The mean wait of answered callers matches Erlang A's ASA."""
    theory = _erlang_a_theory(name).asa_s
    _assert_theory_in_ci(theory, _erlang_a_run(name).values("channel", "phone", "asa_s"))


# --- M/G/1 against Pollaczek–Khinchine ---------------------------------------------------


def test_mg1_lognormal_mean_wait_matches_pollaczek_khinchine() -> None:
    """M/G/1 with lognormal service (CV 1.5): mean wait = λ·E[S²] / (2(1−ρ))."""
    rho, cv = 0.7, 1.5
    data = _mmc(1, rho, 103.0, 3.0, handle_time={"dist": "lognormal", "mean_s": MEAN_S, "cv": cv})
    result = sim.run(sim.load_scenario(data), replications=40, records="none", workers=2)
    lam = rho / MEAN_S
    second_moment = MEAN_S**2 * (1 + cv**2)
    theory = lam * second_moment / (2 * (1 - rho))
    _assert_theory_in_ci(theory, result.values("channel", "phone", "asa_s"))


# --- Little's law ------------------------------------------------------------------------


def _littles_gap(result: sim.RunResult, channel: str) -> np.ndarray:
    """Per replication: time-average queue length − (offered / window) × mean wait.

    On one sample path the two sides differ only by the waits of contacts that straddle the
    warm-up or the horizon, a term that shrinks like 1/window, so over many replications
    the mean gap is zero within its CI.
    """
    s = result.scenario
    window = s.horizon_s - s.warmup_s
    rate = result.values("channel", channel, "offered") / window
    return result.values("channel", channel, "queue_length") - rate * result.values(
        "channel", channel, "mean_wait_s"
    )


@pytest.mark.parametrize("name", ERLANG_C)
def test_littles_law_single_channel(name: str) -> None:
    """Mean queue length = arrival rate × mean wait, replication by replication (paired CI)."""
    gap = _ci(_littles_gap(_erlang_c_run(name), "phone"))
    assert gap.ci_low <= 0.0 <= gap.ci_high, gap


def _two_groups() -> dict[str, Any]:
    """Phone (impatient) and email, a phone-only group and a blended group, phone first."""
    return {
        "name": "two-groups",
        "seed": 7,
        "horizon_hours": 24,
        "warmup_hours": 2,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 150},
                "handle_time": {"dist": "exponential", "mean_s": 300},
                "patience": {"dist": "exponential", "mean_s": 180},
            },
            "email": {
                "arrivals": {"rate_per_hour": 30},
                "handle_time": {"dist": "lognormal", "mean_s": 480, "cv": 1.0},
            },
        },
        "agents": {
            "phone_team": {"count": 12, "skills": ["phone"]},
            "blend": {"count": 7, "skills": ["phone", "email"]},
        },
        "routing": {"policy": "priority", "order": ["phone", "email"]},
    }


@functools.cache
def _two_groups_run() -> sim.RunResult:
    return sim.run(sim.load_scenario(_two_groups()), replications=20, records="none", workers=2)


@pytest.mark.parametrize("channel", ["phone", "email"])
def test_littles_law_per_channel_with_two_groups(channel: str) -> None:
    """Little's law holds for each channel of a two-channel, two-group centre."""
    result = _two_groups_run()
    assert (result.values("channel", channel, "queue_length") > 0).all()
    gap = _ci(_littles_gap(result, channel))
    assert gap.ci_low <= 0.0 <= gap.ci_high, gap


# --- conservation ------------------------------------------------------------------------

OUTCOMES = ("answered", "abandoned", "waiting_end", "in_service_end")


def _assert_conserved(result: sim.RunResult) -> None:
    for o in result.outputs:
        for ch, m in o.channels.items():
            ended = sum(m[k] for k in OUTCOMES)
            assert m["offered"] == ended, f"replication {o.replication}, {ch}: {m}"


@pytest.mark.parametrize("name", ERLANG_C)
def test_conservation_mmc(name: str) -> None:
    """offered = answered + abandoned + waiting_end + in_service_end in every replication."""
    _assert_conserved(_erlang_c_run(name))


def test_conservation_two_channels_two_groups() -> None:
    """Conservation holds per channel with abandonment, blending and priority routing."""
    _assert_conserved(_two_groups_run())


@pytest.mark.parametrize("patience_s", [None, 1800.0], ids=["no-abandonment", "patience1800"])
def test_conservation_heavily_overloaded(patience_s: float | None) -> None:
    """At 150 % load, with contacts still waiting at the horizon, every contact is accounted for."""
    phone: dict[str, Any] = {}
    if patience_s is not None:
        phone["patience"] = {"dist": "exponential", "mean_s": patience_s}
    result = sim.run(sim.load_scenario(_mmc(10, 1.5, 4.0, 0.5, **phone)), replications=5, records="none")
    assert (result.values("channel", "phone", "waiting_end") > 0).all()
    _assert_conserved(result)


# --- reproducibility ---------------------------------------------------------------------


def _small_two_groups(seed: int = 7) -> sim.Scenario:
    return sim.load_scenario({**_two_groups(), "horizon_hours": 6, "warmup_hours": 1, "seed": seed})


def test_same_seed_gives_identical_results() -> None:
    """Two runs with the same seed agree exactly on every metric of every replication."""
    a = sim.run(_small_two_groups(), replications=4, records="none").replications()
    b = sim.run(_small_two_groups(), replications=4, records="none").replications()
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_worker_count_does_not_change_results() -> None:
    """One worker and two workers give exactly the same numbers, contact by contact."""
    one = sim.run(_small_two_groups(), replications=4, records="full", workers=1)
    two = sim.run(_small_two_groups(), replications=4, records="full", workers=2)
    pd.testing.assert_frame_equal(one.replications(), two.replications(), check_exact=True)
    pd.testing.assert_frame_equal(one.contacts(), two.contacts(), check_exact=True)


def test_different_seeds_give_different_results() -> None:
    """Another seed gives other customers: counts and waits differ in every replication."""
    a = sim.run(_small_two_groups(seed=1), replications=4, records="none")
    b = sim.run(_small_two_groups(seed=2), replications=4, records="none")
    for ch in ("phone", "email"):
        assert np.all(a.values("channel", ch, "asa_s") != b.values("channel", ch, "asa_s"))
    assert not np.array_equal(
        a.values("channel", "phone", "offered"), b.values("channel", "phone", "offered")
    )


# --- monotonicity in staffing ------------------------------------------------------------

# (offered load in Erlangs, agents before adding one)
LOADS = [(0.8, 1), (5.0, 6), (9.0, 10), (9.7, 10), (12.0, 12)]


def _staffed(load: float, agents: int, records: str) -> sim.RunResult:
    data = _mmc(agents, load / agents, 10.0, 1.0)
    return sim.run(sim.load_scenario(data), replications=10, records=records)


@pytest.mark.parametrize(("load", "agents"), LOADS, ids=[f"a{a}-c{c}" for a, c in LOADS])
def test_one_more_agent_never_raises_asa(load: float, agents: int) -> None:
    """Same seed, one agent more: ASA is no higher in any replication (paired)."""
    fewer = _staffed(load, agents, "none").values("channel", "phone", "asa_s")
    more = _staffed(load, agents + 1, "none").values("channel", "phone", "asa_s")
    assert np.all(more <= fewer), (fewer, more)
    assert np.any(more < fewer)


def test_one_more_agent_never_lengthens_any_wait() -> None:
    """With common random numbers each customer's own wait is no longer with one more agent."""
    fewer = _staffed(9.0, 10, "full").contacts()
    more = _staffed(9.0, 11, "full").contacts()
    key = ["replication", "contact_id"]
    both = fewer.merge(more, on=key, suffixes=("_fewer", "_more"))
    assert len(both) == len(fewer) == len(more)
    assert (both["wait_s_more"] <= both["wait_s_fewer"]).all()


def test_staffing_change_keeps_the_same_customers() -> None:
    """Adding an agent leaves every customer's arrival time and handle time unchanged (CRN)."""
    cols = ["replication", "contact_id", "arrived_at", "handle_time_s"]
    fewer = _staffed(9.0, 10, "full").contacts()[cols].sort_values(["replication", "contact_id"])
    more = _staffed(9.0, 11, "full").contacts()[cols].sort_values(["replication", "contact_id"])
    pd.testing.assert_frame_equal(fewer.reset_index(drop=True), more.reset_index(drop=True), check_exact=True)
