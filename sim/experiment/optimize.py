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
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from sim.analytic import erlang
from sim.config.loader import validate
from sim.config.schema import Scenario
from sim.config.variants import Experiment, apply_overrides, load_experiment
from sim.experiment.tasks import Task, run_all
from sim.metrics.contacts import CHANNEL_METRICS, GROUP_METRICS
from sim.metrics.stats import Estimate, mean_ci
from sim.model.arrivals import ArrivalSource
from sim.model.distributions import make_sampler
from sim.model.roster import roster
from sim.results import RunResult
from sim.run.executors import Executor, SerialExecutor

OPERATORS = (">=", "<=", ">", "<")
"""Comparison operators a target may use (two-character ones first, for parsing)."""

OVERALL = "overall"
"""The name of all agent groups together in group metrics."""

UNDEFINED_SHORTFALL = 1e12
"""Shortfall of a target whose metric is undefined (NaN in every replication, e.g. a
service level when no contact ended): larger than any real shortfall, so the search first
staffs whatever makes the metric measurable."""

_MIN_SHORTFALL = 1e-12
"""A missed target counts at least this much (a strict bound missed by equality)."""

_EXAMPLE = "phone.service_level>=0.8"

_TARGET_RE = re.compile(r"^\s*(?P<subject>[^<>=]*?)\s*(?P<op>>=|<=|>|<)\s*(?P<bound>[^<>=]*?)\s*$")


