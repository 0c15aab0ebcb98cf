"""Agents through the day: rosters, shift handovers, proficiency, and the blending policies."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.config.errors import ScenarioError
from sim.config.staffing import Shift, StaffingTable
from sim.metrics.stats import paired_ci
from sim.model.roster import roster

H = 3600.0


def test_roster_constant_count() -> None:
    """A constant count is one step at time 0; shrinkage rounds to the nearest agent."""
    assert roster(10, None, None, 0.0, 100 * H) == [(0.0, 10)]
    assert roster(10, None, None, 0.24, 100 * H) == [(0.0, 8)]  # 7.6 → 8
    assert roster(10, None, None, 0.26, 100 * H) == [(0.0, 7)]  # 7.4 → 7


def test_roster_shifts_with_break_and_overnight() -> None:
    """Shifts add up; a break removes the shift's agents; a shift past midnight continues."""
    day = Shift(start="08:00", end="16:00", count=5, breaks=[{"start": "12:00", "minutes": 30}])
    night = Shift(start="22:00", end="06:00", count=2)
    steps = roster(None, None, [day, night], 0.0, 24 * H)
    assert steps == [
        (0.0, 2),  # Sunday's night shift runs into Monday 00:00–06:00
        (6 * H, 0),
        (8 * H, 5),
        (12 * H, 0),
        (12.5 * H, 5),
        (16 * H, 0),
        (22 * H, 2),
    ]


def test_roster_shift_days() -> None:
    """A weekday-only shift leaves the weekend unstaffed (day 0 is a Monday)."""
    steps = dict(
        roster(
            None,
            None,
            [Shift(start="09:00", end="17:00", count=3, days=["mon", "tue", "wed", "thu", "fri"])],
            0.0,
            7 * 24 * H,
        )
    )
    saturday_nine = 5 * 24 * H + 9 * H
    assert saturday_nine not in steps
    assert steps[4 * 24 * H + 9 * H] == 3


def test_roster_staffing_table_week() -> None:
    """A week-long table (Monday first) sets each interval's count."""
    counts = [1] * 24 + [2] * 24 + [0] * (5 * 24)
    steps = roster(None, StaffingTable(interval_min=60, counts=counts), None, 0.0, 7 * 24 * H)
    assert steps == [(0.0, 1), (24 * H, 2), (48 * H, 0)]


def test_head_count_needs_exactly_one_source() -> None:
    """A group gives exactly one of count, staffing or shifts."""
    data = _one_channel(agents={"team": {"skills": ["phone"]}})
    with pytest.raises(ScenarioError, match="exactly one of count, staffing or shifts"):
        sim.load_scenario(data)
    data = _one_channel(
        agents={
            "team": {
                "count": 3,
                "shifts": [{"start": "08:00", "end": "16:00", "count": 2}],
                "skills": ["phone"],
            }
        }
    )
    with pytest.raises(ScenarioError, match="exactly one"):
        sim.load_scenario(data)


def _one_channel(**top: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "one",
        "seed": 11,
        "replications": 4,
        "horizon_hours": 48,
        "channels": {
            "phone": {
                "arrivals": {"rate_per_hour": 240},
                "handle_time": {"dist": "exponential", "mean_s": 120},
                "target": {"answer_within_s": 20},
            }
        },
        "agents": {"team": {"count": 10, "skills": ["phone"]}},
    }
    data.update(top)
    return data


def test_shift_handover_neither_loses_nor_duplicates() -> None:
    """Heavy load across shift changes: every contact appears once and ends exactly once.

    Busy agents finish the contact in hand when their shift ends, so every answered
    contact's service lasts exactly its handle time.
    """
    shifts = [
        {"start": "00:00", "end": "08:00", "count": 4},
        {"start": "06:00", "end": "14:00", "count": 6},
        {"start": "14:00", "end": "22:00", "count": 9, "breaks": [{"start": "18:00", "minutes": 15}]},
        {"start": "22:00", "end": "00:00", "count": 5},
    ]
    data = _one_channel(agents={"team": {"shifts": shifts, "skills": ["phone"]}})
    data["channels"]["phone"]["patience"] = {"dist": "exponential", "mean_s": 600}
    result = sim.run(sim.load_scenario(data), replications=3, records="full")
    contacts = result.contacts()
    for r, rows in contacts.groupby("replication"):
        assert rows.contact_id.is_unique
        out = result.outputs[int(r)].channels["phone"]
        assert out["offered"] == len(rows)
        assert (
            out["offered"] == out["answered"] + out["abandoned"] + out["waiting_end"] + out["in_service_end"]
        )
    answered = contacts[contacts.outcome == "answered"]
    np.testing.assert_allclose(
        answered.ended_at - answered.answered_at, answered.handle_time_s, rtol=1e-9, atol=1e-6
    )
    assert (contacts.outcome == "abandoned").sum() > 0, "the test needs real pressure at the handovers"


