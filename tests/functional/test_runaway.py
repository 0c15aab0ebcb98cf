"""The budget counts the contacts the model creates, and a running guard stops what runs away.

A scenario's arrivals are only the start: follow-ups, hand-offs, returns, retrials and
induced demand make more contacts. The estimate counts them from their probabilities (an
upper bound, checked here against theory and simulation), and the running guard stops a
replication that goes past the estimate by a wide margin, naming the mechanism.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.config import load_scenario
from sim.model.guard import RunawayError
from sim.runner.budget import GUARD_FLOOR_CONTACTS, GUARD_MARGIN, guard_for, model_contacts
from sim.runner.simulate import simulate


def email(kind: str = "email", **mechanics: Any) -> dict[str, Any]:
    """A one-channel scenario (email unless told) with the given mechanics and no agents."""
    return {
        "name": "runaway",
        "seed": 5,
        "replications": 1,
        "horizon_hours": 24,
        "channels": {
            kind: {
                "arrivals": {"rate_per_hour": 10},
                "handle_time": {"dist": "exponential", "mean_s": 300},
                **mechanics,
            }
        },
        "agents": {"team": {"count": 0, "skills": [kind]}},
    }


INSTANT_FOLLOW_UP = {"follow_up": {"probability": 1.0, "delay": {"mean_s": 0, "fixed": True}}}


def test_a_certain_instant_follow_up_makes_the_estimate_unbounded() -> None:
    """Probability 1 and no delay: each contact makes another at once, without end."""
    assert model_contacts(load_scenario(email(**INSTANT_FOLLOW_UP))) == math.inf


def test_follow_up_estimate_is_the_geometric_chain_or_the_horizon_bound() -> None:
    """p = 0.9 with a one-hour delay over 24 h: min(1/(1-p), 1 + p·24) = 10 contacts per arrival."""
    sc = load_scenario(email(follow_up={"probability": 0.9, "delay": {"mean_h": 1}}))
    assert model_contacts(sc) == pytest.approx(240 * 10.0)
    sc = load_scenario(email(follow_up={"probability": 1.0, "delay": {"mean_h": 2}}))
    assert model_contacts(sc) == pytest.approx(240 * (1 + 24 / 2))


def test_induced_demand_multiplies_the_estimate() -> None:
    """Elasticity 2, reference 60 min, target 6 min: the rate is (60/6)² = 100 times the given one."""
    sc = load_scenario(
        email(
            target={"answer_within_min": 6},
            induced={"elasticity": 2, "reference_response_min": 60},
        )
    )
    assert model_contacts(sc) == pytest.approx(240 * 100.0)


def test_returns_estimate_matches_simulation() -> None:
    """Half of answered customers come back once more (no limit): 1/(1-0.5) = 2 contacts per journey.

    With ample agents every contact is answered, so the simulated contacts per journey
    must be inside the replications' 95% CI around 2, and the estimate says 2.
    """
    data = email(resolution={"probability": 0.5, "returns": {"to": {"email": 1.0}, "delay": {"mean_s": 60}}})
    data["channels"]["email"]["arrivals"] = {"rate_per_hour": 600}
    data["channels"]["email"]["handle_time"] = {"dist": "exponential", "mean_s": 60}
    data["agents"]["team"]["count"] = 40  # 20 Erlangs of work with the returns
    data["horizon_hours"] = 8
    sc = load_scenario(data)
    fresh = 600 * 8
    assert model_contacts(sc) == pytest.approx(fresh * min(2.0, 1 + 0.5 * 8 * 3600 / 60))
    result = sim.run(sc, replications=8)
    est = result.estimate("email", "contacts_per_journey")
    assert est.ci_low <= 2.0 <= est.ci_high, est


def test_guard_stops_an_instant_follow_up_loop_and_names_it() -> None:
    """Forced past the estimate, the replication stops at the guard's limit, naming follow-ups."""
    sc = load_scenario(email(**INSTANT_FOLLOW_UP))
    guard = guard_for(sc, "none", "replication 0")
    assert guard.contacts == GUARD_FLOOR_CONTACTS  # an unbounded estimate gets the floor
    with pytest.raises(RunawayError, match="follow-ups made") as info:
        simulate(sc, 0, records="none")
    assert "channel 'email'" in str(info.value) and "STAFFSIM_MAX_CONTACTS" in str(info.value)


def test_guard_limit_is_a_margin_over_the_estimate() -> None:
    """A bounded estimate gets GUARD_MARGIN times it (above the floor)."""
    data = email(follow_up={"probability": 0.5, "delay": {"mean_min": 30}})
    data["channels"]["email"]["arrivals"] = {"rate_per_hour": 100_000}
    sc = load_scenario(data)
    assert guard_for(sc).contacts == pytest.approx(GUARD_MARGIN * model_contacts(sc))


def test_an_explicit_larger_limit_lifts_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """STAFFSIM_MAX_CONTACTS above the guard's own limit is honoured; a smaller one is not."""
    sc = load_scenario(email(**INSTANT_FOLLOW_UP))
    monkeypatch.setenv("STAFFSIM_MAX_CONTACTS", "300000")
    assert guard_for(sc).contacts == 300_000
    monkeypatch.setenv("STAFFSIM_MAX_CONTACTS", "10")
    sc2 = load_scenario(email(follow_up={"probability": 0.5, "delay": {"mean_min": 30}}))
    assert guard_for(sc2).contacts == GUARD_FLOOR_CONTACTS


def test_guard_stops_a_memory_runaway(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resident memory above the limit stops the replication (a limit of 1 MB is always passed)."""
    monkeypatch.setenv("STAFFSIM_MAX_MEMORY_GB", "0.001")
    data = email()
    data["channels"]["email"]["arrivals"] = {"rate_per_hour": 2000}
    with pytest.raises(RunawayError, match="GB of memory"):
        simulate(load_scenario(data), 0, records="none")


def limited(mem_bytes: int, cpu_s: int) -> Any:
    """A preexec_fn that limits the child's address space and CPU time."""

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))

    return apply


@pytest.mark.parametrize(
    ("mechanics", "says"),
    [
        (INSTANT_FOLLOW_UP, "follow-ups made"),
        (
            {
                "patience": {"dist": "exponential", "mean_s": 1},
                "retrial": {"to": {"phone": 1.0}, "delay": {"mean_s": 0}},
            },
            "retrials after abandoning made",
        ),
    ],
)
def test_cli_forced_runaway_exits_2_within_bounds(
    tmp_path: Path, mechanics: dict[str, Any], says: str
) -> None:
    """`run --force` on a runaway: exit 2 with the mechanism named, inside 2 GB and 120 s of CPU."""
    path = tmp_path / "s.yaml"
    kind = "phone" if "retrial" in mechanics else "email"
    path.write_text(yaml.safe_dump(email(kind, **mechanics)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path), "-q", "--force"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        preexec_fn=limited(2_000_000_000, 120),
    )
    assert proc.returncode == 2, proc.stderr
    assert "stopped by the running guard" in proc.stderr and says in proc.stderr
    assert "Traceback" not in proc.stderr
