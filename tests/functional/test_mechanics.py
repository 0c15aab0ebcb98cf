"""The argument's mechanics: intents, resolution and journeys, hand-offs, retrials,
concurrency, opening hours, induced demand, auto-reply, sentiment and cost."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

import sim
from sim.metrics.stats import mean_ci, paired_ci

EXP = "exponential"


def centre(**changes: Any) -> dict[str, Any]:
    """Phone and social, two teams; 24 h; no mechanics unless `changes` add them."""
    data: dict[str, Any] = {
        "name": "mech",
        "seed": 17,
        "replications": 6,
        "horizon_hours": 24,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 240},
                "handle_time": {"dist": EXP, "mean_s": 180},
                "patience": {"dist": EXP, "mean_s": 300},
                "target": {"answer_within_s": 20},
            },
            "social": {
                "arrivals": {"rate_per_hour": 40},
                "handle_time": {"dist": EXP, "mean_min": 4},
                "patience": {"dist": EXP, "mean_h": 6},
                "target": {"answer_within_min": 60},
            },
        },
        "agents": {
            "phone_team": {"count": 14, "skills": ["phone"]},
            "social_team": {"count": 4, "skills": ["social"]},
        },
    }
    for path, value in changes.items():
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return data


def run(data: dict[str, Any], **kw: Any) -> sim.RunResult:
    return sim.run(sim.load_scenario(data), **({"records": "none"} | kw))


def values(result: sim.RunResult, channel: str, metric: str) -> np.ndarray:
    return result.values("channel", channel, metric)


def test_neutral_mechanics_equal_the_core_model_exactly() -> None:
    """Mechanics switched on at neutral settings change no number of the plain model.

    Every count and every queueing metric is identical. Two journey averages are summed in a
    different order on the two paths (per journey vs from contact tallies), so they agree
    to floating-point rounding (1e-12 relative), not bit for bit.
    """
    plain = run(centre())
    neutral = run(
        centre(
            **{
                "channels.social.intents": {"query": {"share": 1.0}},
                "channels.social.resolution": {"probability": 1.0},
                "channels.phone.follow_up": {"probability": 0.0, "delay": {"mean_min": 5}},
                "channels.social.hours": {"open": "00:00", "close": "24:00"},
                "channels.social.induced": {"elasticity": 0.0},
                "agents.social_team.concurrency": {"threads": 1, "stretch": 1.0},
            }
        )
    )
    a, b = plain.replications(), neutral.replications()
    assert list(a.metric) == list(b.metric) and list(a.name) == list(b.name)
    summed = a.metric.isin(["csat", "resolution_time_s"])
    assert (a.value[~summed] == b.value[~summed]).all()
    np.testing.assert_allclose(a.value[summed], b.value[summed], rtol=1e-12)


def test_plain_model_every_contact_is_a_resolved_journey() -> None:
    """Without mechanics: journeys = offered, resolved = answered, one contact each, FCR 1."""
    result = run(centre())
    for out in result.outputs:
        for ch in ("phone", "social"):
            m = out.channels[ch]
            assert m["journeys"] == m["offered"]
            assert m["journeys_resolved"] == m["answered"]
            assert m["journeys_gave_up"] == m["abandoned"]
            assert m["contacts_per_journey"] == 1.0
            assert m["fcr"] == 1.0
            assert m["first_response_s"] == pytest.approx(m["asa_s"])


FULL: dict[str, Any] = {
    "channels.social.intents": {
        "complaint": {"share": 0.6, "resolution": 0.6},
        "query": {"share": 0.3, "handle_time": {"dist": EXP, "mean_min": 2}},
        "joke": {"share": 0.1, "needs": "nothing"},
    },
    "channels.social.resolution": {
        "probability": 0.8,
        "returns": {"to": {"phone": 0.5, "social": 0.3}, "delay": {"mean_min": 30}},
    },
    "channels.social.handoff": {"share": 0.05, "to": "phone", "delay": {"mean_min": 10}},
    "channels.social.auto_reply": {"follow_up_increase": 0.2, "csat_penalty": 0.1},
    "channels.social.follow_up": {"probability": 0.1, "delay": {"mean_min": 45}},
    "channels.phone.retrial": {"to": {"phone": 0.5, "social": 0.2}, "delay": {"mean_min": 10}},
    "channels.phone.resolution": {
        "probability": 0.75,
        "returns": {"to": {"phone": 0.6}, "delay": {"mean_h": 2}},
    },
}


def test_conservation_of_contacts_and_journeys() -> None:
    """With every mechanism on, contacts and journeys are conserved on every channel."""
    result = run(centre(**FULL), records="full")
    for out in result.outputs:
        for m in out.channels.values():
            assert (
                m["offered"]
                == m["answered"] + m["abandoned"] + m["waiting_end"] + m["in_service_end"] + m["no_action"]
            )
            nothing = m["journeys"] - m["journeys_resolved"] - m["journeys_gave_up"] - m["journeys_open_end"]
            assert nothing >= 0
        assert out.channels["social"]["no_action"] > 0
    contacts = result.contacts()
    assert not contacts.duplicated(["replication", "contact_id"]).any()


def test_resolution_creates_repeat_contacts() -> None:
    """Unresolved customers come back: more contacts per journey, FCR below 1, more phone volume."""
    base = run(centre())
    mech = run(centre(**{"channels.social.resolution": FULL["channels.social.resolution"]}))
    assert mean_ci(values(mech, "social", "contacts_per_journey")).ci_low > 1.0
    assert mean_ci(values(mech, "social", "fcr")).ci_high < 1.0
    assert paired_ci(values(mech, "phone", "offered"), values(base, "phone", "offered")).ci_low > 0


def test_handoff_phone_volume_matches_expectation() -> None:
    """Hand-offs add phone contacts: on common random numbers, the added phone volume has
    the binomial expectation answered-social × share (delay 0, no warm-up)."""
    share = 0.2
    base = run(centre())
    handoff = run(
        centre(
            **{
                "channels.social.handoff": {
                    "share": share,
                    "to": "phone",
                    "delay": {"mean_s": 0, "fixed": True},
                }
            }
        )
    )
    added = values(handoff, "phone", "offered") - values(base, "phone", "offered")
    answered = values(handoff, "social", "answered")
    n = answered.sum()
    expected, sd = n * share, math.sqrt(n * share * (1 - share))
    assert abs(added.sum() - expected) <= 3.5 * sd, (added.sum(), expected, sd)


def test_induced_demand_matches_expectation() -> None:
    """Opening social with an elasticity draws (ref/target)^e × volume, part moved from phone."""
    e, new_share = 0.5, 0.4
    data = centre(
        **{
            "channels.social.induced": {
                "elasticity": e,
                "reference_response_min": 240,
                "new_share": new_share,
                "moved_from": {"phone": 1.0},
            }
        }
    )
    result = run(data, replications=8)
    hours = 24
    social_rate = 40 * (240 / 60) ** e  # target 60 min
    phone_rate = 240 - social_rate * (1 - new_share)
    for ch, rate in (("social", social_rate), ("phone", phone_rate)):
        counts = values(result, ch, "offered")
        expected = rate * hours * len(counts)
        assert abs(counts.sum() - expected) <= 3.5 * math.sqrt(expected), (ch, counts.sum(), expected)


def test_auto_reply_speeds_first_response_not_resolution() -> None:
    """Auto-reply lowers the time to first response and does not raise the resolution rate."""
    mech = {
        "channels.social.resolution": {"probability": 0.7},
        "channels.social.follow_up": {"probability": 0.05, "delay": {"mean_min": 30}},
    }
    without = run(centre(**mech))
    with_auto = run(
        centre(**mech, **{"channels.social.auto_reply": {"follow_up_increase": 0.3, "csat_penalty": 0.1}})
    )
    assert (
        paired_ci(
            values(with_auto, "social", "first_response_s"), values(without, "social", "first_response_s")
        ).ci_high
        < 0
    )
    diff = paired_ci(
        values(with_auto, "social", "resolution_rate"), values(without, "social", "resolution_rate")
    )
    assert diff.mean <= 0 or diff.ci_low <= 0
    assert paired_ci(values(with_auto, "social", "offered"), values(without, "social", "offered")).ci_low > 0


def test_retrial_brings_callers_back() -> None:
    """Callers who abandon and retry add phone contacts and fewer journeys end given up."""
    base = run(centre(**{"agents.phone_team.count": 12}))
    retry = run(
        centre(
            **{
                "agents.phone_team.count": 12,
                "channels.phone.retrial": {"to": {"phone": 0.7}, "delay": {"mean_min": 5}},
            }
        )
    )
    assert paired_ci(values(retry, "phone", "offered"), values(base, "phone", "offered")).ci_low > 0
    rate = lambda r: values(r, "phone", "journeys_gave_up") / values(r, "phone", "journeys")  # noqa: E731
    assert paired_ci(rate(retry), rate(base)).ci_high < 0


def test_concurrency_serves_more_threads() -> None:
    """Agents holding 3 conversations (each 1.5× slower) answer social posts sooner."""
    data = centre(**{"agents.social_team.count": 2, "channels.social.arrivals": {"rate_per_hour": 45}})
    one = run(data)
    three = run(
        centre(
            **{
                "agents.social_team.count": 2,
                "channels.social.arrivals": {"rate_per_hour": 45},
                "agents.social_team.concurrency": {"threads": 3, "stretch": 1.5},
            }
        )
    )
    assert paired_ci(values(three, "social", "asa_s"), values(one, "social", "asa_s")).ci_high < 0
    on_duty = three.values("group", "social_team", "on_duty")
    np.testing.assert_allclose(on_duty, 2.0)


def test_opening_hours_hold_written_work_and_close_the_phone() -> None:
    """Email-like social waits overnight; a closed phone line takes no calls at night."""
    hours = {"open": "08:00", "close": "20:00"}
    data = centre(
        **{"channels.social.hours": hours, "channels.phone.hours": hours, "channels.social.patience": None}
    )
    del data["channels"]["social"]["patience"]
    result = run(data, records="full", replications=2)
    contacts = result.contacts()
    clock = lambda t: (t % 86400) / 3600  # noqa: E731
    phone = contacts[contacts.channel == "phone"]
    assert ((clock(phone.arrived_at) >= 8) & (clock(phone.arrived_at) < 20)).all()
    social = contacts[(contacts.channel == "social") & contacts.answered_at.notna()]
    assert ((clock(social.answered_at) >= 8) & (clock(social.answered_at) <= 20)).all()
    assert (clock(contacts[contacts.channel == "social"].arrived_at) < 8).any()


def test_csat_and_sentiment_move_with_service() -> None:
    """Fewer social agents: complaints wait in public, sentiment and satisfaction fall."""
    mech = {
        "channels.social.intents": {"complaint": {"share": 0.6}, "query": {"share": 0.4}},
        "channels.social.resolution": {"probability": 0.8},
    }
    good = run(centre(**mech))
    poor = run(centre(**mech, **{"agents.social_team.count": 1}))
    sentiment = lambda r: r.values("group", "overall", "public_sentiment")  # noqa: E731
    assert paired_ci(sentiment(poor), sentiment(good)).ci_high < 0
    assert paired_ci(values(poor, "social", "csat"), values(good, "social", "csat")).ci_high < 0


def test_cost_is_hours_times_rate() -> None:
    """Cost = agents on duty × hours × cost per hour; cost per resolved journey divides by resolutions."""
    data = centre(**{"agents.phone_team.cost_per_hour": 30.0, "agents.social_team.cost_per_hour": 25.0})
    result = run(data, replications=2)
    for out in result.outputs:
        assert out.groups["phone_team"]["cost"] == pytest.approx(14 * 24 * 30.0)
        assert out.groups["overall"]["cost"] == pytest.approx(14 * 24 * 30.0 + 4 * 24 * 25.0)
        resolved = sum(m["journeys_resolved"] for m in out.channels.values())
        assert out.groups["overall"]["cost_per_resolved_journey"] == pytest.approx(
            out.groups["overall"]["cost"] / resolved
        )


def test_many_platforms_are_social_channels() -> None:
    """x, facebook and instagram are separate social channels with their own volume and mix."""
    data = centre()
    social = data["channels"].pop("social")
    for name, rate in (("x", 20), ("facebook", 10), ("instagram", 5)):
        data["channels"][name] = copy.deepcopy(social) | {
            "kind": "social",
            "arrivals": {"rate_per_hour": rate},
        }
    data["agents"]["social_team"]["skills"] = ["x", "facebook", "instagram"]
    data["channels"]["x"]["intents"] = {
        "complaint": {"share": 0.7},
        "joke": {"share": 0.3, "needs": "nothing"},
    }
    result = run(data)
    offered = {ch: values(result, ch, "offered").mean() for ch in ("x", "facebook", "instagram")}
    assert offered["x"] > offered["facebook"] > offered["instagram"]
    assert values(result, "x", "no_action").sum() > 0
    assert values(result, "facebook", "no_action").sum() == 0


def test_mechanics_config_errors() -> None:
    """Routes to unknown channels, shares not adding up, and misplaced blocks are errors."""
    bad = [
        centre(**{"channels.social.handoff": {"share": 0.1, "to": "fax", "delay": {"mean_min": 1}}}),
        centre(**{"channels.social.intents": {"a": {"share": 0.5}, "b": {"share": 0.4}}}),
        centre(**{"channels.phone.auto_reply": {}}),
        centre(**{"agents.phone_team.concurrency": {"threads": 2}}),
        centre(**{"channels.phone.retrial": {"to": {"phone": 0.8, "social": 0.4}, "delay": {"mean_s": 1}}}),
    ]
    for data in bad:
        with pytest.raises(sim.ScenarioError):
            sim.load_scenario(data)