def test_occupancy_is_against_on_duty_time() -> None:
    """A team on duty 8 h a day, busy with λ·E[S] Erlangs then, has occupancy λ·E[S]/c.

    Against 24 h the same busy time would give a third of it.
    """
    profile = [0.0] * 16 + [180.0] * 16 + [0.0] * 16  # 08:00–16:00, 180 calls/h
    data = _one_channel(
        horizon_hours=24 * 5,
        replications=6,
        channels={
            "phone": {
                "arrivals": {"profile": {"interval_min": 30, "rates_per_hour": profile}},
                "handle_time": {"dist": "exponential", "mean_s": 100},
            }
        },
        agents={"team": {"shifts": [{"start": "08:00", "end": "16:00", "count": 10}], "skills": ["phone"]}},
    )
    result = sim.run(sim.load_scenario(data), workers=2, records="none")
    occupancy = sim.metrics.stats.mean_ci(result.values("group", "team", "occupancy"))
    expected = 180 * 100 / 3600 / 10  # 0.5
    half = occupancy.half_width
    # Bias allowance: calls arriving just before 16:00 are finished after it (overtime counts
    # as on duty); about E[S]/8 h = 0.35 % of the day's work.
    assert abs(occupancy.mean - expected) <= half + 0.005 * expected, occupancy


def test_proficiency_stretches_handle_time() -> None:
    """A group with handle_time multiplier 1.5 spends 1.5 × the contact's work on it."""
    data = _one_channel(
        agents={
            "fast": {"count": 2, "skills": ["phone"]},
            "slow": {"count": 10, "skills": ["phone"], "proficiency": {"phone": {"handle_time": 1.5}}},
        }
    )
    result = sim.run(sim.load_scenario(data), replications=1, records="full")
    contacts = result.contacts()
    for group, factor in (("fast", 1.0), ("slow", 1.5)):
        rows = contacts[(contacts.group == group) & (contacts.outcome == "answered")]
        assert len(rows) > 100
        np.testing.assert_allclose(rows.ended_at - rows.answered_at, factor * rows.handle_time_s, rtol=1e-9)


def _trace(tmp_path: Path, name: str, times: list[float]) -> str:
    path = tmp_path / f"{name}.csv"
    path.write_text("t\n" + "\n".join(str(t) for t in times) + "\n")
    return str(path)


def test_preempted_email_completes_with_exactly_its_work(tmp_path: Path) -> None:
    """One agent: an email (100 s) is interrupted at 30 s by a call (20 s) and resumes.

    The email ends at 120 s: 100 s of work plus the 20 s call, no work lost or repeated.
    """
    data = {
        "name": "preempt",
        "seed": 1,
        "replications": 1,
        "horizon_hours": 1,
        "channels": {
            "phone": {
                "arrivals": {"trace": {"file": _trace(tmp_path, "phone", [30.0]), "column": "t"}},
                "handle_time": {"dist": "deterministic", "mean_s": 20},
            },
            "email": {
                "arrivals": {"trace": {"file": _trace(tmp_path, "email", [0.0]), "column": "t"}},
                "handle_time": {"dist": "deterministic", "mean_s": 100},
            },
        },
        "agents": {"one": {"count": 1, "skills": ["phone", "email"]}},
        "routing": {"policy": "preemptive", "order": ["phone", "email"]},
    }
    contacts = (
        sim.run(sim.load_scenario(data), replications=1, records="full").contacts().set_index("channel")
    )
    assert contacts.loc["phone", "answered_at"] == 30.0 and contacts.loc["phone", "ended_at"] == 50.0
    assert contacts.loc["email", "answered_at"] == 0.0
    assert contacts.loc["email", "ended_at"] == 120.0


