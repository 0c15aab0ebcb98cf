"""Run-time form of a channel's mechanics: intents, resolution, routes back, hours, demand.

`build_mechanics` turns a channel's validated settings into plain objects the contact
lifecycle reads (`sim.model.processes`). A channel with none of the mechanics gets None,
and then its contacts follow the plain queueing path, draw for draw.

Random numbers that decide a contact's fate (its intent, whether it is resolved, whether
it is handed off, whether it follows up) are drawn when it arrives, from streams of its
channel, so they belong to the customer (common random numbers). Where a customer goes
next and after what delay are drawn when that happens, from a separate stream; contacts
created that way (repeats, hand-offs, retrials, follow-ups) draw their handle time and
patience from "repeat" streams, so the channel's own arrivals keep their draws.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from numpy.random import Generator

from sim.config import journeys as cfg
from sim.config.schema import Channel, Scenario
from sim.config.staffing import WEEKDAYS, clock_seconds
from sim.model.distributions import make_sampler
from sim.model.entities import ChannelState

Streams = Callable[..., Generator]
DAY_S = 86_400.0


def uniforms(rng: Generator, block: int = 4096) -> Iterator[float]:
    """An endless iterator of U(0, 1) draws, made a block at a time."""
    while True:
        yield from rng.random(block).tolist()


@dataclass
class Route:
    """Where a customer goes next: target channels with cumulative probabilities, and a delay."""

    cum: list[float]
    targets: list[ChannelState]
    delay: cfg.Delay

    def choose(self, rng: Generator) -> ChannelState | None:
        """A target channel, or None (the customer gives up)."""
        i = bisect.bisect_right(self.cum, float(rng.random()))
        return self.targets[i] if i < len(self.targets) else None

    def wait(self, rng: Generator) -> float:
        """The delay before the customer comes back, seconds."""
        return delay_draw(self.delay, rng)


def delay_draw(delay: cfg.Delay, rng: Generator) -> float:
    """A draw of a configured delay (exponential, or fixed)."""
    mean = delay.mean_seconds
    return mean if delay.fixed or mean == 0 else float(rng.exponential(mean))


@dataclass
class IntentRT:
    """An intent at run time."""

    name: str
    needs: str
    resolution: float | None
    handle: Iterator[float] | None


@dataclass
class ChannelMechanics:
    """Everything beyond the queue that happens to a channel's contacts."""

    intents: list[IntentRT] = field(default_factory=list)
    intent_cum: list[float] = field(default_factory=list)
    intent_u: Iterator[float] | None = None
    fate: Iterator[float] | None = None
    resolution_p: float = 1.0
    returns: Route | None = None
    handoff: cfg.Handoff | None = None
    handoff_target: ChannelState | None = None
    retrial: Route | None = None
    auto_reply: cfg.AutoReply | None = None
    follow_up: cfg.FollowUp | None = None
    route_rng: Generator | None = None
    repeat_handle: Iterator[float] | None = None
    repeat_patience: Iterator[float] | None = None
    repeat_fate: Iterator[float] | None = None
    complaint: int = -1
    """Index of the intent named `complaint` (−1: none)."""

    def intent_index(self, name: str) -> int:
        """Index of the intent called `name` on this channel, or −1."""
        for i, it in enumerate(self.intents):
            if it.name == name:
                return i
        return -1


def has_mechanics(ch: Channel) -> bool:
    """True when the channel uses any mechanism beyond the plain queue."""
    return any(
        getattr(ch, key) is not None
        for key in ("intents", "resolution", "handoff", "retrial", "auto_reply", "follow_up")
    )