@dataclass(frozen=True)
class Target:
    """A bound on the mean of one metric over replications.

    Attributes:
        name: a channel (for channel metrics), or an agent group or ``"overall"`` (for
            group metrics).
        metric: a key of `CHANNEL_METRICS` or `GROUP_METRICS`.
        op: one of ``>=``, ``<=``, ``>``, ``<``.
        bound: the value the mean is compared with.
    """

    name: str
    metric: str
    op: str
    bound: float

    @property
    def scope(self) -> str:
        """``"channel"`` or ``"group"``: which table of results the metric lives in."""
        return "channel" if self.metric in CHANNEL_METRICS else "group"

    @property
    def wants_more(self) -> bool:
        """True for ``>=`` and ``>`` (the metric must reach up to the bound)."""
        return self.op in (">=", ">")

    def __str__(self) -> str:
        return f"{self.name}.{self.metric}{self.op}{self.bound:g}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """Read ``NAME.METRIC OP VALUE``, e.g. ``phone.service_level>=0.8``.

        A value may end in ``%`` (``80%`` is 0.8).

        Raises:
            ValueError: malformed text, an unknown operator or metric, or a bound that is
                not a finite number; the message says what is allowed.
        """
        if not isinstance(text, str):
            raise ValueError(f"a target is text such as {_EXAMPLE!r}, not {text!r}")
        match = _TARGET_RE.match(text)
        if match is None:
            if "=" in text and not any(op in text for op in OPERATORS):
                raise ValueError(
                    f"target {text!r}: the operator must be one of {', '.join(OPERATORS)} (e.g. {_EXAMPLE})"
                )
            raise ValueError(
                f"target {text!r} must look like NAME.METRIC OP VALUE with OP one of "
                f"{', '.join(OPERATORS)}, e.g. {_EXAMPLE}"
            )
        subject, op, raw = match["subject"], match["op"], match["bound"]
        name, dot, metric = subject.rpartition(".")
        name, metric = name.strip(), metric.strip()
        if not dot or not name or not metric:
            raise ValueError(
                f"target {text!r}: name the channel (or group) and the metric as NAME.METRIC, "
                f"e.g. {_EXAMPLE} or {OVERALL}.occupancy<=0.9"
            )
        if metric not in CHANNEL_METRICS and metric not in GROUP_METRICS:
            raise ValueError(
                f"target {text!r}: unknown metric {metric!r}; channel metrics (CHANNEL.METRIC): "
                f"{', '.join(CHANNEL_METRICS)}; group metrics (GROUP.METRIC or {OVERALL}.METRIC): "
                f"{', '.join(GROUP_METRICS)}"
            )
        bound = _number(raw, text)
        return cls(name.strip(), metric.strip(), op, bound)

    def check(self, scenario: Scenario) -> None:
        """Check that the target's channel or group exists in `scenario`.

        Raises:
            ValueError: naming the channels (or groups) the scenario has.
        """
        if self.scope == "channel":
            if self.name not in scenario.channels:
                raise ValueError(
                    f"target {self}: no channel {self.name!r} in scenario {scenario.name!r}; "
                    f"channels are: {', '.join(scenario.channels)}"
                )
        elif self.name != OVERALL and self.name not in scenario.agents:
            raise ValueError(
                f"target {self}: {self.metric} is a group metric and {scenario.name!r} has no agent "
                f"group {self.name!r}; groups are: {', '.join([*scenario.agents, OVERALL])}"
            )

    def met(self, value: float) -> bool:
        """Whether a mean `value` satisfies the target (NaN never does)."""
        if math.isnan(value):
            return False
        if self.op == ">=":
            return value >= self.bound
        if self.op == ">":
            return value > self.bound
        if self.op == "<=":
            return value <= self.bound
        return value < self.bound

    def judged(self, estimate: Estimate, confident: bool = False) -> float:
        """The value a search compares with the bound: the mean, or a 95 % CI end.

        With `confident`, it is the end of the CI nearer to failing (the lower end for
        ``>=``, the upper for ``<=``): the target is met only when the whole interval lies
        on the right side of the bound.
        """
        if not confident:
            return estimate.mean
        return estimate.ci_low if self.wants_more else estimate.ci_high

    def shortfall(self, value: float) -> float:
        """How far `value` misses the target, relative to the bound; 0 when met.

        Relative, so that targets in different units (a fraction, seconds) add up; a bound
        of 0 is taken as an absolute distance.
        """
        if math.isnan(value):
            return UNDEFINED_SHORTFALL
        if self.met(value):
            return 0.0
        gap = self.bound - value if self.wants_more else value - self.bound
        return max(gap / (abs(self.bound) or 1.0), _MIN_SHORTFALL)


def _number(raw: str, text: str) -> float:
    scale = 1.0
    value = raw.strip()
    if value.endswith("%"):
        value, scale = value[:-1].strip(), 0.01
    try:
        bound = float(value) * scale
    except ValueError:
        raise ValueError(f"target {text!r}: the bound must be a number, not {raw!r}") from None
    if not math.isfinite(bound):
        raise ValueError(f"target {text!r}: the bound must be a finite number, not {raw!r}")
    return bound


def check_replications(n: int, confident: bool) -> None:
    """Check a search's replications per staffing.

    Raises:
        ValueError: fewer than 1, or fewer than 2 when targets are judged by their CI.
    """
    if n < 1:
        raise ValueError(f"replications must be at least 1, not {n}")
    if confident and n < 2:
        raise ValueError("judging targets by their 95% CI (confident) needs at least 2 replications")


def parse_targets(items: Iterable[str | Target], scenario: Scenario | None = None) -> list[Target]:
    """Parse targets and, with a scenario, check that their channels and groups exist.

    Raises:
        ValueError: no targets, or a bad one (see `Target.parse`, `Target.check`).
    """
    out = [t if isinstance(t, Target) else Target.parse(t) for t in items]
    if not out:
        raise ValueError(f"give at least one target, e.g. {_EXAMPLE}")
    if scenario is not None:
        for t in out:
            t.check(scenario)
    return out


# --- knobs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Knob:
    """One integer staffing decision the search may change.

    Attributes:
        path: dotted key path into the scenario, e.g. ``agents.phone_team.count``.
        label: what reports call it (the group name for head counts).
        low: the smallest value allowed.
        weight: cost of one unit in the objective (1 agent for a head count; a per-interval
            knob would weigh its interval's share of the day).
        index: when set, the knob is element `index` of the list at `path` (e.g. one
            interval of ``agents.team.staffing.counts``); the other elements keep the
            scenario's values.
    """

    path: str
    label: str
    low: int = 0
    weight: float = 1.0
    index: int | None = None


def counted_groups(scenario: Scenario) -> list[str]:
    """Groups whose head count is a constant `count` (not a staffing table or shifts)."""
    return [g for g, spec in scenario.agents.items() if spec.count is not None]


def group_knobs(scenario: Scenario, groups: Sequence[str] | None = None) -> list[Knob]:
    """Knobs for the head counts of `groups` (default: every group with a `count`, in file order).

    Raises:
        ValueError: an unknown or repeated group name, a group staffed by a table or
            shifts rather than a `count`, or no group to search.
    """
    if isinstance(groups, str):
        groups = [groups]
    names = counted_groups(scenario) if groups is None else list(groups)
    if not names:
        raise ValueError(
            f"no agent group to staff: give at least one group with a count; groups are: "
            f"{', '.join(scenario.agents)}"
        )
    for g in names:
        if g not in scenario.agents:
            raise ValueError(
                f"no agent group {g!r} in scenario {scenario.name!r}; groups are: {', '.join(scenario.agents)}"
            )
        if scenario.agents[g].count is None:
            how = "a staffing table" if scenario.agents[g].staffing is not None else "shifts"
            raise ValueError(
                f"agent group {g!r} is staffed by {how}; the optimiser changes head counts (count) only: "
                f"leave it out of the groups to search"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"an agent group is named twice in {', '.join(names)}")
    return [Knob(f"agents.{g}.count", g) for g in names]


# --- the analytic start ---------------------------------------------------------------


def mean_rate_per_s(scenario: Scenario, channel: str) -> float:
    """A channel's mean arrival rate over the horizon, per second."""
    spec = scenario.channels[channel]
    return ArrivalSource(spec.arrivals, scenario.horizon_s).expected_count() / scenario.horizon_s


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
    `rate_per_s` replaces the channel's mean arrival rate (one interval's rate, for
    per-interval staffing). The figure counts agents on duty (before shrinkage).
    """
    mine = [t for t in targets if t.scope == "channel" and t.name == channel]
    if not mine:
        return None
    spec = scenario.channels[channel]
    lam = mean_rate_per_s(scenario, channel) if rate_per_s is None else rate_per_s
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
            figure = _smallest(ok, max(1, need), max_agents)
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


def _smallest(ok: Callable[[int], bool], low: int, cap: int) -> int | None:
    """The smallest c in [low, cap] with ok(c), for ok monotone in c; None if ok(cap) fails."""
    if ok(low):
        return low
    high = low
    while not ok(high):
        if high >= cap:
            return None
        low, high = high + 1, min(cap, 2 * high)
    while low < high:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid + 1
    return high


def owner_group(scenario: Scenario, channel: str, groups: Sequence[str]) -> str | None:
    """The group of `groups` a channel's staffing counts towards; None when none serves it.

    That is the first of the groups serving the channel with the fewest skills (the
    specialists: the cross-trained groups also answer elsewhere).
    """
    servers = [g for g in groups if channel in scenario.agents[g].skills]
    if not servers:
        return None
    return min(servers, key=lambda g: len(scenario.agents[g].skills))


def analytic_start(
    scenario: Scenario, targets: Sequence[Target], groups: Sequence[str], max_agents: int = 10_000
) -> dict[str, int]:
    """The Erlang starting point for the head counts of `groups` (see the module notes).

    Returns:
        group → head count, for every group in `groups`: agents on duty, grossed up for the
        group's shrinkage.
    """
    on_duty = dict.fromkeys(groups, 0)
    loads = dict.fromkeys(groups, 0.0)
    for channel in scenario.channels:
        owner = owner_group(scenario, channel, groups)
        if owner is None:
            continue
        proficiency = scenario.agents[owner].proficiency.get(channel)
        factor = 1.0 if proficiency is None else proficiency.handle_time
        need = channel_agents(scenario, channel, targets, max_agents, factor)
        if need is not None:
            on_duty[owner] += need
        lam = mean_rate_per_s(scenario, channel)
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

    def available(count: int) -> int:
        return roster(count, None, None, shrinkage, 1.0)[0][1]

    if on_duty <= 0:
        return 0
    return _smallest(lambda c: available(c) >= on_duty, on_duty, max(cap, on_duty)) or max(cap, on_duty)


# --- staffing vectors ---------------------------------------------------------------


Vector = tuple[int, ...]
JudgedT = TypeVar("JudgedT")


def apply_knobs(
    base: Scenario, knobs: Sequence[Knob], vector: Sequence[int], data: dict[str, Any] | None = None
) -> Scenario:
    """`base` with every knob set to its value in `vector`, validated like a variant.

    Args:
        base: the scenario.
        knobs: what to set.
        vector: one value per knob.
        data: `base` dumped as a mapping (``model_dump(mode="python", exclude_none=True)``),
            when the caller already has it.

    Raises:
        ScenarioError: a value the schema refuses at its path.
        KeyError: ``(path, message)`` for a knob path the scenario does not have.
    """
    data = base.model_dump(mode="python", exclude_none=True) if data is None else data
    overrides: dict[str, Any] = {}
    for knob, value in zip(knobs, vector, strict=True):
        if knob.index is None:
            overrides[knob.path] = int(value)
            continue
        if knob.path not in overrides:
            current = _lookup(data, knob.path)
            if not isinstance(current, list) or not -len(current) <= knob.index < len(current):
                raise KeyError(knob.path, f"'{knob.path}' is not a list with an element {knob.index}")
            overrides[knob.path] = list(current)
        overrides[knob.path][knob.index] = int(value)
    label = ", ".join(
        f"{k.label}{'' if k.index is None else f'[{k.index}]'}={v}"
        for k, v in zip(knobs, vector, strict=True)
    )
    return validate(
        apply_overrides(data, overrides),
        label=f"{base.name} (staffing {label})",
        lines={},
        base_dir=Path.cwd(),
    )


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(path, f"the scenario has no value at '{path}'")
        node = node[part]
    return node


def _step(vector: Vector, i: int, delta: int) -> Vector:
    return (*vector[:i], vector[i] + delta, *vector[i + 1 :])


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


class SearchBase(Generic[JudgedT]):
    """Simulates staffing vectors on common random numbers, each once (a cache).

    Every vector runs replications 0 … n − 1 with the same seed; `records` says what each
    keeps, and a subclass's `_judge` turns the replications into its kind of evaluation.
    """

    records = "none"

    def __init__(
        self,
        base: Scenario,
        knobs: Sequence[Knob],
        targets: Sequence[Target],
        replications: int,
        seed: int,
        executor: Executor,
        progress: Callable[[int], object] | None,
        on_total: Callable[[int], object] | None,
        confident: bool = False,
    ) -> None:
        self.base = base
        self.confident = confident
        self.data = base.model_dump(mode="python", exclude_none=True)
        self.knobs = list(knobs)
        self.targets = list(targets)
        self.n = replications
        self.seed = seed
        self.executor = executor
        self.progress = progress
        self.on_total = on_total
        self.cache: dict[Vector, JudgedT] = {}
        self.tasks = 0

    def evaluate(self, vectors: Sequence[Vector]) -> list[JudgedT]:
        """Simulate the vectors not yet cached (all their replications as one batch of tasks)."""
        todo = list(dict.fromkeys(v for v in vectors if v not in self.cache))
        if todo:
            scenarios = {v: apply_knobs(self.base, self.knobs, v, self.data) for v in todo}
            names = {v: f"v{len(self.cache) + i}" for i, v in enumerate(todo)}
            tasks = [
                Task(f"{names[v]}-r{r}", scenarios[v], self.seed, r, self.records)
                for v in todo
                for r in range(self.n)
            ]
            self.tasks += len(tasks)
            if self.on_total is not None:
                self.on_total(self.tasks)
            outputs = run_all(tasks, self.executor, None, self.progress)
            for v in todo:
                runs = [outputs[f"{names[v]}-r{r}"] for r in range(self.n)]
                self.cache[v] = self._judge(v, RunResult(scenarios[v], self.seed, runs, self.records))
        return [self.cache[v] for v in vectors]

    def _judge(self, vector: Vector, result: RunResult) -> JudgedT:
        raise NotImplementedError


class _Search(SearchBase[Evaluation]):
    """The head-count search: targets judged on means over the whole run."""

    def _judge(self, vector: Vector, result: RunResult) -> Evaluation:
        estimates = tuple(_estimate(result, t) for t in self.targets)
        values = [t.judged(e, self.confident) for t, e in zip(self.targets, estimates, strict=True)]
        met = tuple(t.met(v) for t, v in zip(self.targets, values, strict=True))
        shortfall = sum(t.shortfall(v) for t, v in zip(self.targets, values, strict=True))
        return Evaluation(vector, result, estimates, met, shortfall)


def _estimate(result: RunResult, target: Target) -> Estimate:
    return mean_ci(result.values(target.scope, target.name, target.metric))


# --- the plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetResult:
    """A target and the mean [95 % CI] achieved on it."""

    target: Target
    estimate: Estimate
    met: bool

    def to_dict(self) -> dict[str, Any]:
        """``{"target", "mean", "ci_low", "ci_high", "met"}`` (NaN and ±inf as null)."""
        return {"target": str(self.target), **_clean(self.estimate.as_dict()), "met": self.met}


@dataclass(frozen=True)
class Trial:
    """One staffing the search simulated, in the order it was simulated.

    Attributes:
        counts: searched group → agents.
        targets: each target's mean [95 % CI] there.
        met: whether every target was met.
        shortfall: the total relative shortfall (see `Target.shortfall`).
    """

    counts: dict[str, int]
    targets: tuple[TargetResult, ...]
    met: bool
    shortfall: float

    def to_dict(self) -> dict[str, Any]:
        """The trial as plain JSON values."""
        return {
            "agents": dict(self.counts),
            "met": self.met,
            "shortfall": self.shortfall if math.isfinite(self.shortfall) else None,
            "targets": [r.to_dict() for r in self.targets],
        }


@dataclass(frozen=True)
class Plan:
    """The staffing the optimiser found, and what it achieves.

    Attributes:
        scenario: the scenario with the plan's staffing (run it with `sim.run`).
        counts: group → agents in the plan, for every group with a `count` (the groups
            not searched keep theirs).
        start: group → where the search started: the analytic (Erlang) staffing for the
            searched groups unless `start=` was given; the fixed count for the others.
        searched: the groups whose counts the search could change.
        targets: each target with the achieved mean [95 % CI] and whether it is met.
        channels: channel → metric → estimate at the plan.
        groups: group (and ``"overall"``) → metric → estimate at the plan.
        met: whether every target is met (by the mean over replications, or with
            `confident` by its whole 95 % CI).
        evaluated: staffing vectors simulated (each `replications` times).
        replications: replications per staffing vector.
        seed: the seed every vector was run with (common random numbers).
        note: why the search stopped.
        moves: the accepted steps, in order, as ``("add" | "remove", group)``.
        trials: every staffing simulated, in order.
        warnings: things about the plan a planner should check (e.g. a group busy nearly
            all the time, whose queue grows over the horizon: means over a finite run then
            flatter it).
        confident: whether targets were judged by their 95 % CI instead of their mean.
    """

    scenario: Scenario
    counts: dict[str, int]
    start: dict[str, int]
    searched: tuple[str, ...]
    targets: tuple[TargetResult, ...]
    channels: dict[str, dict[str, Estimate]]
    groups: dict[str, dict[str, Estimate]]
    met: bool
    evaluated: int
    replications: int
    seed: int
    note: str
    moves: tuple[tuple[str, str], ...] = ()
    trials: tuple[Trial, ...] = field(default=(), repr=False)
    warnings: tuple[str, ...] = ()
    confident: bool = False

    @property
    def total_agents(self) -> int:
        """Agents in the plan, over the groups in `counts`."""
        return sum(self.counts.values())

    def trial(self, **counts: int) -> Trial | None:
        """The trial with these searched-group counts, if the search simulated it."""
        for t in self.trials:
            if t.counts == counts:
                return t
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `staffsim optimize --json` prints (NaN and ±inf as null)."""
        return {
            "scenario": self.scenario.name,
            "replications": self.replications,
            "seed": self.seed,
            "met": self.met,
            "confident": self.confident,
            "agents": dict(self.counts),
            "total_agents": self.total_agents,
            "start": dict(self.start),
            "start_total": sum(self.start.values()),
            "searched": list(self.searched),
            "evaluated": self.evaluated,
            "note": self.note,
            "moves": [list(m) for m in self.moves],
            "warnings": list(self.warnings),
            "targets": [r.to_dict() for r in self.targets],
            "channels": {
                ch: {m: _clean(e.as_dict()) for m, e in metrics.items()}
                for ch, metrics in self.channels.items()
            },
            "groups": {
                g: {m: _clean(e.as_dict()) for m, e in metrics.items()} for g, metrics in self.groups.items()
            },
            "trials": [t.to_dict() for t in self.trials],
        }


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


