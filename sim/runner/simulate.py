"""One replication, as a pure function: scenario + seed + replication number → tallies.

The output is plain data (numbers, lists, arrays) so it can cross process and network
boundaries unchanged; the same inputs always give the same output, whichever process or
machine runs it.
"""

from __future__ import annotations

import functools
import math

from sim.config.schema import Scenario
from sim.metrics.contacts import channel_metrics, group_metrics
from sim.model.build import build
from sim.model.engine import after, run
from sim.model.outcomes import plain_journeys
from sim.model.policies import Policy
from sim.model.processes import Centre
from sim.records import RECORD_MODES, FullSink, IntervalSink, LevelAreas, ReplicationOutput
from sim.runner.budget import guard_for
from sim.runner.rng import stream


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
    zero = LevelAreas.zero(len(centre.channels), len(centre.groups))
    at_warmup = zero

    def mark_warmup(_: object) -> None:
        nonlocal at_warmup
        at_warmup = level_areas(centre, env.now)

    if warmup > 0:
        after(env, warmup, mark_warmup)

    snapshots: list[LevelAreas] = []
    if sink is not None:

        def snapshot(_: object) -> None:
            snapshots.append(level_areas(centre, env.now))
            if len(snapshots) < n_intervals:
                after(env, min(interval_s, horizon - env.now), snapshot)

        snapshots.append(zero)
        after(env, min(interval_s, horizon), snapshot)

    run(env, horizon)
    end = level_areas(centre, horizon)
    if sink is not None and len(snapshots) <= n_intervals:
        snapshots.append(end)
    centre.close_books(horizon)

    window = horizon - warmup
    channels: dict[str, dict[str, float]] = {}
    for i, ch in enumerate(centre.channels):
        tallies = {
            "offered": ch.offered,
            "answered": ch.answered,
            "abandoned": ch.abandoned,
            "waiting_end": ch.waiting_end,
            "in_service_end": ch.in_service_end,
            "waited": ch.waited,
            "within_target": ch.within_target,
            "judged_open": ch.judged_open,
            "wait_answered_sum": ch.wait_answered_sum,
            "wait_abandoned_sum": ch.wait_abandoned_sum,
            "queue_area": end.queue[i] - at_warmup.queue[i],
            "no_action": ch.no_action,
            **{f"j_{k}": v for k, v in ch.j.items()},
        }
        if ch.mech is None:
            tallies.update(plain_journeys(ch, scenario.outcome))
        channels[ch.name] = channel_metrics(tallies, window)
    groups: dict[str, dict[str, float]] = {}
    total_busy = total_duty = total_cost = 0.0
    for j, (g, spec) in enumerate(zip(centre.groups, scenario.agents.values(), strict=True)):
        busy = (end.busy[j] - at_warmup.busy[j]) / g.threads
        duty = (end.on_duty[j] - at_warmup.on_duty[j]) / g.threads
        groups[g.name] = group_metrics(busy, duty, window, spec.cost_per_hour)
        total_busy += busy
        total_duty += duty
        total_cost += groups[g.name]["cost"]
    overall = group_metrics(total_busy, total_duty, window)
    overall["cost"] = total_cost
    resolved = sum(ch["journeys_resolved"] for ch in channels.values())
    overall["cost_per_resolved_journey"] = total_cost / resolved if resolved else math.nan
    overall["public_sentiment"] = 100.0 * (end.sentiment - at_warmup.sentiment) / window
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


def level_areas(centre: Centre, now: float) -> LevelAreas:
    """Bring the centre's time-weighted levels up to `now` and return their integrals."""
    return LevelAreas(
        [ch.queue_level.advance(now) for ch in centre.channels],
        [g.busy_level.advance(now) for g in centre.groups],
        [g.on_duty_level.advance(now) for g in centre.groups],
        centre.visible.advance(now),
    )
