"""The centres the scalability study scales: its own study centre, or any scenario file.

`scaled` multiplies every channel's demand by a scale and replaces the agents by one of
the team designs, each team with one agent (the optimiser sets the counts):

- ``pooled``: one team with every channel's skill, routed by the scenario's own routing
  (the study centre's: priority phone, then social, then email);
- ``pooled_preemptive``: the same team, with calls allowed to interrupt written work;
- ``split``: one team per channel (``CHANNEL_team``), with the scenario's routing.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sim.config.schema import Channel
from sim.config.variants import load_experiment

DESIGNS = ("pooled", "pooled_preemptive", "split")
"""Team designs: one pooled team (phone, then social, then email), the same with calls
interrupting email work, and one team per channel."""

STUDY_TARGETS = ["phone.service_level>=0.8", "email.service_level>=0.9", "social.service_level>=0.8"]
"""80/20 on the phone (ICMI), 90 % of emails within 2 h, 80 % of social posts within 60 min."""

DEFAULT_LEVEL = 0.8
"""The service level asked of every channel of a scenario file, within its own target time."""


def base_centre(horizon_hours: float, replications: int, seed: int = 2026) -> dict[str, Any]:
    """The study's centre at scale ×1: about 11 Erlangs across phone, email and social."""
    return {
        "name": "scalability",
        "seed": seed,
        "replications": replications,
        "horizon_hours": horizon_hours,
        "warmup_hours": 1,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 60},  # 60/h × 300 s = 5 Erlangs
                "handle_time": {"dist": "lognormal", "mean_s": 300, "cv": 1.1},  # Anonymous Bank
                "patience": {"dist": "exponential", "mean_s": 350},  # Anonymous Bank
                "target": {"answer_within_s": 20},
                "resolution": {
                    "probability": 0.75,
                    "returns": {"to": {"phone": 0.8}, "delay": {"mean_h": 2}},
                },
            },
            "email": {
                "arrivals": {"rate_per_hour": 20},  # 20/h × 8 min = 2.7 Erlangs
                "handle_time": {"dist": "exponential", "mean_min": 8},
                "target": {"answer_within_h": 2},
                "resolution": {"probability": 0.7, "returns": {"to": {"email": 0.7}, "delay": {"mean_h": 2}}},
            },
            "social": {
                "arrivals": {"rate_per_hour": 15},  # 15/h × 4 min = 1 Erlang
                "handle_time": {"dist": "exponential", "mean_min": 4},
                "patience": {"dist": "exponential", "mean_h": 6},
                "target": {"answer_within_min": 60},
                "intents": {
                    "complaint": {"share": 0.62, "resolution": 0.6},  # Preotiuc-Pietro et al. 2019
                    "query": {"share": 0.33},
                    "joke": {"share": 0.05, "needs": "nothing"},
                },
                "resolution": {
                    "probability": 0.75,
                    "returns": {"to": {"phone": 0.5, "social": 0.3}, "delay": {"mean_h": 1}},
                },
            },
        },
        "agents": {},
        "routing": {"policy": "priority", "order": ["phone", "social", "email"]},
    }


def centre_from_file(path: str | Path) -> tuple[dict[str, Any], Path]:
    """A scenario file's baseline as a mapping (`extends` merged), and its folder.

    Raises:
        ScenarioError: the file is missing or invalid.
    """
    exp = load_experiment(path)
    return copy.deepcopy(exp.data), exp.base_dir


def default_targets(data: dict[str, Any]) -> list[str]:
    """`CHANNEL.service_level>=0.8` for every channel with a target time."""
    return [
        f"{name}.service_level>={DEFAULT_LEVEL:g}"
        for name, ch in data["channels"].items()
        if isinstance(ch, dict) and ch.get("target")
    ]


def scale_arrivals(arrivals: dict[str, Any], scale: float, channel: str) -> None:
    """Multiply a channel's arrival rate (or every rate of its profile) in place.

    Raises:
        ValueError: the channel replays a trace, which cannot be scaled.
    """
    for key in ("rate_per_hour", "rate_per_min", "rate_per_day"):
        if arrivals.get(key) is not None:
            arrivals[key] = arrivals[key] * scale
            return
    profile = arrivals.get("profile")
    if isinstance(profile, dict) and isinstance(profile.get("rates_per_hour"), list):
        profile["rates_per_hour"] = [r * scale for r in profile["rates_per_hour"]]
        return
    raise ValueError(
        f"channels.{channel}.arrivals: the study scales a rate or a profile; a trace cannot be scaled"
    )


def scaled(base: dict[str, Any], scale: int, design: str) -> dict[str, Any]:
    """The centre at `scale` × demand with a team design (counts set by the optimiser)."""
    data = copy.deepcopy(base)
    data["name"] = f"{base.get('name', 'centre')}-x{scale}-{design}"
    for name, ch in data["channels"].items():
        scale_arrivals(ch["arrivals"], scale, name)
    cost = next(
        (
            g["cost_per_hour"]
            for g in (base.get("agents") or {}).values()
            if isinstance(g, dict) and g.get("cost_per_hour")
        ),
        30,
    )
    routing = dict(data.get("routing") or {"policy": "priority"})
    if design == "pooled_preemptive":
        routing = {**routing, "policy": "preemptive"}
    data["routing"] = routing
    if design == "split":
        data["agents"] = {
            f"{ch}_team": {"count": 1, "skills": [ch], "cost_per_hour": cost} for ch in data["channels"]
        }
    else:
        data["agents"] = {"pooled": {"count": 1, "skills": list(data["channels"]), "cost_per_hour": cost}}
    return data


def mean_rate_per_s(spec: Channel) -> float:
    """A channel's mean arrival rate per second over a day (a constant rate, or a profile's mean)."""
    rate = spec.arrivals.base_rate_per_s
    if rate is not None:
        return rate
    if spec.arrivals.profile is not None:
        rates = spec.arrivals.profile.rates_per_hour
        return sum(rates) / len(rates) / 3600.0
    return 0.0
