"""Hypothesis strategies: valid scenario dicts, small enough to run in milliseconds.

`scenarios()` draws a complete scenario as a plain dict (what a YAML file holds): a short
horizon (0.5-3 h), 1-3 channels of kinds phone, email and social with constant rates or a
daily profile (optionally day-of-week multipliers and overdispersion), handle times from
every distribution family, patience on some phone and social channels (never on email),
1-3 agent groups with random skills that together serve every channel, 0-20 agents each,
and one of the routing policies. Loads stay moderate, so a replication has at most a few
thousand contacts.

Settings: `PROPERTIES` is the `hypothesis.settings` for property tests. By default it runs
`PROPERTY_EXAMPLES` (60) examples per test, within `make test`'s time; the environment
variable `STAFFSIM_HYPOTHESIS_PROFILE=fuzz` (set by `make fuzz`) raises that to 1,000.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

KINDS = ("phone", "email", "social")
POLICIES = ("fifo", "priority", "threshold", "longest_wait_first", "preemptive")
FAMILIES = ("exponential", "lognormal", "gamma", "deterministic", "uniform", "empirical")

PROPERTY_EXAMPLES = 60
FUZZ_EXAMPLES = 1_000

settings.register_profile(
    "staffsim-default",
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "staffsim-fuzz", settings.get_profile("staffsim-default"), max_examples=FUZZ_EXAMPLES
)
PROFILE = "staffsim-fuzz" if os.environ.get("STAFFSIM_HYPOTHESIS_PROFILE") == "fuzz" else "staffsim-default"
PROPERTIES = settings(settings.get_profile(PROFILE))
"""Decorate property tests with this (the profile is chosen by the environment)."""


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats in [low, high]; when low is 0, either exactly 0 or at least 1e-3.

    Numbers a hair above zero (1e-200) are refused by the loader as absurd, so a valid
    scenario does not hold them; `tests/functional/test_hostile.py` checks that refusal.
    """
    if low > 0:
        return st.floats(low, high)
    return st.one_of(st.just(0.0), st.floats(min(1e-3, high), high))


def _seconds(value_s: float, unit: str, stem: str) -> dict[str, float]:
    """`{stem_s: 90}` or `{stem_min: 1.5}`: the same duration in a drawn unit."""
    return {f"{stem}_{unit}": value_s / {"s": 1.0, "min": 60.0}[unit]}


@st.composite
def distributions(draw: st.DrawFn, low_s: float = 5.0, high_s: float = 600.0) -> dict[str, Any]:
    """A duration distribution of any family, with a mean between `low_s` and `high_s`."""
    family = draw(st.sampled_from(FAMILIES))
    mean = draw(_floats(low_s, high_s))
    unit = draw(st.sampled_from(("s", "min")))
    if family in ("exponential", "deterministic"):
        return {"dist": family, **_seconds(mean, unit, "mean")}
    if family in ("lognormal", "gamma"):
        cv = draw(_floats(0.1, 3.0))
        return {"dist": family, **_seconds(mean, unit, "mean"), "cv": cv}
    if family == "uniform":
        low = draw(_floats(0.0, mean * 0.9))
        return {"dist": family, **_seconds(low, unit, "low"), **_seconds(2 * mean - low, unit, "high")}
    values = draw(st.lists(_floats(0.0, 2 * high_s), min_size=1, max_size=20))
    if not any(v > 0 for v in values):
        values.append(mean)
    return {"dist": "empirical", "values": values}