def test_preemption_under_load_keeps_every_email_whole() -> None:
    """With many interruptions, each email's time in service equals its work plus the calls it yielded to."""
    data = _one_channel(
        horizon_hours=8,
        channels={
            "phone": {
                "arrivals": {"rate_per_hour": 100},
                "handle_time": {"dist": "exponential", "mean_s": 60},
            },
            "email": {
                "arrivals": {"rate_per_hour": 20},
                "handle_time": {"dist": "exponential", "mean_min": 5},
            },
        },
        agents={"team": {"count": 4, "skills": ["phone", "email"]}},
        routing={"policy": "preemptive", "order": ["phone", "email"]},
    )
    result = sim.run(sim.load_scenario(data), replications=2, records="full")
    for out in result.outputs:
        ch = out.channels
        for name in ("phone", "email"):
            c = ch[name]
            assert c["offered"] == c["answered"] + c["abandoned"] + c["waiting_end"] + c["in_service_end"]
    contacts = result.contacts()
    answered = contacts[(contacts.channel == "email") & (contacts.outcome == "answered")]
    assert ((answered.ended_at - answered.answered_at) >= answered.handle_time_s - 1e-9).all()
    phone = contacts[contacts.channel == "phone"]
    without = sim.run(
        sim.load_scenario({**data, "routing": {"policy": "priority", "order": ["phone", "email"]}}),
        replications=2,
        records="full",
    ).contacts()
    assert phone.wait_s.mean() < without[without.channel == "phone"].wait_s.mean()


def _blend(agents: dict[str, Any], routing: dict[str, Any]) -> sim.Scenario:
    """Phone (8 Erlangs) and a heavy email load (9.5 Erlangs of 60-min work)."""
    return sim.load_scenario(
        {
            "name": "blend",
            "seed": 3,
            "replications": 10,
            "horizon_hours": 100,
            "warmup_hours": 2,
            "channels": {
                "phone": {
                    "arrivals": {"rate_per_hour": 480},
                    "handle_time": {"dist": "exponential", "mean_s": 60},
                    "patience": {"dist": "exponential", "mean_s": 300},
                    "target": {"answer_within_s": 20},
                },
                "email": {
                    "arrivals": {"rate_per_hour": 9.5},
                    "handle_time": {"dist": "exponential", "mean_min": 60},
                },
            },
            "agents": agents,
            "routing": routing,
        }
    )


@pytest.mark.slow
def test_threshold_lies_between_dedicated_and_pooled() -> None:
    """Phone service level: pooled (priority) < threshold (reserve 3) < dedicated teams.

    With long emails, a fully pooled team is often all busy on email when a call comes;
    dedicated teams keep 10 agents for calls; a threshold keeps 3 idle agents for calls.
    Paired differences (common random numbers) must exclude 0 in the stated direction.
    """
    order = ["phone", "email"]
    dedicated = _blend(
        {"p": {"count": 10, "skills": ["phone"]}, "e": {"count": 10, "skills": ["email"]}},
        {"policy": "priority", "order": order},
    )
    pooled = _blend(
        {"all": {"count": 20, "skills": ["phone", "email"]}}, {"policy": "priority", "order": order}
    )
    threshold = _blend(
        {"all": {"count": 20, "skills": ["phone", "email"]}},
        {"policy": "threshold", "order": order, "reserve": 3},
    )
    sl = {
        name: sim.run(s, workers=2, records="none").values("channel", "phone", "service_level")
        for name, s in (("ded", dedicated), ("pool", pooled), ("thr", threshold))
    }
    assert paired_ci(sl["thr"], sl["pool"]).ci_low > 0
    assert paired_ci(sl["ded"], sl["thr"]).ci_low > 0


