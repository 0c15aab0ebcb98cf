"""After-call work (a channel's ``wrap_up``) against queueing theory.

An agent who finishes a contact stays busy for the wrap-up before taking the next one, so
the queue sees each agent occupied for handle time + wrap-up: M/M/1 with a deterministic
wrap-up w is M/G/1 with service X + w, whose mean wait is Pollaczek–Khinchine's
λ·E[(X+w)²] / (2(1−ρ)) with ρ = λ(E[X]+w), and P(wait) = ρ. Occupancy is λ(E[X]+w)/c for
any number of agents, while the contacts' own handle time (answer to end) stays E[X].
Tolerances: the theoretical value must lie inside the 99 % Student-t CI of the replication
means, as in `test_validation`; warm-ups are over three relaxation times.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import sim
from sim.metrics.stats import mean_ci
from tests.builders import mmc

MEAN_S = 60.0
WRAP_S = 30.0


def _assert_in_ci(theory: float, values: np.ndarray) -> None:
    e = mean_ci(values, 0.99)
    assert e.ci_low <= theory <= e.ci_high, f"theory {theory:.6g} outside 99 % CI {e}"


def _scenario(c: int, rate_per_hour: float, hours: float, warmup: float, **phone: Any) -> sim.Scenario:
    data = mmc(horizon_hours=hours, warmup_hours=warmup)
    ch = data["channels"]["phone"]
    ch["arrivals"] = {"rate_per_hour": rate_per_hour}
    ch["handle_time"] = {"dist": "exponential", "mean_s": MEAN_S}
    ch["wrap_up"] = {"dist": "deterministic", "mean_s": WRAP_S}
    ch.update(phone)
    data["agents"]["team"]["count"] = c
    return sim.load_scenario(data)


def test_one_agent_with_wrap_up_is_mg1_with_service_plus_wrap_up() -> None:
    """M/M/1 + deterministic wrap-up: P(wait) = ρ and mean wait by Pollaczek–Khinchine on X + w.

    Relaxation time about (E[X]+w)/(1−√ρ)² ≈ 3,400 s at ρ = 0.7; the warm-up is 3 h.
    """
    rho = 0.7
    lam = rho / (MEAN_S + WRAP_S)
    result = sim.run(_scenario(1, lam * 3600, 83.0, 3.0), replications=40, records="none", workers=2)
    second = 2 * MEAN_S**2 + 2 * MEAN_S * WRAP_S + WRAP_S**2
    _assert_in_ci(lam * second / (2 * (1 - rho)), result.values("channel", "phone", "asa_s"))
    _assert_in_ci(rho, result.values("channel", "phone", "p_wait"))
    _assert_in_ci(rho, result.values("group", "team", "occupancy"))


def test_wrap_up_occupies_agents_for_handle_time_plus_wrap_up() -> None:
    """Ten agents: occupancy is λ(E[X]+w)/c, and P(wait) is Erlang C's on the mean service E[X]+w
    only approximately, so only the occupancy (exact) is asserted."""
    c, rho = 10, 0.8
    lam = rho * c / (MEAN_S + WRAP_S)
    result = sim.run(_scenario(c, lam * 3600, 21.0, 1.0), replications=20, records="none", workers=2)
    _assert_in_ci(rho, result.values("group", "team", "occupancy"))