def build_mechanics(scenario: Scenario, channels: list[ChannelState], streams: Streams) -> None:
    """Attach run-time mechanics to the channels.

    When any channel has mechanics, every channel gets a `ChannelMechanics` (each may
    receive repeat contacts, which need its repeat streams); otherwise none does.
    """
    by_name = {ch.name: ch for ch in channels}
    any_mech = any(has_mechanics(spec) for spec in scenario.channels.values())
    for ch in channels:
        spec = scenario.channels[ch.name]
        if not any_mech:
            continue
        m = ChannelMechanics()
        if spec.intents is not None:
            cum = 0.0
            for name, it in spec.intents.items():
                cum += it.share
                m.intent_cum.append(cum)
                handle = None
                if it.handle_time is not None:
                    handle = make_sampler(it.handle_time).stream(streams("handle", ch.name, name))
                m.intents.append(IntentRT(name, it.needs, it.resolution, handle))
            m.intent_cum[-1] = 1.0
            m.intent_u = uniforms(streams("intent", ch.name))
            m.complaint = m.intent_index("complaint")
        m.fate = uniforms(streams("fate", ch.name))
        if spec.resolution is not None:
            m.resolution_p = spec.resolution.probability
            if spec.resolution.returns is not None:
                m.returns = _route(spec.resolution.returns, by_name)
        if spec.handoff is not None:
            m.handoff = spec.handoff
            m.handoff_target = by_name[spec.handoff.to]
        if spec.retrial is not None:
            m.retrial = _route(spec.retrial, by_name)
        m.auto_reply = spec.auto_reply
        m.follow_up = spec.follow_up
        m.route_rng = streams("route", ch.name)
        m.repeat_handle = make_sampler(spec.handle_time).stream(streams("repeat-handle", ch.name))
        if spec.patience is not None:
            m.repeat_patience = make_sampler(spec.patience).stream(streams("repeat-patience", ch.name))
        m.repeat_fate = uniforms(streams("repeat-fate", ch.name))
        ch.mech = m


def _route(route: cfg.Route, by_name: dict[str, ChannelState]) -> Route:
    cum: list[float] = []
    targets: list[ChannelState] = []
    total = 0.0
    for name, p in route.to.items():
        total += p
        cum.append(total)
        targets.append(by_name[name])
    return Route(cum, targets, route.delay)


def opening_steps(hours: cfg.Hours, horizon_s: float) -> list[tuple[float, bool]]:
    """Times the channel opens (True) and closes (False), starting with its state at 0."""
    steps: list[tuple[float, bool]] = [(0.0, False)]
    open_s, close_s = clock_seconds(hours.open), clock_seconds(hours.close)
    for day in range(math.ceil(horizon_s / DAY_S)):
        if WEEKDAYS[day % 7] not in hours.days:
            continue
        start, end = day * DAY_S + open_s, day * DAY_S + close_s
        if start <= 0:
            steps[0] = (0.0, True)
        elif start < horizon_s:
            steps.append((start, True))
        if end < horizon_s:
            steps.append((end, False))
    return steps


def demand_multipliers(scenario: Scenario, expected: dict[str, float]) -> dict[str, float]:
    """Arrival-rate multipliers from induced demand (1.0 for channels it does not touch).

    Args:
        scenario: the scenario.
        expected: channel → expected arrivals per second before induced demand.

    Raises:
        ValueError: induced demand on or from a channel that replays a trace.
    """
    mult = dict.fromkeys(scenario.channels, 1.0)
    moved: dict[str, float] = dict.fromkeys(scenario.channels, 0.0)
    for name, spec in scenario.channels.items():
        induced = spec.induced
        if induced is None:
            continue
        if spec.arrivals.trace is not None:
            raise ValueError(f"channels.{name}.induced: a trace cannot be scaled")
        reference = induced.reference_response_min * 60.0
        m = (reference / scenario.target_s(name)) ** induced.elasticity
        mult[name] *= m
        volume = expected[name] * m
        for source, share in induced.moved_from.items():
            moved[source] += volume * (1.0 - induced.new_share) * share
    for source, rate in moved.items():
        if rate > 0:
            if scenario.channels[source].arrivals.trace is not None:
                raise ValueError(f"induced demand moves volume from '{source}', which replays a trace")
            base = expected[source] * mult[source]
            mult[source] *= max(0.0, 1.0 - rate / base) if base > 0 else 0.0
    return mult
