"""The contact lifecycle: abandonment, per-contact records, routing, skills and warm-up.

Where a behaviour can be checked exactly, the scenario is driven by a small arrival trace
with deterministic handle times and patience, so the expected timeline is worked out by
hand in the test. Routing rules are checked on every contact of a random run (a pathwise
property), and only the "much lower" comparison of waits is statistical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.metrics.stats import mean_ci
from tests.builders import mmc


def _trace_scenario(
    tmp_path: Path, times: list[float], patience_s: float | None = 10.0, **changes: Any
) -> sim.Scenario:
    """One agent, 100 s handle time, 10 s patience, arrivals at `times` (seconds)."""
    path = tmp_path / "arrivals.csv"
    path.write_text("t\n" + "".join(f"{t}\n" for t in times), encoding="utf-8")
    data = mmc(horizon_hours=1, warmup_hours=0)
    data["channels"]["phone"] = {
        "arrivals": {"trace": {"file": str(path), "column": "t"}},
        "handle_time": {"dist": "deterministic", "mean_s": 100},
        "target": {"answer_within_s": 20},
    }
    if patience_s is not None:
        data["channels"]["phone"]["patience"] = {"dist": "deterministic", "mean_s": patience_s}
    data["agents"] = {"solo": {"count": 1, "skills": ["phone"]}}
    data.update(changes)
    return sim.load_scenario(data)


# Timeline with one agent, service 100 s, patience 10 s:
#   0: served at once, 0-100.     5: waits, leaves at 15.     50: waits, leaves at 60.
#  95: waits 5 s (< patience), served 100-200.               250: served at once, 250-350.
TIMELINE = [0.0, 5.0, 50.0, 95.0, 250.0]


@pytest.fixture
def timeline(tmp_path: Path) -> tuple[sim.RunResult, pd.DataFrame]:
    result = sim.run(_trace_scenario(tmp_path, TIMELINE), replications=1, records="full")
    return result, result.contacts().set_index("arrived_at")


def test_impatient_contact_abandons_and_is_never_served(timeline: tuple[sim.RunResult, pd.DataFrame]) -> None:
    """A contact whose patience is shorter than its wait leaves at arrival + patience, unserved."""
    _, contacts = timeline
    for arrived in (5.0, 50.0):
        row = contacts.loc[arrived]
        assert row["outcome"] == "abandoned"
        assert np.isnan(row["answered_at"])
        assert row["ended_at"] == arrived + 10.0
        assert row["wait_s"] == 10.0
        assert row["group"] == ""


def test_contact_answered_before_patience_runs_out_is_served(
    timeline: tuple[sim.RunResult, pd.DataFrame],
) -> None:
    """A contact whose wait is shorter than its patience is answered when the agent frees up."""
    _, contacts = timeline
    row = contacts.loc[95.0]
    assert row["outcome"] == "answered"
    assert row["answered_at"] == 100.0
    assert row["ended_at"] == 200.0
    assert row["wait_s"] == 5.0
    assert row["group"] == "solo"


def test_idle_agent_takes_an_arrival_at_once(timeline: tuple[sim.RunResult, pd.DataFrame]) -> None:
    """A contact arriving while an agent is idle is answered at its arrival time (wait 0)."""
    _, contacts = timeline
    for arrived in (0.0, 250.0):
        row = contacts.loc[arrived]
        assert row["answered_at"] == arrived
        assert row["wait_s"] == 0.0


def test_lifecycle_metrics_follow_from_the_timeline(timeline: tuple[sim.RunResult, pd.DataFrame]) -> None:
    """Channel metrics of the hand-worked timeline: 5 offered, 3 answered, 2 abandoned."""
    result, _ = timeline
    m = result.outputs[0].channels["phone"]
    assert (m["offered"], m["answered"], m["abandoned"]) == (5, 3, 2)
    assert (m["waiting_end"], m["in_service_end"]) == (0, 0)
    assert m["p_wait"] == pytest.approx(3 / 5)  # 5, 50 and 95 waited
    assert m["asa_s"] == pytest.approx((0 + 5 + 0) / 3)
    assert m["mean_wait_s"] == pytest.approx((0 + 10 + 10 + 5 + 0) / 5)
    assert m["abandon_rate"] == pytest.approx(2 / 5)
    assert m["service_level"] == pytest.approx(3 / 5)  # every answered within 20 s


# --- per-contact records ---------------------------------------------------------------


def _busy_scenario() -> sim.Scenario:
    """Critically loaded M/M/10+M with a warm-up: every outcome occurs, some at the horizon."""
    data = mmc(horizon_hours=3, warmup_hours=0.5)
    data["channels"]["phone"]["arrivals"] = {"rate_per_hour": 630}
    data["channels"]["phone"]["patience"] = {"dist": "exponential", "mean_s": 300}
    return sim.load_scenario(data)


@pytest.fixture(scope="module")
def busy() -> sim.RunResult:
    return sim.run(_busy_scenario(), replications=4, records="full")


def test_full_records_have_one_row_per_contact(busy: sim.RunResult) -> None:
    """Each replication's contacts table lists every contact exactly once (ids 0..n−1)."""
    contacts = busy.contacts()
    for _, group in contacts.groupby("replication"):
        ids = np.sort(group["contact_id"].to_numpy())
        assert np.array_equal(ids, np.arange(len(ids)))


