"""The analytic (Erlang) starting points of the staffing searches.

`analytic_start` gives the head counts `sim.planning.headcount.optimize` starts from (step 1
in the notes of `sim.planning.headcount`); `interval_start` gives the per-interval tables
`sim.planning.intervals.optimize.optimize_intervals` starts from (step 1 in the notes of
`sim.planning.intervals.optimize`). Both build on `channel_agents` (Erlang C or A staffing
for one channel's targets), `owner_group` (the group a channel counts towards) and
`head_count` (agents on duty grossed up for shrinkage).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from sim.analytic import erlang
from sim.config.files import read_trace
from sim.config.schema import Scenario
from sim.model.arrivals import ArrivalSource
from sim.model.distributions import make_sampler
from sim.model.journeys import opening_steps
from sim.model.roster import roster
from sim.planning.intervals.grid import Grid, interval_rates
from sim.planning.targets import OVERALL, Target
from sim.types import ChannelKind


def mean_rate_per_s(scenario: Scenario, channel: str) -> float:
    """A channel's mean arrival rate over the horizon, per second."""
    spec = scenario.channels[channel]
    return ArrivalSource(spec.arrivals, scenario.horizon_s).expected_count() / scenario.horizon_s


def open_rate_per_s(scenario: Scenario, channel: str) -> float:
    """A channel's arrival rate per second while it is open (its mean rate when always open).

    With opening hours, agents work the channel only while it is open, so the load they
    carry is the arrivals they can take ÷ the open time: for a phone line the calls that
    arrive while it is open (a closed line takes none), for a written channel every
    arrival (what arrives at night waits for the morning).
    """
    spec = scenario.channels[channel]
    if spec.hours is None:
        return mean_rate_per_s(scenario, channel)
    horizon = scenario.horizon_s
    steps = opening_steps(spec.hours, horizon)
    times = np.array([t for t, _ in steps] + [horizon])
    is_open = np.array([o for _, o in steps], dtype=bool)
    open_s = float(np.sum(np.diff(times)[is_open]))
    if open_s <= 0:
        return 0.0
    source = ArrivalSource(spec.arrivals, horizon)
    if spec.kind is not ChannelKind.PHONE:
        return source.expected_count() / open_s
    expected = np.interp(times, *_cumulative_arrivals(source, horizon))
    return float(np.sum(np.diff(expected)[is_open])) / open_s


