"""One replication, as a pure function: scenario + seed + replication number → tallies.

The output is plain data (numbers, lists, arrays) so it can cross process and network
boundaries unchanged; the same inputs always give the same output, whichever process or
machine runs it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from simpy.events import Event, Timeout

from sim.config.schema import Scenario
from sim.metrics.contacts import channel_metrics, group_metrics
from sim.model.build import build
from sim.model.entities import IN_SERVICE, WAITING, Level
from sim.model.policies import Policy
from sim.records import RECORD_MODES, FullSink, IntervalSink
from sim.runner.budget import guard_for
from sim.runner.rng import stream


@dataclass
class ReplicationOutput:
    """What one replication hands back.

    Attributes:
        replication: replication number.
        channels: channel → metric → value (see `sim.metrics.contacts.CHANNEL_METRICS`).
        groups: group → metric → value, plus ``"overall"`` for all agents together.
        intervals: per-interval tallies and levels (records ``"summary"`` and ``"full"``).
        contacts: per-contact record columns (records ``"full"``).
    """

    replication: int
    channels: dict[str, dict[str, float]]
    groups: dict[str, dict[str, float]]
    intervals: dict[str, Any] | None = None
    contacts: dict[str, Any] | None = field(default=None, repr=False)


def simulate(
    scenario: Scenario,
    replication: int,
    seed: int | None = None,
    records: str = "summary",
    policy: Policy | None = None,
) -> ReplicationOutput:
    """Run replication `replication` of `scenario` and return its tallies.

    Args:
        scenario: the validated scenario.
        replication: replication number (0-based); picks independent random streams.
        seed: the run's seed; default `scenario.seed`.
        records: ``"none"``, ``"summary"`` or ``"full"`` (see `sim.records`).
        policy: a routing policy object instead of the scenario's named one.
    """
    if records not in RECORD_MODES:
        raise ValueError(f"records must be one of {', '.join(RECORD_MODES)}, not {records!r}")
    seed = scenario.seed if seed is None else seed
    horizon = scenario.horizon_s
    warmup = scenario.warmup_s
    interval_s = scenario.interval_min * 60.0
    n_intervals = max(1, math.ceil(horizon / interval_s))
    targets = [scenario.target_s(name) for name in scenario.channels]
    sink: IntervalSink | None = None
    if records == "summary":
        sink = IntervalSink(len(targets), n_intervals, interval_s, targets)
    elif records == "full":
        sink = FullSink(len(targets), n_intervals, interval_s, targets, warmup)
    built = build(scenario, functools.partial(stream, seed, replication), sink=sink, policy=policy)
    env, centre = built.env, built.centre
    guard_for(scenario, records, f"replication {replication}").install(centre)
    # Areas: queue per channel, busy per group, on duty per group, then public sentiment.
    levels: list[Level] = (
        [ch.queue_level for ch in centre.channels]
        + [g.busy_level for g in centre.groups]
        + [g.on_duty_level for g in centre.groups]
        + [centre.visible]
    )

    at_warmup = [0.0] * len(levels)

    def mark_warmup(_: Event) -> None:
        for i, level in enumerate(levels):
            at_warmup[i] = level.advance(env.now)

    if warmup > 0:
        Timeout(env, warmup).callbacks.append(mark_warmup)

    snapshots: list[list[float]] = []
    if sink is not None:

        def snapshot(_: Event) -> None:
            snapshots.append([level.advance(env.now) for level in levels])
            if len(snapshots) < n_intervals:
                Timeout(env, min(interval_s, horizon - env.now)).callbacks.append(snapshot)

        snapshots.append([0.0] * len(levels))
        Timeout(env, min(interval_s, horizon)).callbacks.append(snapshot)

    env.run(until=horizon)
    end_areas = [level.advance(horizon) for level in levels]
    if sink is not None and len(snapshots) <= n_intervals:
        snapshots.append(end_areas)

    waiting, in_service = centre.open_contacts()
    # open_counts: waiting, in service, and — for the service level — outcomes already known
    # at the horizon: taken within target (a hit), taken late or waiting past it (a miss).
    open_counts = {ch.name: [0, 0, 0, 0] for ch in centre.channels}
    for c in waiting + in_service:
        if c.arrived_at >= warmup:
            counts = open_counts[c.channel.name]
            counts[0 if c.state == WAITING else 1] += 1
            if c.state == WAITING or c.answered_at > c.arrived_at:
                c.channel.waited += 1
            wait = (horizon if c.state == WAITING else c.answered_at) - c.arrived_at
            if wait > c.channel.target_s:
                counts[3] += 1
            elif c.state != WAITING:
                counts[2] += 1
        if sink is not None:
            sink(c, horizon, WAITING if c.state == WAITING else IN_SERVICE)

    window = horizon - warmup
    channels: dict[str, dict[str, float]] = {}
    for i, ch in enumerate(centre.channels):
        tallies = {
            "offered": ch.offered,
            "answered": ch.answered,
            "abandoned": ch.abandoned,
            "waiting_end": open_counts[ch.name][0],
            "in_service_end": open_counts[ch.name][1],
            "waited": ch.waited,
            "within_target": ch.within_target + open_counts[ch.name][2],
            "judged_open": open_counts[ch.name][2] + open_counts[ch.name][3],
            "wait_answered_sum": ch.wait_answered_sum,
            "wait_abandoned_sum": ch.wait_abandoned_sum,
            "queue_area": end_areas[i] - at_warmup[i],
            "no_action": ch.no_action,
            **{f"j_{k}": v for k, v in ch.j.items()},
        }
        if ch.mech is None:
            tallies.update(plain_journeys(ch, scenario.outcome))
        channels[ch.name] = channel_metrics(tallies, window)
    groups: dict[str, dict[str, float]] = {}
    n_ch, n_g = len(centre.channels), len(centre.groups)
    total_busy = total_duty = total_cost = 0.0
    for j, (g, spec) in enumerate(zip(centre.groups, scenario.agents.values(), strict=True)):
        busy = (end_areas[n_ch + j] - at_warmup[n_ch + j]) / g.threads
        duty = (end_areas[n_ch + n_g + j] - at_warmup[n_ch + n_g + j]) / g.threads
        groups[g.name] = group_metrics(busy, duty, window, spec.cost_per_hour)
        total_busy += busy
        total_duty += duty
        total_cost += groups[g.name]["cost"]
    overall = group_metrics(total_busy, total_duty, window)
    overall["cost"] = total_cost
    resolved = sum(ch["journeys_resolved"] for ch in channels.values())
    overall["cost_per_resolved_journey"] = total_cost / resolved if resolved else math.nan
    overall["public_sentiment"] = 100.0 * (end_areas[-1] - at_warmup[-1]) / window
    groups["overall"] = overall

    intervals = None
    contacts = None
    if sink is not None:
        intervals = {
            "interval_s": interval_s,
            "channels": [ch.name for ch in centre.channels],
            "groups": [g.name for g in centre.groups],
            "tallies": sink.tallies(),
            "areas": snapshots,
        }
    if isinstance(sink, FullSink):
        contacts = sink.columns()
    return ReplicationOutput(replication, channels, groups, intervals, contacts)


def plain_journeys(ch: Any, outcome: Any) -> dict[str, float]:
    """Journey tallies of a channel without mechanics.

    Every contact is one customer's whole journey, resolved when answered, given up when
    abandoned, so the tallies follow from the contact tallies.
    """
    gave_up_csat = max(0.0, 1.0 - outcome.wait_penalty - outcome.unresolved_penalty)
    return {
        "j_started": ch.offered,
        "j_resolved": ch.answered,
        "j_gave_up": ch.abandoned,
        "j_nothing_needed": 0,
        "j_first_responses": ch.answered,
        "j_first_response_sum": ch.wait_answered_sum,
        "j_resolution_time_sum": ch.wait_answered_sum + ch.service_sum,
        "j_contacts_sum": ch.answered + ch.abandoned,
        "j_first_contact_resolved": ch.answered,
        "j_csat_sum": ch.answered - outcome.wait_penalty * ch.late_sum + ch.abandoned * gave_up_csat,
    }