def test_full_records_have_every_outcome(busy: sim.RunResult) -> None:
    """The busy scenario really exercises all four outcomes (so the checks below mean something)."""
    outcomes = set(busy.contacts()["outcome"])
    assert outcomes == {"answered", "abandoned", "waiting", "in_service"}


def test_full_records_fields_are_consistent(busy: sim.RunResult) -> None:
    """Times in each record agree with its outcome, its wait, handle time and patience."""
    c = busy.contacts()
    taken = c["answered_at"].notna()
    assert (c.loc[taken, "answered_at"] >= c.loc[taken, "arrived_at"]).all()
    assert (c["wait_s"] >= 0).all()
    ans = c[c["outcome"] == "answered"]
    np.testing.assert_allclose(ans["ended_at"] - ans["answered_at"], ans["handle_time_s"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(ans["wait_s"], ans["answered_at"] - ans["arrived_at"], rtol=0, atol=1e-9)
    ab = c[c["outcome"] == "abandoned"]
    assert ab["answered_at"].isna().all()
    np.testing.assert_allclose(ab["ended_at"] - ab["arrived_at"], ab["patience_s"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(ab["wait_s"], ab["patience_s"], rtol=0, atol=1e-6)
    open_ = c["outcome"].isin(["waiting", "in_service"])
    assert c.loc[open_, "ended_at"].isna().all()
    assert c.loc[c["outcome"] == "waiting", "answered_at"].isna().all()
    assert c.loc[c["outcome"] == "in_service", "answered_at"].notna().all()
    # An answered or in-service contact waited less than its patience; a group took it.
    assert (c.loc[taken, "wait_s"] <= c.loc[taken, "patience_s"]).all()
    assert (c.loc[taken, "group"] == "team").all() and (c.loc[~taken, "group"] == "").all()
    assert (c["counted"] == (c["arrived_at"] >= busy.scenario.warmup_s)).all()


def test_full_records_outcome_counts_equal_channel_metrics(busy: sim.RunResult) -> None:
    """Counting the counted contacts' outcomes reproduces offered, answered, abandoned and the open counts."""
    c = busy.contacts()
    counted = c[c["counted"]]
    for o in busy.outputs:
        rows = counted[counted["replication"] == o.replication]
        by = rows["outcome"].value_counts()
        m = o.channels["phone"]
        assert m["offered"] == len(rows)
        assert m["answered"] == by["answered"]
        assert m["abandoned"] == by["abandoned"]
        assert m["waiting_end"] == by["waiting"]
        assert m["in_service_end"] == by["in_service"]


def test_full_records_waits_reproduce_asa(busy: sim.RunResult) -> None:
    """The mean wait of counted answered records equals the replication's asa_s."""
    c = busy.contacts()
    ans = c[c["counted"] & (c["outcome"] == "answered")]
    for o in busy.outputs:
        waits = ans.loc[ans["replication"] == o.replication, "wait_s"]
        assert o.channels["phone"]["asa_s"] == pytest.approx(waits.mean(), rel=1e-9)


# --- routing and skills -----------------------------------------------------------------


def _pooled(policy: str) -> sim.Scenario:
    """Phone and email on one pooled group of 10 at 90 % load, identical handle times."""
    return sim.load_scenario(
        {
            "name": f"pooled-{policy}",
            "seed": 11,
            "horizon_hours": 8,
            "warmup_hours": 1,
            "channels": {
                "phone": {
                    "arrivals": {"rate_per_hour": 360},
                    "handle_time": {"dist": "exponential", "mean_s": 60},
                },
                "email": {
                    "arrivals": {"rate_per_hour": 180},
                    "handle_time": {"dist": "exponential", "mean_s": 60},
                },
            },
            "agents": {"pool": {"count": 10, "skills": ["phone", "email"]}},
            "routing": {"policy": policy, "order": ["phone", "email"]},
        }
    )


@pytest.fixture(scope="module")
def priority_run() -> sim.RunResult:
    return sim.run(_pooled("priority"), replications=10, records="full", workers=2)


def test_priority_gives_phone_much_lower_asa_than_email(priority_run: sim.RunResult) -> None:
    """Under load, phone first makes phone's ASA far below email's (99 % CIs do not overlap)."""
    phone = mean_ci(priority_run.values("channel", "phone", "asa_s"), 0.99)
    email = mean_ci(priority_run.values("channel", "email", "asa_s"), 0.99)
    assert phone.ci_high < email.ci_low


def _waiting_at(arrived: np.ndarray, left: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many of the contacts [arrived, left) are waiting at each time in `at`."""
    return np.searchsorted(np.sort(arrived), at, side="left") - np.searchsorted(
        np.sort(left), at, side="right"
    )


def test_priority_never_takes_email_while_phone_waits(priority_run: sim.RunResult) -> None:
    """Every email is answered at a moment when no phone contact is waiting."""
    c = priority_run.contacts()
    horizon = priority_run.scenario.horizon_s
    for _, rep in c.groupby("replication"):
        phone = rep[rep["channel"] == "phone"]
        left = phone["answered_at"].fillna(phone["ended_at"]).fillna(horizon).to_numpy()
        taken = rep.loc[(rep["channel"] == "email") & rep["answered_at"].notna(), "answered_at"].to_numpy()
        assert len(taken) > 0
        assert (_waiting_at(phone["arrived_at"].to_numpy(), left, taken) == 0).all()


def test_fifo_answers_oldest_first_across_queues() -> None:
    """With fifo, a pooled group answers contacts of both channels in order of arrival."""
    c = sim.run(_pooled("fifo"), replications=3, records="full").contacts()
    for _, rep in c.groupby("replication"):
        taken = rep[rep["answered_at"].notna()].sort_values("answered_at", kind="stable")
        assert set(taken["channel"]) == {"phone", "email"}
        assert np.all(np.diff(taken["arrived_at"].to_numpy()) >= 0)


def test_skill_restricted_channel_is_served_only_by_its_group() -> None:
    """Email, a skill of the blend group only, is never taken by the phone-only group."""
    scenario = sim.load_scenario(
        {
            "name": "skills",
            "seed": 5,
            "horizon_hours": 6,
            "channels": {
                "phone": {
                    "arrivals": {"rate_per_hour": 240},
                    "handle_time": {"dist": "exponential", "mean_s": 60},
                },
                "email": {
                    "arrivals": {"rate_per_hour": 150},
                    "handle_time": {"dist": "exponential", "mean_s": 60},
                },
            },
            "agents": {
                "phone_only": {"count": 4, "skills": ["phone"]},
                "blend": {"count": 4, "skills": ["phone", "email"]},
            },
        }
    )
    c = sim.run(scenario, replications=3, records="full").contacts()
    taken = c[c["answered_at"].notna()]
    email_groups = set(taken.loc[taken["channel"] == "email", "group"])
    phone_groups = set(taken.loc[taken["channel"] == "phone", "group"])
    assert email_groups == {"blend"}
    assert phone_groups == {"phone_only", "blend"}


# --- warm-up ---------------------------------------------------------------------------


def test_warmup_excludes_early_arrivals_from_offered(tmp_path: Path) -> None:
    """Only contacts arriving after the warm-up are offered, answered and waited for in the metrics."""
    # One agent, 100 s each: 1799.5 is served 1799.5-1899.5 but not counted; 1800.5 waits
    # until 1899.5 (99 s) and 1810 until 1999.5 (189.5 s); 5000 is served at once.
    times = [10.0, 20.0, 30.0, 1799.5, 1800.5, 1810.0, 5000.0]
    scenario = _trace_scenario(tmp_path, times, patience_s=None, horizon_hours=2, warmup_hours=0.5)
    m = sim.run(scenario, replications=1, records="none").outputs[0].channels["phone"]
    assert m["offered"] == 3
    assert m["answered"] == 3
    assert m["asa_s"] == pytest.approx((99.0 + 189.5 + 0.0) / 3)


def test_warmup_offered_equals_contacts_arriving_after_it() -> None:
    """With random arrivals, offered equals the number of records arriving at or after the warm-up."""
    result = sim.run(
        sim.load_scenario(mmc(horizon_hours=3, warmup_hours=0.5)), replications=3, records="full"
    )
    c = result.contacts()
    early = c["arrived_at"] < result.scenario.warmup_s
    assert early.any()
    for o in result.outputs:
        rep = c[c["replication"] == o.replication]
        assert o.channels["phone"]["offered"] == int((rep["arrived_at"] >= result.scenario.warmup_s).sum())
