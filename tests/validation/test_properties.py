"""Property-based tests: any valid scenario runs, and its results obey the model's invariants.

Scenarios come from `tests.strategies` (short horizons, every channel kind, distribution
family and routing policy). Each test draws `strategies.PROPERTY_EXAMPLES` scenarios under
`make test`, and many more under `make fuzz` (`STAFFSIM_HYPOTHESIS_PROFILE=fuzz`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given

import sim
from sim.results import RunResult
from tests.strategies import PROPERTIES, fifo_single_group_scenarios, scenarios

EPS = 1e-9


def run_full(data: dict[str, Any]) -> RunResult:
    """Run a scenario dict with per-contact records."""
    return sim.run(sim.load_scenario(data), records="full")


def in_unit_interval_or_nan(value: float, defined: bool) -> bool:
    """A ratio is in [0, 1] when its denominator is positive, NaN when it is zero."""
    return (0.0 <= value <= 1.0 + EPS) if defined else math.isnan(value)


def check_conservation(result: RunResult) -> None:
    """offered = answered + abandoned + waiting_end + in_service_end, per channel and replication.

    (Plus `no_action`, contacts that need no reply, when the model reports them.)
    """
    for out in result.outputs:
        for name, m in out.channels.items():
            parts = (
                m["answered"],
                m["abandoned"],
                m["waiting_end"],
                m["in_service_end"],
                m.get("no_action", 0),
            )
            assert all(p >= 0 for p in parts), (name, m)
            assert m["offered"] == sum(parts), (out.replication, name, m)
            assert m["backlog_end"] == m["waiting_end"] + m["in_service_end"]


def check_ranges(result: RunResult) -> None:
    """Shares in [0, 1] (NaN exactly when undefined); waits, queues and agents non-negative.

    The service level's denominator also counts contacts still waiting past their target at
    the horizon, so it may be defined when none ended; it is NaN only if none could be judged.
    """
    for out in result.outputs:
        for name, m in out.channels.items():
            ended = m["answered"] + m["abandoned"]
            sl = m["service_level"]
            assert (0.0 <= sl <= 1.0 + EPS) if ended > 0 else (math.isnan(sl) or 0.0 <= sl <= 1.0), (name, m)
            assert in_unit_interval_or_nan(m["abandon_rate"], ended > 0), (name, m)
            assert in_unit_interval_or_nan(m["p_wait"], m["offered"] > 0), (name, m)
            assert m["asa_s"] >= 0 if m["answered"] else math.isnan(m["asa_s"])
            assert m["mean_wait_s"] >= 0 if ended else math.isnan(m["mean_wait_s"])
            assert m["queue_length"] >= 0
        for name, g in out.groups.items():
            assert in_unit_interval_or_nan(g["occupancy"], g["on_duty"] > 0), (name, g)
            assert 0 <= g["busy_agents"] <= g["on_duty"] + EPS, (name, g)


def check_records(result: RunResult) -> None:
    """Every contact recorded once, with consistent times; the records add up to the metrics."""
    horizon = result.scenario.horizon_s
    preemptive = result.scenario.routing.policy == "preemptive"
    table = result.contacts()
    for out in result.outputs:
        df = table[table.replication == out.replication]
        ids = df.contact_id.to_numpy()
        assert np.array_equal(np.sort(ids), np.arange(len(df))), "each contact exactly once"
        arrived, answered, ended = df.arrived_at, df.answered_at, df.ended_at
        assert ((arrived >= 0) & (arrived < horizon)).all()
        assert (df.wait_s >= -EPS).all() and (df.handle_time_s >= 0).all() and (df.patience_s >= 0).all()
        taken = answered.notna()
        assert (answered[taken] >= arrived[taken]).all()
        assert (answered[taken] <= horizon).all()
        over = ended.notna()
        assert (ended[over] >= arrived[over]).all() and (ended[over] <= horizon + EPS).all()
        both = taken & over
        assert (ended[both] >= answered[both]).all()
        # A customer is answered before their patience runs out, or abandons exactly then.
        assert (df.wait_s[taken] <= df.patience_s[taken] + EPS).all()
        outcome = df.outcome.astype(str)
        is_ans, is_ab = outcome == "answered", outcome == "abandoned"
        is_wait, is_serv = outcome == "waiting", outcome == "in_service"
        assert (over == (is_ans | is_ab)).all()
        if preemptive:  # an interrupted contact back in its queue keeps its first answer time
            assert (taken[is_ans | is_serv]).all() and not taken[is_ab].any()
        else:
            assert (taken == (is_ans | is_serv)).all()
        np.testing.assert_allclose(ended[is_ab] - arrived[is_ab], df.patience_s[is_ab], rtol=1e-9, atol=1e-6)
        never = is_wait & ~taken
        np.testing.assert_allclose(df.wait_s[never], horizon - arrived[never], rtol=1e-9, atol=1e-6)
        service = (ended - answered)[is_ans]
        if preemptive:  # interrupted email work resumes later: service spans at least the work
            assert (service >= df.handle_time_s[is_ans] - 1e-6).all()
        else:
            np.testing.assert_allclose(service, df.handle_time_s[is_ans], rtol=1e-9, atol=1e-6)
        assert (df.group[taken].astype(str) != "").all() and (df.group[~taken].astype(str) == "").all()
        counted = df[df.counted]
        for name, m in out.channels.items():
            mine = counted[counted.channel.astype(str) == name]
            by = mine.outcome.astype(str).value_counts()
            assert len(mine) == m["offered"]
            assert by.get("answered", 0) == m["answered"] and by.get("abandoned", 0) == m["abandoned"]
            assert by.get("waiting", 0) == m["waiting_end"] and by.get("in_service", 0) == m["in_service_end"]
            assert by.get("no_action", 0) == m.get("no_action", 0)
            waits = mine.wait_s[mine.outcome.astype(str) == "answered"]
            if len(waits):
                assert math.isclose(waits.mean(), m["asa_s"], rel_tol=1e-9, abs_tol=1e-6)


@PROPERTIES
@given(data=scenarios())
@pytest.mark.slow
def test_any_valid_scenario_runs_and_keeps_its_invariants(data: dict[str, Any]) -> None:
    """A generated scenario runs without error; conservation, ranges and records all hold.

    One run per example checks three families of invariants (see the `check_*` helpers):
    conservation of contacts per channel and replication; every share in [0, 1] or NaN
    exactly when undefined, occupancy included; and per-contact records that are
    complete (each contact once), ordered in time (arrival ≤ answer ≤ end ≤ horizon),
    consistent with their outcome, and adding up to the channel metrics.
    """
    result = run_full(data)
    assert result.n == data["replications"]
    check_conservation(result)
    check_ranges(result)
    check_records(result)


def censored_waits(result: RunResult) -> pd.Series:
    """Each contact's wait (until answered, or until the horizon), by (replication, contact)."""
    table = result.contacts()
    return table.set_index(["replication", "contact_id"]).wait_s.sort_index()