def _cumulative_arrivals(
    source: ArrivalSource, horizon: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Expected arrivals from 0 to each time (knots for linear interpolation)."""
    if source.spec.trace is not None:
        t = source.spec.trace
        arrivals = read_trace(t.file, t.column, t.unit, t.day_column)
        arrivals = arrivals[arrivals < horizon]
        return np.concatenate([[0.0], arrivals, [horizon]]), np.concatenate(
            [[0.0], np.arange(1, len(arrivals) + 1, dtype=np.float64), [float(len(arrivals))]]
        )
    starts, rates = source.rate_segments(None)
    bounds = np.append(starts, horizon)
    return bounds, np.concatenate([[0.0], np.cumsum(rates * np.diff(bounds))])


def channel_agents(
    scenario: Scenario,
    channel: str,
    targets: Sequence[Target],
    max_agents: int = 10_000,
    handle_factor: float = 1.0,
    rate_per_s: float | None = None,
) -> int | None:
    """Erlang C (or A) staffing for one channel's targets, served alone; None if it has none.

    Service level uses `min_agents_erlang_c` (or `min_agents_erlang_a` with a patience
    distribution, entered by its mean) with the channel's answer-within time; abandonment,
    ASA, mean wait and P(wait) bounds use the same formulas. Only bounds that more agents
    help (``>=`` on the service level, ``<=`` on the others) count; the figure is the
    largest over them, at least the stable minimum (more agents than Erlangs) without
    abandonment. `handle_factor` scales the mean handle time (a group's proficiency).
    `rate_per_s` replaces the channel's rate while open (`open_rate_per_s`; one
    interval's rate, for per-interval staffing). The figure counts agents on duty (before shrinkage).
    """
    mine = [t for t in targets if t.scope == "channel" and t.name == channel]
    if not mine:
        return None
    spec = scenario.channels[channel]
    lam = open_rate_per_s(scenario, channel) if rate_per_s is None else rate_per_s
    if lam <= 0:
        return 0
    s = make_sampler(spec.handle_time).mean * handle_factor
    load = lam * s
    t_s = scenario.target_s(channel)
    patience = None if spec.patience is None else make_sampler(spec.patience).mean
    if patience is not None and not patience > 0:
        patience = None  # customers who leave at once: Erlang A is undefined; use C
    need = 0 if patience is not None else math.floor(load) + 1
    for t in mine:
        figure: int | None = None
        if t.metric == "service_level" and t.wants_more and 0 < t.bound < 1:
            if patience is None:
                figure = erlang.min_agents_erlang_c(load, s, t_s, t.bound)
            else:
                figure = erlang.min_agents_erlang_a(lam, s, patience, t_s, t.bound)
        elif t.metric == "abandon_rate" and not t.wants_more and patience is not None and 0 < t.bound < 1:
            figure = erlang.min_agents_erlang_a(lam, s, patience, t_s, 0.0, max_abandon=t.bound)
        elif t.metric in ("asa_s", "mean_wait_s", "p_wait") and not t.wants_more:
            ok = functools.partial(_erlang_within, t.metric, t.bound, lam, s, patience)
            figure = erlang.smallest_meeting(ok, max(1, need), max(1, need), max_agents)
        if figure is not None:
            need = max(need, figure)
    return need


def _erlang_within(metric: str, bound: float, lam: float, s: float, patience: float | None, c: int) -> bool:
    """Whether ASA, mean wait or P(wait) with `c` agents is within `bound` (Erlang C or A)."""
    return _erlang_figure(c, metric, lam, s, patience) <= bound


def _erlang_figure(c: int, metric: str, lam: float, s: float, patience: float | None) -> float:
    """ASA, mean wait or P(wait) with `c` agents, by Erlang C (no patience) or A."""
    if patience is None:
        load = lam * s
        if metric == "p_wait":
            return erlang.erlang_c(c, load)
        return erlang.erlang_c_asa(c, load, s)
    result = erlang.erlang_a(c, lam, s, patience)
    return {"p_wait": result.p_wait, "asa_s": result.asa_s, "mean_wait_s": result.mean_wait_s}[metric]


def owner_group(scenario: Scenario, channel: str, groups: Sequence[str]) -> str | None:
    """The group of `groups` a channel's staffing counts towards; None when none serves it.

    That is the first of the groups serving the channel with the fewest skills (the
    specialists: the cross-trained groups also answer elsewhere).
    """
    servers = [g for g in groups if channel in scenario.agents[g].skills]
    if not servers:
        return None
    return min(servers, key=lambda g: len(scenario.agents[g].skills))


def owned_channels(scenario: Scenario, groups: Sequence[str]) -> list[tuple[str, str, float]]:
    """Every channel some group of `groups` serves, as (channel, its `owner_group`, handle-time factor).

    The factor is the owner's proficiency multiplier on the channel's handle time (1 without one).
    """
    out = []
    for channel in scenario.channels:
        owner = owner_group(scenario, channel, groups)
        if owner is not None:
            proficiency = scenario.agents[owner].proficiency.get(channel)
            out.append((channel, owner, 1.0 if proficiency is None else proficiency.handle_time))
    return out


def analytic_start(
    scenario: Scenario, targets: Sequence[Target], groups: Sequence[str], max_agents: int = 10_000
) -> dict[str, int]:
    """The Erlang starting point for the head counts of `groups` (see `sim.planning.headcount`).

    Returns:
        group → head count, for every group in `groups`: agents on duty, grossed up for the
        group's shrinkage.
    """
    on_duty = dict.fromkeys(groups, 0)
    loads = dict.fromkeys(groups, 0.0)
    for channel, owner, factor in owned_channels(scenario, groups):
        need = channel_agents(scenario, channel, targets, max_agents, factor)
        if need is not None:
            on_duty[owner] += need
        lam = open_rate_per_s(scenario, channel)
        if lam > 0:
            loads[owner] += lam * make_sampler(scenario.channels[channel].handle_time).mean * factor
    for t in targets:
        if t.metric == "occupancy" and t.name in on_duty and not t.wants_more and t.bound > 0:
            on_duty[t.name] = max(on_duty[t.name], math.ceil(loads[t.name] / t.bound - 1e-9))
    return {g: head_count(n, scenario.agents[g].shrinkage, max_agents) for g, n in on_duty.items()}


def head_count(on_duty: int, shrinkage: float, cap: int = 10_000) -> int:
    """The fewest scheduled agents that leave `on_duty` available after `shrinkage` (at most `cap`).

    Uses the simulator's rounding (`sim.model.roster.roster`).
    """
    if on_duty <= 0:
        return 0
    most = max(cap, on_duty)
    return (
        erlang.smallest_meeting(lambda c: available(c, shrinkage) >= on_duty, on_duty, on_duty, most) or most
    )


def available(count: int, shrinkage: float) -> int:
    """Agents on duty out of `count` scheduled after `shrinkage` (the simulator's rounding)."""
    return roster(count, None, None, shrinkage, 1.0)[0][1]


def interval_start(
    scenario: Scenario,
    targets: Sequence[Target],
    groups: Sequence[str],
    grid: Grid,
    max_agents: int = 10_000,
) -> dict[str, list[int]]:
    """The per-interval Erlang starting point (see `sim.planning.intervals.optimize`, step 1).

    Returns:
        group → head count per table interval, grossed up for the group's shrinkage.
    """
    on_duty = {g: np.zeros(grid.n_knobs, dtype=np.int64) for g in groups}
    loads = {g: np.zeros(grid.n_knobs) for g in groups}
    for channel, owner, factor in owned_channels(scenario, groups):
        mean_s = make_sampler(scenario.channels[channel].handle_time).mean * factor
        for k, lam in enumerate(interval_rates(scenario, channel, grid)):
            need = channel_agents(scenario, channel, targets, max_agents, factor, rate_per_s=float(lam))
            if need is not None:
                on_duty[owner][k] += need
            loads[owner][k] += lam * mean_s
    for t in targets:
        if t.metric == "occupancy" and not t.wants_more and t.bound > 0:
            for g in groups if t.name == OVERALL else [t.name] if t.name in on_duty else []:
                floor = np.ceil(loads[g] / t.bound - 1e-9).astype(np.int64)
                on_duty[g] = np.maximum(on_duty[g], floor)
    return {
        g: [head_count(int(n), scenario.agents[g].shrinkage, max_agents) for n in on_duty[g]] for g in groups
    }
