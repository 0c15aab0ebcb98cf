"""Staffing vectors: the integer knobs a search changes, and their simulation.

A `Knob` is one integer staffing decision addressed by a dotted key path into the scenario
(`group_knobs` builds them for agent-group head counts); `apply_knobs` sets a vector of knob
values on a scenario, validated like a variant; `SearchBase` simulates vectors on common
random numbers, each once. The head-count search (`sim.planning.headcount`) and the
per-interval search (`sim.planning.intervals.search`, `sim.planning.intervals.optimize`)
both build on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypedDict, TypeVar

from sim.config.schema import Scenario
from sim.config.validate import validate
from sim.config.variants import Experiment, apply_overrides, load_experiment
from sim.model.arrivals import ArrivalSource
from sim.model.roster import roster
from sim.planning.settings import OptimizeSettings, RunContext
from sim.planning.targets import OVERALL, Target, check_replications, parse_targets
from sim.results import RunResult
from sim.runner.executors import Executor, SerialExecutor
from sim.runner.tasks import Task, run_all

MAX_STAFFINGS = 100
"""The most staffings a per-interval or shift search simulates unless told otherwise
(`max_staffings`). The search stops there, so a budget check before it starts may count this
many as an upper bound; the week of `scenarios/baseline.yaml` takes 39."""


def check_max_staffings(value: int | None) -> int:
    """`value` checked (a whole number >= 1), or `MAX_STAFFINGS` for None.

    Raises:
        ValueError: not a whole number of at least 1.
    """
    if value is None:
        return MAX_STAFFINGS
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_staffings must be a whole number >= 1, got {value!r}")
    return value


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
        key: with `index`, the knob is the value at `key` of that element, a mapping
            (e.g. the ``count`` of shift `index` of ``agents.team.shifts``).
    """

    path: str
    label: str
    low: int = 0
    weight: float = 1.0
    index: int | None = None
    key: str | None = None


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
        modes = ""
        if any(spec.shifts for spec in scenario.agents.values()):
            modes = (
                "; groups on shifts are sized with `optimize --shifts` (mode='shifts' in Python), or "
                "planned as a count per interval with `optimize --per-interval` (mode='intervals')"
            )
        elif any(spec.staffing is not None for spec in scenario.agents.values()):
            modes = "; groups staffed by tables are planned with `optimize --per-interval` (mode='intervals' in Python)"
        raise ValueError(
            f"no agent group to staff: give at least one group with a count (the head-count search "
            f"changes counts); groups are: {', '.join(scenario.agents)}{modes}"
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


# --- which groups a search may change ------------------------------------------------


def depends_on(scenario: Scenario, targets: Sequence[Target], group: str) -> bool:
    """Whether some target depends on `group`.

    It does when the group serves a targeted channel, or a group target names it (or ``overall``).
    """
    skills = scenario.agents[group].skills
    return any(t.name in skills if t.scope == "channel" else t.name in (group, OVERALL) for t in targets)


def targeted_groups(
    scenario: Scenario, targets: Sequence[Target], candidates: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Split a search's default groups into those some target depends on and the rest.

    A group no target depends on would be sized down to zero by any search (nothing
    measures what it does), leaving its channels unanswered; by default it keeps its
    staffing as written.

    Returns:
        (groups to search, groups kept as written).
    """
    searched = [g for g in candidates if depends_on(scenario, targets, g)]
    return searched, [g for g in candidates if g not in searched]


def searched_groups(
    scenario: Scenario, targets: Sequence[Target], named: Sequence[str] | None, candidates: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The groups a search sizes and those it keeps as written.

    Args:
        scenario: the scenario searched.
        targets: the parsed targets.
        named: the groups the user named, or None for the default.
        candidates: the groups that may be sized (the named ones, checked, or the default set).

    Returns:
        (groups to search, groups kept as written): all `candidates` when groups were
        named; otherwise those some target depends on (`targeted_groups`).

    Raises:
        ValueError: no target depends on any of the default groups.
    """
    if named is not None:
        return list(candidates), []
    names, kept = targeted_groups(scenario, targets, candidates)
    if not names and kept:
        raise ValueError(kept_warning(scenario, kept).replace("kept as written", "nothing to search"))
    return names, kept


def kept_warning(scenario: Scenario, kept: Sequence[str], flag: str = "--group") -> str:
    """The warning that names groups kept as written because no target depends on them."""
    what = "; ".join(f"{g} ({', '.join(scenario.agents[g].skills)})" for g in kept)
    return (
        f"kept as written, since no target names their channels or them: {what}; add a target "
        f"for their channels, or name them with {flag} to size them too (they may then go to zero)"
    )


def unstaffed_channels(scenario: Scenario) -> list[str]:
    """Channels with demand that no group has any agent on duty for, at any time of the run."""
    out = []
    for name, spec in scenario.channels.items():
        if ArrivalSource(spec.arrivals, scenario.horizon_s).expected_count() <= 0:
            continue
        serving = [g for g in scenario.agents.values() if name in g.skills]
        if not any(
            n > 0
            for g in serving
            for _, n in roster(g.count, g.staffing, g.shifts, g.shrinkage, scenario.horizon_s)
        ):
            out.append(name)
    return out


def unstaffed_warnings(scenario: Scenario) -> list[str]:
    """One warning per channel the plan leaves with no agents at all."""
    return [
        f"channel {c} has no agents on duty at any time in this plan: every contact on it goes unanswered"
        for c in unstaffed_channels(scenario)
    ]


# --- what every search starts from -------------------------------------------------


def search_setup(
    source: str | Path | dict[str, Any] | Scenario | Experiment,
    targets: Iterable[str | Target],
    settings: OptimizeSettings,
) -> tuple[Scenario, list[Target], int, int]:
    """What every search starts from, checked: scenario, targets, replications and seed.

    Returns:
        The scenario (an experiment's baseline), the parsed targets, the replications per
        staffing (`settings.replications`, or the scenario's) and the base seed (likewise).

    Raises:
        ValueError: a bad target, `replications` or `max_agents`.
        ScenarioError: the scenario cannot be loaded.
    """
    if isinstance(source, Scenario):
        scenario = source
    elif isinstance(source, Experiment):
        scenario = source.baseline
    else:
        scenario = load_experiment(source).baseline
    parsed = parse_targets(targets, scenario)
    n = scenario.replications if settings.replications is None else settings.replications
    check_replications(n, settings.confident)
    if settings.max_agents < 1:
        raise ValueError(f"max_agents must be at least 1, not {settings.max_agents}")
    return scenario, parsed, n, scenario.seed if settings.seed is None else settings.seed


def check_start_names(start: Iterable[str], names: Sequence[str]) -> None:
    """Refuse a `start=` that names a group the search does not size.

    Raises:
        ValueError: naming the groups that are not searched.
    """
    unknown = [str(g) for g in start if g not in names]
    if unknown:
        raise ValueError(
            f"start names {', '.join(unknown)}, not among the groups searched ({', '.join(names)})"
        )


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
        if knob.key is None:
            overrides[knob.path][knob.index] = int(value)
        else:
            overrides[knob.path][knob.index] = {**overrides[knob.path][knob.index], knob.key: int(value)}
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


class SearchSummary(TypedDict):
    """The fields of every plan that describe the search itself (`SearchBase.summary`).

    Attributes:
        evaluated: staffings simulated (each `replications` times).
        replications: replications per staffing.
        seed: the seed every staffing was run with (common random numbers).
        confident: whether targets were judged by their 95 % CI instead of their mean.
    """

    evaluated: int
    replications: int
    seed: int
    confident: bool


class SearchBase(Generic[JudgedT]):
    """Simulates staffing vectors on common random numbers, each once (a cache).

    Every vector runs replications 0 … n − 1 with the same seed, where `context` says;
    `records` says what each keeps, and a subclass's `_judge` turns the replications into
    its kind of evaluation.
    """

    records = "none"

    def __init__(
        self,
        base: Scenario,
        knobs: Sequence[Knob],
        targets: Sequence[Target],
        replications: int,
        seed: int,
        context: RunContext,
        confident: bool = False,
    ) -> None:
        self.base = base
        self.confident = confident
        self.data = base.model_dump(mode="python", exclude_none=True)
        self.knobs = list(knobs)
        self.targets = list(targets)
        self.n = replications
        self.seed = seed
        self.executor: Executor = context.executor or SerialExecutor()
        self.progress = context.progress
        self.on_total = context.on_total
        self.cache: dict[Vector, JudgedT] = {}
        self.tasks = 0
        self.limit: int | None = None

    def spent(self, vectors: Sequence[Vector]) -> bool:
        """Whether simulating the `vectors` not yet simulated would go past `limit` staffings."""
        new = {v for v in vectors if v not in self.cache}
        return self.limit is not None and len(self.cache) + len(new) > self.limit

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

    def summary(self) -> SearchSummary:
        """What the plan says about the search so far: staffings, replications, seed, judging."""
        return SearchSummary(
            evaluated=len(self.cache), replications=self.n, seed=self.seed, confident=self.confident
        )

    def _judge(self, vector: Vector, result: RunResult) -> JudgedT:
        raise NotImplementedError