@PROPERTIES
@given(data=fifo_single_group_scenarios())
@pytest.mark.slow
def test_one_more_agent_never_raises_any_customers_wait(data: dict[str, Any]) -> None:
    """With one FIFO group and no abandonment, one more agent never raises anyone's wait.

    This is a theorem only in this setting: a FIFO multi-server queue with identical
    servers, fed the same customers (arrival times and work, which common random numbers
    guarantee), gives every customer a wait that is non-increasing in the number of
    servers (the Kiefer-Wolfowitz workload vector only shrinks when a server is added).
    It holds customer by customer, so it is checked per contact on the records, with waits
    censored at the horizon; the channel's mean of those waits and its count answered
    follow. It is *not* true pathwise in general, so other scenarios are not tested for it:
    with abandonment, a faster queue keeps customers who would have left and they wait in
    front of others; with priorities or thresholds, more agents can serve a high-priority
    channel sooner and make a low-priority contact wait longer. (ASA over answered contacts
    is not monotone either: the extra agent answers contacts that waited long.)
    """
    fewer = run_full(data)
    more_data = {**data, "agents": {"team": {**data["agents"]["team"]}}}
    more_data["agents"]["team"]["count"] += 1
    more = run_full(more_data)
    before, after = censored_waits(fewer), censored_waits(more)
    assert before.index.equals(after.index), "the same customers arrive in both runs"
    worse = after > before + 1e-6
    assert not worse.any(), pd.concat({"fewer": before[worse], "more": after[worse]}, axis=1).head()
    for f, m in zip(fewer.outputs, more.outputs, strict=True):
        for name in f.channels:
            assert m.channels[name]["answered"] >= f.channels[name]["answered"]
    table_f, table_m = fewer.contacts(), more.contacts()
    for name in data["channels"]:
        mean_f = table_f.wait_s[table_f.channel.astype(str) == name].mean()
        mean_m = table_m.wait_s[table_m.channel.astype(str) == name].mean()
        if not math.isnan(mean_f):
            assert mean_m <= mean_f + 1e-6