def test_threshold_zero_reserve_is_priority() -> None:
    """With reserve 0 the threshold rule takes email whenever no call waits: plain priority."""
    order = ["phone", "email"]
    a = _blend({"all": {"count": 20, "skills": ["phone", "email"]}}, {"policy": "priority", "order": order})
    b = _blend(
        {"all": {"count": 20, "skills": ["phone", "email"]}},
        {"policy": "threshold", "order": order, "reserve": 0},
    )
    short = {"horizon_hours": 10}
    ra = sim.run(a.model_copy(update=short), replications=2, records="none").replications()
    rb = sim.run(b.model_copy(update=short), replications=2, records="none").replications()
    assert ra.equals(rb)


def test_overflow_waits_before_helping() -> None:
    """An overflow group takes phone contacts only once they have waited `overflow_after_s`."""
    data = _one_channel(
        horizon_hours=12,
        agents={
            "phone_team": {"count": 7, "skills": ["phone"]},
            "back_office": {
                "count": 3,
                "skills": ["email"],
                "overflow_after_s": {"phone": 45},
            },
        },
        routing={"policy": "overflow"},
    )
    data["channels"]["email"] = {
        "arrivals": {"rate_per_hour": 6},
        "handle_time": {"dist": "exponential", "mean_min": 5},
    }
    result = sim.run(sim.load_scenario(data), replications=2, records="full")
    contacts = result.contacts()
    helped = contacts[(contacts.channel == "phone") & (contacts.group == "back_office")]
    assert len(helped) > 20, "the back office should help under this load"
    assert (helped.answered_at - helped.arrived_at >= 45 - 1e-9).all()


def test_overflow_needs_overflow_policy() -> None:
    """overflow_after_s without routing.policy overflow is an error naming the key."""
    data = _one_channel(
        agents={
            "a": {"count": 2, "skills": ["phone"]},
            "b": {"count": 1, "skills": ["phone"], "overflow_after_s": {"email": 3}},
        }
    )
    with pytest.raises(ScenarioError, match="overflow_after_s"):
        sim.load_scenario(data)


def test_longest_wait_first_relative_to_target() -> None:
    """Relative to target, a short-target channel is served before a long-target one of equal wait."""
    base = _one_channel(
        horizon_hours=20,
        channels={
            "phone": {
                "arrivals": {"rate_per_hour": 200},
                "handle_time": {"dist": "exponential", "mean_s": 60},
                "target": {"answer_within_s": 20},
            },
            "email": {
                "arrivals": {"rate_per_hour": 40},
                "handle_time": {"dist": "exponential", "mean_s": 300},
                "target": {"answer_within_h": 4},
            },
        },
        agents={"team": {"count": 6, "skills": ["phone", "email"]}},
    )
    plain = copy.deepcopy(base) | {"routing": {"policy": "longest_wait_first"}}
    relative = copy.deepcopy(base) | {"routing": {"policy": "longest_wait_first", "relative_to_target": True}}
    p = sim.run(sim.load_scenario(plain), replications=4, records="none")
    r = sim.run(sim.load_scenario(relative), replications=4, records="none")
    assert paired_ci(r.values("channel", "phone", "asa_s"), p.values("channel", "phone", "asa_s")).ci_high < 0
    assert paired_ci(r.values("channel", "email", "asa_s"), p.values("channel", "email", "asa_s")).ci_low > 0


def test_custom_policy_object_is_used() -> None:
    """A policy object passed to sim.run decides routing (here: never serve email)."""

    class PhoneOnly:
        preemptive = False

        def choose(self, group: Any, now: float) -> Any:
            for q in group.queues:
                if q.name == "phone" and q.n_waiting:
                    return q
            return None

    data = _one_channel(
        horizon_hours=4,
        channels={
            "phone": {
                "arrivals": {"rate_per_hour": 100},
                "handle_time": {"dist": "exponential", "mean_s": 60},
            },
            "email": {
                "arrivals": {"rate_per_hour": 10},
                "handle_time": {"dist": "exponential", "mean_s": 60},
            },
        },
        agents={"team": {"count": 4, "skills": ["phone", "email"]}},
    )
    result = sim.run(sim.load_scenario(data), replications=1, policy=PhoneOnly())
    assert result.outputs[0].channels["email"]["answered"] == 0
    assert result.outputs[0].channels["phone"]["answered"] > 0
