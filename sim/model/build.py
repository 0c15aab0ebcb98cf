"""From a validated scenario to a ready-to-run centre.

This is the one place that reads config and touches SimPy.
`build` wires channel queues, agent groups, the routing policy, the arrival feeds and the
random streams of one replication. Streams are named per channel and purpose (arrivals,
daily multipliers, handle times, patience), so each customer's draws are the same in every
variant that keeps the channel (see `sim.runner.rng`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from numpy.random import Generator
from simpy import Environment

from sim.config.schema import Scenario
from sim.model.arrivals import ArrivalSource
from sim.model.distributions import make_sampler
from sim.model.entities import ChannelState, ContactSink, GroupState
from sim.model.journeys import build_mechanics, demand_multipliers, opening_steps
from sim.model.policies import Policy, make_policy
from sim.model.processes import ArrivalFeed, Centre
from sim.model.roster import roster
from sim.types import ChannelKind


@dataclass
class Built:
    """A centre ready to run, with its clock and horizon."""

    env: Environment
    centre: Centre
    horizon_s: float


def channel_order(scenario: Scenario) -> list[str]:
    """Channels in routing order: `routing.order` first, then the rest in file order."""
    order = list(scenario.routing.order or [])
    return order + [name for name in scenario.channels if name not in order]


Streams = Callable[..., Generator]
"""`streams("handle", "phone")` returns the named generator of the replication being built."""


def build(
    scenario: Scenario,
    streams: Streams,
    sink: ContactSink | None = None,
    policy: Policy | None = None,
) -> Built:
    """Build one replication of `scenario`.

    Args:
        scenario: the validated scenario.
        streams: the replication's named random streams (`sim.runner.rng.stream` bound to a
            seed and replication).
        sink: receives every contact as it ends (interval tallies, records).
        policy: a routing policy object; default: the one the scenario names.
    """
    env = Environment()
    channels = [
        ChannelState(name, i, scenario.kind_of(name), scenario.target_s(name))
        for i, name in enumerate(scenario.channels)
    ]
    by_name = {ch.name: ch for ch in channels}
    for ch in channels:
        ch.interruptible = ch.kind is not ChannelKind.PHONE and scenario.channels[ch.name].patience is None
    horizon = scenario.horizon_s
    rosters = {
        name: _threads(roster(g.count, g.staffing, g.shifts, g.shrinkage, horizon), g.concurrency)
        for name, g in scenario.agents.items()
    }
    groups = [
        GroupState(name, i, rosters[name][0][1], len(channels)) for i, name in enumerate(scenario.agents)
    ]
    for group, spec in zip(groups, scenario.agents.values(), strict=True):
        group.queues = [by_name[s] for s in spec.skills]
        for s in spec.skills:
            by_name[s].groups.append(group)
        for s, prof in spec.proficiency.items():
            group.mult[by_name[s].index] = prof.handle_time
            group.resolve_mult[by_name[s].index] = prof.resolution
        if spec.concurrency is not None:
            group.threads = spec.concurrency.threads
            group.mult = [m * spec.concurrency.stretch for m in group.mult]
    # Overflow groups come after a channel's own groups, so arrivals try its own first.
    for group, spec in zip(groups, scenario.agents.values(), strict=True):
        for s, delay in spec.overflow_after_s.items():
            ch = by_name[s]
            group.queues.append(ch)
            group.overflow[ch.index] = delay
            ch.groups.append(group)
            ch.overflow.append((group, delay))
    if policy is None:
        policy = make_policy(scenario.routing.policy, channel_order(scenario), scenario.routing)
    elif not isinstance(policy, Policy):
        raise TypeError(
            f"a routing policy needs a method choose(group, now) and a flag preemptive "
            f"(False unless phone contacts may interrupt email work); {type(policy).__name__} lacks one"
        )
    for group in groups:
        group.all_queues = list(group.queues)
    centre = Centre(env, channels, groups, policy, scenario.warmup_s, sink, scenario.outcome)
    for group in groups:
        centre.start_roster(group, rosters[group.name])
    build_mechanics(scenario, channels, streams)
    for ch in channels:
        hours = scenario.channels[ch.name].hours
        if hours is not None:
            centre.start_hours(ch, opening_steps(hours, horizon))
    expected = {
        name: ArrivalSource(spec.arrivals, horizon).expected_count() / horizon
        for name, spec in scenario.channels.items()
    }
    scale = (
        demand_multipliers(scenario, expected)
        if any(spec.induced is not None for spec in scenario.channels.values())
        else dict.fromkeys(scenario.channels, 1.0)
    )
    for ch in channels:
        ch_spec = scenario.channels[ch.name]
        source = ArrivalSource(ch_spec.arrivals, horizon, scale[ch.name])
        times = source.times(streams("arrivals", ch.name), streams("days", ch.name))
        handle = make_sampler(ch_spec.handle_time).stream(streams("handle", ch.name))
        patience = None
        if ch_spec.patience is not None:
            patience = make_sampler(ch_spec.patience).stream(streams("patience", ch.name))
        if ch_spec.wrap_up is not None:
            ch.wrap = make_sampler(ch_spec.wrap_up).stream(streams("wrap_up", ch.name))
        feed = ArrivalFeed(ch, times, handle, patience)
        profile = ch_spec.handle_time_profile
        if profile is not None:
            feed.handle_interval_s = profile.interval_min * 60.0
            feed.handle_mult = list(profile.multipliers)
        centre.start_arrivals(feed)
    return Built(env, centre, horizon)


def expected_contacts(scenario: Scenario) -> float:
    """Expected number of arrivals over the horizon, all channels (for budgets and bars)."""
    total = 0.0
    for spec in scenario.channels.values():
        total += ArrivalSource(spec.arrivals, scenario.horizon_s).expected_count()
    return total if math.isfinite(total) else math.inf


def _threads(steps: list[tuple[float, int]], concurrency: Any) -> list[tuple[float, int]]:
    """Head counts in conversation slots: agents × threads each (1 without concurrency)."""
    if concurrency is None:
        return steps
    return [(t, n * concurrency.threads) for t, n in steps]