@st.composite
def arrivals(draw: st.DrawFn, max_rate_per_hour: float) -> dict[str, Any]:
    """A constant rate or a daily profile, optionally with day-of-week and overdispersion."""
    form = draw(st.sampled_from(("rate_per_hour", "rate_per_min", "profile")))
    if form == "profile":
        interval = draw(st.sampled_from((15, 30, 60)))
        n = 1440 // interval
        rates = draw(st.lists(_floats(0.0, max_rate_per_hour), min_size=n, max_size=n))
        if not any(r > 0 for r in rates):
            rates[0] = max_rate_per_hour / 2
        out: dict[str, Any] = {"profile": {"interval_min": interval, "rates_per_hour": rates}}
    else:
        rate = draw(_floats(0.0, max_rate_per_hour))
        out = {"rate_per_hour": rate} if form == "rate_per_hour" else {"rate_per_min": rate / 60}
    if draw(st.booleans()):
        out["day_of_week"] = draw(st.lists(_floats(0.0, 2.0), min_size=7, max_size=7))
    if draw(st.integers(0, 3)) == 0:
        out["overdispersion"] = {"daily_cv": draw(_floats(0.0, 0.5))}
    return out


@st.composite
def channels(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """1-3 channels; names are their kinds (`phone`, or `phone_2` with an explicit kind)."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3))
    out: dict[str, dict[str, Any]] = {}
    for i, kind in enumerate(kinds):
        name = kind if kind not in out else f"{kind}_{i}"
        spec: dict[str, Any] = {
            "arrivals": draw(arrivals(max_rate_per_hour=120.0)),
            "handle_time": draw(distributions(5.0, 600.0)),
        }
        if name != kind or draw(st.booleans()):
            spec["kind"] = kind
        if kind != "email" and draw(st.booleans()):
            spec["patience"] = draw(distributions(5.0, 900.0))
        if draw(st.booleans()):
            spec["target"] = {"answer_within_s": draw(_floats(1.0, 3600.0))}
        out[name] = spec
    return out


@st.composite
def agent_groups(draw: st.DrawFn, names: list[str], max_groups: int = 3) -> dict[str, dict[str, Any]]:
    """1-`max_groups` groups of 0-20 agents whose skills together cover every channel."""
    n = draw(st.integers(1, max_groups))
    skills = [draw(st.lists(st.sampled_from(names), min_size=1, unique=True)) for _ in range(n)]
    for name in names:
        if not any(name in s for s in skills):
            skills[draw(st.integers(0, n - 1))].append(name)
    return {f"team_{i}": {"count": draw(st.integers(0, 20)), "skills": s} for i, s in enumerate(skills)}


@st.composite
def routings(draw: st.DrawFn, names: list[str]) -> dict[str, Any]:
    """A routing section for one of the shipped policies."""
    policy = draw(st.sampled_from(POLICIES))
    out: dict[str, Any] = {"policy": policy}
    if policy in ("priority", "threshold", "preemptive") and draw(st.booleans()):
        out["order"] = draw(st.permutations(names))
    if policy == "threshold":
        out["reserve"] = draw(st.integers(0, 3))
    if policy == "longest_wait_first":
        out["relative_to_target"] = draw(st.booleans())
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario dict with a short horizon (see the module docstring)."""
    chans = draw(channels())
    names = list(chans)
    horizon = draw(_floats(0.5, 3.0))
    return {
        "name": "generated",
        "seed": draw(st.integers(0, 2**32)),
        "replications": draw(st.integers(1, 2)),
        "horizon_hours": horizon,
        "warmup_hours": draw(st.sampled_from((0.0, horizon / 4))),
        "interval_min": draw(st.sampled_from((15, 30, 60))),
        "channels": chans,
        "agents": draw(agent_groups(names)),
        "routing": draw(routings(names)),
    }


@st.composite
def fifo_single_group_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Scenarios where one more agent provably lowers every wait: one group, FIFO, no patience.

    The single group serves every channel; agent counts stay below 20 so that one more fits
    the strategy's range.
    """
    data = draw(scenarios())
    for spec in data["channels"].values():
        spec.pop("patience", None)
    data["agents"] = {"team": {"count": draw(st.integers(0, 19)), "skills": list(data["channels"])}}
    data["routing"] = {"policy": "fifo"}
    return data
