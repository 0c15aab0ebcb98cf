"""The staffing optimiser: the fewest agents per group that meet every service target.

A target is a bound on the mean of a metric over replications, written as text::

    phone.service_level>=0.8      # a channel metric (sim.metrics.contacts.CHANNEL_METRICS)
    email.asa_s<=86400
    phone.abandon_rate<=0.05
    overall.occupancy<=0.9        # a group metric (GROUP_METRICS), per group or "overall"

`optimize` searches staffing in two stages:

1. **Analytic start.** Each channel's mean arrival rate (expected arrivals over the
   horizon ÷ horizon, so a daily profile counts at its mean rate) and mean handle time give
   an Erlang C staffing figure — or Erlang A when the channel has a patience distribution
   (exact for exponential patience; other distributions enter through their mean) — for the
   channel's targets: the service level within the channel's answer-within time
   (`Scenario.target_s`), ASA, mean wait, P(wait) and abandonment. A channel counts towards
   the group that serves it; a channel that several searched groups serve counts once,
   towards the one with the fewest skills (the specialists: the cross-trained groups also
   answer elsewhere), with that group's handle-time proficiency. A group serves the sum of
   its channels' figures; an occupancy target on a group raises it to ⌈load ÷ bound⌉; the
   group's shrinkage grosses the agents on duty up to a head count. A channel without a
   target adds nothing. These are queueing approximations (Poisson arrivals, exponential
   service, no routing between channels); the simulation corrects them.
2. **Search by simulation on common random numbers.** Every candidate staffing runs the
   same replications with the same seed, so replication r sees the same customers whatever
   the staffing and differences between candidates are not blurred by customer noise.
   While a target is missed, one agent is added to the group whose addition most reduces
   the total shortfall (the sum over targets of the distance to the bound, relative to
   the bound). Once every target is met, one agent is removed from a group — the largest
   first — whenever every target still holds; the search stops when no single removal
   keeps every target. Each staffing is simulated at most once (a cache), and the
   replications of a step run as tasks on the executor (`--workers`, `--dask`).

The search works on a vector of integer **knobs** (`Knob`), each addressed by a dotted key
path into the scenario (`agents.phone_team.count`), or an element of a list at such a path
(`agents.team.staffing.counts`, `index=3`), and applied with
`sim.config.variants.apply_overrides` and validated like a variant (`apply_knobs`). The
walk itself only sees integers, a lower bound and a weight per knob, so the same search
serves any integer staffing decision the schema exposes. `group_knobs` builds the knobs for
agent-group head counts (groups with a constant `count`), which is what `optimize` searches
today; groups staffed by a table or shifts keep their staffing.

This module holds the head-count search (`optimize`). Its parts live in their own modules and
are re-exported here: the targets in `sim.planning.targets`, the analytic start in
`sim.planning.erlang_start`, knobs and the simulation of staffing vectors in
`sim.planning.search`, and the result (`Plan`, `Trial`, `TargetResult`) in
`sim.planning.plan`. The per-interval search is `sim.planning.intervals.optimize`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.config.schema import Scenario
from sim.config.variants import Experiment
from sim.metrics.stats import Estimate, metric_ci
from sim.planning.erlang_start import analytic_start as analytic_start
from sim.planning.erlang_start import available
from sim.planning.erlang_start import channel_agents as channel_agents
from sim.planning.erlang_start import head_count as head_count
from sim.planning.erlang_start import mean_rate_per_s as mean_rate_per_s
from sim.planning.erlang_start import owner_group as owner_group
from sim.planning.plan import Plan as Plan
from sim.planning.plan import TargetResult as TargetResult
from sim.planning.plan import Trial as Trial
from sim.planning.search import JudgedT as JudgedT
from sim.planning.search import Knob as Knob
from sim.planning.search import SearchBase as SearchBase
from sim.planning.search import Vector as Vector
from sim.planning.search import apply_knobs as apply_knobs
from sim.planning.search import (
    check_start_names,
    kept_warning,
    search_setup,
    searched_groups,
    unstaffed_warnings,
)
from sim.planning.search import counted_groups as counted_groups
from sim.planning.search import group_knobs as group_knobs
from sim.planning.settings import OptimizeSettings, RunContext, check_mode
from sim.planning.targets import OPERATORS as OPERATORS
from sim.planning.targets import OVERALL as OVERALL
from sim.planning.targets import UNDEFINED_SHORTFALL as UNDEFINED_SHORTFALL
from sim.planning.targets import Target as Target
from sim.planning.targets import check_replications as check_replications
from sim.planning.targets import parse_targets as parse_targets
from sim.results import RunResult

# --- staffing vectors ---------------------------------------------------------------


def _set(vector: Vector, i: int, value: int) -> Vector:
    return (*vector[:i], value, *vector[i + 1 :])


class _Levels:
    """Head counts that change the agents on duty, per searched group.

    With shrinkage, on-duty agents are round(count × (1 − shrinkage)), so several head
    counts give the same agents on duty (a plateau) and one agent more may change nothing.
    The search moves between the fewest head counts of successive on-duty levels instead.
    """

    def __init__(self, scenario: Scenario, knobs: Sequence[Knob], cap: int) -> None:
        self.shrinkage = [scenario.agents[k.label].shrinkage for k in knobs]
        self.cap = cap

    def lowest(self, i: int, count: int) -> int:
        """The fewest head count with as many agents on duty as `count`."""
        return head_count(available(count, self.shrinkage[i]), self.shrinkage[i], self.cap)

    def up(self, i: int, count: int) -> int:
        """The fewest head count with more agents on duty than `count`."""
        return head_count(available(count, self.shrinkage[i]) + 1, self.shrinkage[i], self.cap)

    def down(self, i: int, count: int) -> int:
        """The fewest head count with fewer agents on duty than `count` (0 stays 0)."""
        return self.lowest(i, max(0, self.lowest(i, count) - 1))


@dataclass(frozen=True)
class Evaluation:
    """One staffing vector simulated on the common replications.

    Attributes:
        vector: the knob values.
        result: its replications.
        estimates: per target, the mean [95 % CI].
        met: per target, whether the mean meets it.
        shortfall: the total relative shortfall (0 when every target is met).
    """

    vector: Vector
    result: RunResult
    estimates: tuple[Estimate, ...]
    met: tuple[bool, ...]
    shortfall: float

    @property
    def all_met(self) -> bool:
        """Whether every target holds."""
        return all(self.met)


class _Search(SearchBase[Evaluation]):
    """The head-count search: targets judged on means over the whole run."""

    def _judge(self, vector: Vector, result: RunResult) -> Evaluation:
        estimates = tuple(_estimate(result, t) for t in self.targets)
        values = [t.judged(e, self.confident) for t, e in zip(self.targets, estimates, strict=True)]
        met = tuple(t.met(v) for t, v in zip(self.targets, values, strict=True))
        shortfall = sum(t.shortfall(v) for t, v in zip(self.targets, values, strict=True))
        return Evaluation(vector, result, estimates, met, shortfall)


def _estimate(result: RunResult, target: Target) -> Estimate:
    return metric_ci(result.values(target.scope, target.name, target.metric), target.metric)


# --- the plan ------------------------------------------------------------------------


SATURATED = 0.98
"""A group whose mean occupancy reaches this is flagged in `Plan.warnings`."""


def _warnings(
    result: RunResult, counts: Mapping[str, int], targets: Sequence[TargetResult]
) -> tuple[str, ...]:
    out = []
    for r in targets:
        e = r.estimate
        if r.met and e.n > 1 and e.ci_low <= r.target.bound <= e.ci_high:
            out.append(
                f"{r.target} is met by the mean ({e.mean:.4g}) but its 95% CI [{e.ci_low:.4g}, "
                f"{e.ci_high:.4g}] includes the bound: more replications (-n) would make the plan surer"
            )
    groups = result.group_estimates()
    for g, count in counts.items():
        occupancy = groups[g]["occupancy"].mean if g in groups else math.nan
        if count > 0 and occupancy >= SATURATED:
            out.append(
                f"{g} is busy {100 * occupancy:.1f}% of the time: its queue probably grows without bound, "
                f"so service measured over the {result.scenario.horizon_hours:g} h horizon looks better than "
                "it would over a longer run; add a backlog_end target or lengthen the horizon"
            )
    return tuple(out)


# --- the optimiser ----------------------------------------------------------------------


def optimize(
    scenario_or_experiment: str | Path | dict[str, Any] | Scenario | Experiment,
    targets: Iterable[str | Target],
    *,
    settings: OptimizeSettings | None = None,
    context: RunContext | None = None,
    start: Mapping[str, int] | None = None,
) -> Plan:
    """Find the fewest agents per group such that every target's mean is met.

    Args:
        scenario_or_experiment: the scenario (a file, dict, `Scenario`, or an
            `Experiment` whose baseline is used; variants are ignored).
        targets: e.g. ``["phone.service_level>=0.8", "email.asa_s<=86400"]``.
        settings: groups, replications, seed, max_agents and confident
            (`sim.planning.settings.OptimizeSettings`; `max_staffings` must stay None: this
            search has no staffing bound). Here `groups` defaults to every group with a
            `count` that some target depends on (one serving a targeted channel, or named by
            a group target); the others keep the scenario's staffing, and the plan warns
            about groups left out that way. A named group that no target depends on goes
            down to zero (the plan warns when a channel is left with no agents).
            `max_agents` caps the searched groups together. With `confident` a target is
            met only when its whole 95 % CI is (the lower end of the CI reaches a ``>=``
            bound, the upper end stays within a ``<=`` one), not just its mean: a plan that
            holds on new customers too, at the price of more agents; it needs at least 2
            replications. Every staffing uses the same seed (common random numbers:
            replication r sees the same customers whatever the staffing).
        context: the executor and progress callbacks (`sim.planning.settings.RunContext`);
            default in this process, silently.
        start: group → count to start the search from instead of the analytic staffing
            (groups left out start at the scenario's count).

    Returns:
        The `Plan`. When the targets cannot be met (by adding agents to these groups, or
        within `max_agents`), `Plan.met` is False and `Plan.note` says why.

    Raises:
        ValueError: a bad target, group, start count, `replications`, `max_agents` or a
            `max_staffings`.
        ScenarioError: the scenario cannot be loaded.
    """
    settings = settings or OptimizeSettings()
    check_mode("headcount", settings)
    base, parsed, n, base_seed = search_setup(scenario_or_experiment, targets, settings)
    max_agents = settings.max_agents
    groups, kept = searched_groups(
        base, parsed, settings.groups, counted_groups(base) if settings.groups is None else settings.groups
    )
    knobs = group_knobs(base, groups)
    names = [k.label for k in knobs]
    if start is None:
        first = analytic_start(base, parsed, names, max_agents)
    else:
        check_start_names(start, names)
        bad = {g: c for g, c in start.items() if isinstance(c, bool) or not isinstance(c, int) or c < 0}
        if bad:
            raise ValueError(f"start counts must be whole numbers >= 0, not {bad}")
        first = {g: int(start.get(g, base.agents[g].count or 0)) for g in names}
    levels = _Levels(base, knobs, max_agents)
    x: Vector = tuple(max(k.low, levels.lowest(i, first[k.label])) for i, k in enumerate(knobs))
    if sum(x) > max_agents:
        shown = ", ".join(f"{g}={c}" for g, c in first.items())
        raise ValueError(
            f"the starting staffing has {sum(x)} agents ({shown}), more than max_agents={max_agents}"
        )

    search = _Search(base, knobs, parsed, n, base_seed, context or RunContext(), settings.confident)
    current = search.evaluate([x])[0]
    moves: list[tuple[str, str]] = []
    note = ""
    # Add: one agent on duty at a time (one head count, or several across a shrinkage
    # plateau), to the group where it reduces the total shortfall most per head.
    while not current.all_met:
        room = [i for i in range(len(knobs)) if sum(x) - x[i] + levels.up(i, x[i]) <= max_agents]
        if not room:
            note = f"stopped at max_agents={max_agents} with targets still missed"
            break
        candidates = [_set(x, i, levels.up(i, x[i])) for i in room]
        evaluations = search.evaluate(candidates)
        gains = [
            (current.shortfall - e.shortfall) / (c[i] - x[i])
            for i, c, e in zip(room, candidates, evaluations, strict=True)
        ]
        pick = max(range(len(room)), key=lambda j: (gains[j], -room[j]))
        best = room[pick]
        if not gains[pick] > 0:
            note = (
                f"stopped: no single extra agent in {', '.join(names)} brings the missed targets "
                "closer; they may not be reachable by adding agents to these groups"
            )
            break
        x, current = candidates[pick], evaluations[pick]
        moves.append(("add", knobs[best].label))
    # Remove: from the largest group first, while every target still holds.
    if current.all_met:
        removed = True
        while removed:
            removed = False
            order = sorted(
                (i for i in range(len(knobs)) if x[i] > knobs[i].low),
                key=lambda i: (-x[i] * knobs[i].weight, i),
            )
            for i in order:
                candidate = _set(x, i, max(knobs[i].low, levels.down(i, x[i])))
                if candidate == x:
                    continue
                evaluation = search.evaluate([candidate])[0]
                if evaluation.all_met:
                    x, current, removed = candidate, evaluation, True
                    moves.append(("remove", knobs[i].label))
                    break
        note = "every target met; removing any one agent from a searched group misses a target"
        if all(x[i] <= k.low for i, k in enumerate(knobs)):
            note = "every target met with no agents in the searched groups"

    def results(e: Evaluation) -> tuple[TargetResult, ...]:
        return tuple(TargetResult(t, est, m) for t, est, m in zip(parsed, e.estimates, e.met, strict=True))

    counts = {g: spec.count for g, spec in base.agents.items() if spec.count is not None}
    counts.update(zip(names, x, strict=True))
    result = current.result
    achieved = results(current)
    return Plan(
        scenario=result.scenario,
        counts=counts,
        start={g: first.get(g, c) for g, c in counts.items()},
        searched=tuple(names),
        targets=achieved,
        channels=result.channel_estimates(),
        groups=result.group_estimates(),
        met=current.all_met,
        note=note,
        moves=tuple(moves),
        trials=tuple(
            Trial(dict(zip(names, e.vector, strict=True)), results(e), e.all_met, e.shortfall)
            for e in search.cache.values()
        ),
        warnings=(
            *([kept_warning(base, kept)] if kept else []),
            *_warnings(result, counts, achieved),
            *unstaffed_warnings(result.scenario),
        ),
        **search.summary(),
    )