def _clean(d: Mapping[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in d.items()}


# --- the optimiser ----------------------------------------------------------------------


def optimize(
    scenario_or_experiment: str | Path | dict[str, Any] | Scenario | Experiment,
    targets: Iterable[str | Target],
    *,
    groups: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    max_agents: int = 10_000,
    start: Mapping[str, int] | None = None,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
    confident: bool = False,
) -> Plan:
    """Find the fewest agents per group such that every target's mean is met.

    Args:
        scenario_or_experiment: the scenario (a file, dict, `Scenario`, or an
            `Experiment` whose baseline is used; variants are ignored).
        targets: e.g. ``["phone.service_level>=0.8", "email.asa_s<=86400"]``.
        groups: the agent groups whose counts may change (default: every group with a
            `count`); the others keep the scenario's staffing. A searched group that no
            target depends on goes down to zero.
        replications: per staffing vector; default the scenario's.
        seed: base seed; default the scenario's. Every vector uses it (common random
            numbers: replication r sees the same customers whatever the staffing).
        executor: where replications run; default in this process.
        max_agents: the most agents the searched groups may have together.
        start: group → count to start the search from instead of the analytic staffing
            (groups left out start at the scenario's count).
        progress: called with the number of replications finished.
        on_total: called with the number of replications requested so far, as it grows.
        confident: a target is met only when its whole 95 % CI is (the lower end of the
            CI reaches a ``>=`` bound, the upper end stays within a ``<=`` one), not just its
            mean: a plan that holds on new customers too, at the price of more agents.
            Needs at least 2 replications.

    Returns:
        The `Plan`. When the targets cannot be met (by adding agents to these groups, or
        within `max_agents`), `Plan.met` is False and `Plan.note` says why.

    Raises:
        ValueError: a bad target, group, start count, `replications` or `max_agents`.
        ScenarioError: the scenario cannot be loaded.
    """
    if isinstance(scenario_or_experiment, Scenario):
        base = scenario_or_experiment
    elif isinstance(scenario_or_experiment, Experiment):
        base = scenario_or_experiment.baseline
    else:
        base = load_experiment(scenario_or_experiment).baseline
    parsed = parse_targets(targets, base)
    knobs = group_knobs(base, groups)
    names = [k.label for k in knobs]
    n = base.replications if replications is None else replications
    check_replications(n, confident)
    if max_agents < 1:
        raise ValueError(f"max_agents must be at least 1, not {max_agents}")
    base_seed = base.seed if seed is None else seed
    if start is None:
        first = analytic_start(base, parsed, names, max_agents)
    else:
        unknown = [str(g) for g in start if g not in names]
        if unknown:
            raise ValueError(
                f"start names {', '.join(unknown)}, not among the groups searched ({', '.join(names)})"
            )
        bad = {g: c for g, c in start.items() if isinstance(c, bool) or not isinstance(c, int) or c < 0}
        if bad:
            raise ValueError(f"start counts must be whole numbers >= 0, not {bad}")
        first = {g: int(start.get(g, base.agents[g].count or 0)) for g in names}
    x: Vector = tuple(max(k.low, first[k.label]) for k in knobs)
    if sum(x) > max_agents:
        shown = ", ".join(f"{g}={c}" for g, c in first.items())
        raise ValueError(
            f"the starting staffing has {sum(x)} agents ({shown}), more than max_agents={max_agents}"
        )

    search = _Search(
        base, knobs, parsed, n, base_seed, executor or SerialExecutor(), progress, on_total, confident
    )
    current = search.evaluate([x])[0]
    moves: list[tuple[str, str]] = []
    note = ""
    # Add: one agent at a time, to the group where it reduces the total shortfall most.
    while not current.all_met:
        if sum(x) + 1 > max_agents:
            note = f"stopped at max_agents={max_agents} with targets still missed"
            break
        candidates = [_step(x, i, +1) for i in range(len(knobs))]
        evaluations = search.evaluate(candidates)
        gains = [current.shortfall - e.shortfall for e in evaluations]
        best = max(range(len(knobs)), key=lambda i: (gains[i], -i))
        if not gains[best] > 0:
            note = (
                f"stopped: no single extra agent in {', '.join(names)} brings the missed targets "
                "closer; they may not be reachable by adding agents to these groups"
            )
            break
        x, current = candidates[best], evaluations[best]
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
                candidate = _step(x, i, -1)
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
        evaluated=len(search.cache),
        replications=n,
        seed=base_seed,
        note=note,
        moves=tuple(moves),
        trials=tuple(
            Trial(dict(zip(names, e.vector, strict=True)), results(e), e.all_met, e.shortfall)
            for e in search.cache.values()
        ),
        warnings=_warnings(result, counts, achieved),
        confident=confident,
    )
