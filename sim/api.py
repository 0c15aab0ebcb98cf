"""The Python entry points: one per task, each taking a scenario and returning a typed result.

A *source* is what a user has at hand: the path of a scenario file, a mapping with the
same structure, a loaded `Scenario`, or an `Experiment` (a baseline and its variants).
`load` turns any of them into an `Experiment` once, here at the edge, and every entry point
takes a source the same way (`run` and `optimize` use the baseline, `compare` needs
variants, `sweep` changes the baseline along a grid).

Every replication runs through the one runner, `sim.runner.tasks.run_all`, on an executor:
this process (``workers=1``), local processes (``workers=N``), a Dask cluster
(``dask="local"`` or ``"tcp://host:port"``), or an `executor` the caller opened and closes.
Results depend only on the seed, never on the executor.

Each result saves itself: `RunResult`, `CompareResult`, `SweepResult` and `StudyResult` have
`save(folder)`, which writes what the matching `staffsim` command writes with `--out`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.schema import Scenario
from sim.config.validate import check_policy
from sim.config.variants import Experiment, load_experiment
from sim.experiment.compare import CompareResult, Precision
from sim.experiment.compare import compare as run_compare
from sim.experiment.sweep import SweepResult, point_scenarios
from sim.experiment.sweep import sweep as run_sweep
from sim.model.policies import Policy, policy_names
from sim.planning.settings import OptimizeMode, OptimizeSettings, RunContext, check_mode
from sim.records import RECORD_MODES
from sim.results import RunResult
from sim.runner.executors import Executor, make_executor
from sim.runner.store import TaskStore
from sim.runner.tasks import run_replications

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiment.study import StudyResult
    from sim.planning.intervals.plan import IntervalPlan
    from sim.planning.plan import Plan
    from sim.planning.shifts import ShiftPlan
    from sim.planning.targets import Target

Source = str | Path | Mapping[str, Any] | Scenario | Experiment
"""Anything an entry point accepts as a scenario (see `load`)."""

Progress = Callable[[int], object]
"""Called with the number of replications just finished."""


def check_runnable(scenario: Scenario, label: str | None = None, path: Path | None = None) -> None:
    """Checks that need the model's registries (policy names).

    Args:
        scenario: the validated scenario.
        label: the file it came from, for the message (default: the scenario's name).
        path: the scenario file; not read again: a loaded scenario remembers its lines.

    Raises:
        ScenarioError: the scenario names a routing policy that is not registered.
    """
    check_policy(scenario, policy_names(), label or scenario.name)


def load(source: Source, *, check_policies: bool = True) -> Experiment:
    """Turn a scenario source into an `Experiment`: the baseline and its variants, validated.

    Args:
        source: a scenario file (``str`` or `Path`), a mapping with the same structure, a
            `Scenario` (an experiment without variants) or an `Experiment` (returned as is,
            once checked). A file's `extends` chain is followed.
        check_policies: check that every routing policy named is registered (off when the
            caller brings a policy object of its own).

    Raises:
        ScenarioError: the file is missing or invalid (naming the file, the key path and the
            line), or a routing policy is not registered.
    """
    if isinstance(source, Experiment):
        exp = source
    else:
        exp = load_experiment(dict(source) if isinstance(source, Mapping) else source)
    if check_policies:
        path = Path(source) if isinstance(source, str | Path) else None
        for scenario in [exp.baseline, *exp.variants.values()]:
            check_runnable(scenario, label=None if path is None else str(path), path=path)
    return exp


@contextlib.contextmanager
def _executor(workers: int | None, dask: str | None, executor: Executor | None) -> Iterator[Executor]:
    """The caller's executor (left open), or one made from `workers`/`dask` (closed after)."""
    if executor is not None:
        yield executor
        return
    made = make_executor(workers, dask)
    try:
        yield made
    finally:
        made.close()


def run(
    source: Source,
    *,
    replications: int | None = None,
    seed: int | None = None,
    records: str = "summary",
    workers: int | None = 1,
    dask: str | None = None,
    executor: Executor | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run independent replications of a scenario (an experiment's baseline).

    Args:
        source: a scenario file, mapping, `Scenario` or `Experiment` (see `load`).
        replications: how many; default the scenario's `replications`.
        seed: base seed; default the scenario's `seed`. Replication r uses streams derived
            from (seed, r), so results do not depend on where they run.
        records: ``"none"``, ``"summary"`` (default) or ``"full"`` (per-contact records).
        workers: local processes (1: this process; None: every core).
        dask: ``"local"`` or a scheduler address ``"tcp://host:port"`` (instead of workers).
        executor: an executor the caller opened (and closes), instead of workers and dask.
        policy: a routing policy object (see `sim.model.policies.Policy`) to use instead
            of the scenario's `routing.policy`; it must be picklable to run elsewhere.
        progress: called with 1 after each finished replication.

    Returns:
        A `RunResult`: `.summary()`, `.replications()`, `.intervals()`, `.contacts()`,
        `.estimate(name, metric)`, `.save(folder)`.
    """
    if records not in RECORD_MODES:
        raise ValueError(f"records must be one of {', '.join(RECORD_MODES)}, not {records!r}")
    exp = load(source, check_policies=policy is None)
    scenario = exp.baseline
    n = scenario.replications if replications is None else replications
    if n < 1:
        raise ValueError(f"replications must be at least 1, not {n}")
    base_seed = scenario.seed if seed is None else seed
    with _executor(workers, dask, executor) as ex:
        outputs = run_replications(
            scenario, n, base_seed, ex, records=records, policy=policy, progress=progress
        )
    return RunResult(scenario, base_seed, outputs, records, list(exp.files))


def compare(
    source: Source,
    *,
    replications: int | None = None,
    seed: int | None = None,
    precision: str | Precision | None = None,
    max_replications: int = 200,
    workers: int | None = 1,
    dask: str | None = None,
    executor: Executor | None = None,
    store: TaskStore | None = None,
    progress: Progress | None = None,
    on_total: Progress | None = None,
) -> CompareResult:
    """Compare every variant of a scenario with its baseline on common random numbers.

    Args:
        source: a scenario with a `variants:` section (see `load`), or an `Experiment`.
        replications: per side; default the scenario's.
        seed: base seed; default the scenario's.
        precision: ``"METRIC=HALFWIDTH"`` (or a `Precision`) — replicate until the 95 % CI
            half-width of the baseline mean and of every paired difference is reached.
        max_replications: the most replications `precision` may ask for.
        workers: local processes (see `run`).
        dask: a Dask cluster instead (see `run`).
        executor: an executor the caller opened and closes (see `run`).
        store: keeps finished replications so that an interrupted comparison resumes.
        progress: called with the number of replications just finished.
        on_total: called with the total number of replications whenever it grows.

    Returns:
        A `CompareResult`: `.table()` (one row per variant × (scope, name) × metric:
        `baseline_mean`, `variant_mean`, `diff_mean`, `diff_ci_low`, `diff_ci_high` (95 %,
        paired) and `significant`), `.diff(...)`, `.to_dict()`, `.save(folder)`.

    Raises:
        ValueError: the scenario has no variants, or `precision` is malformed.
    """
    exp = load(source)
    if isinstance(precision, str):
        precision = Precision.parse(precision)
    with _executor(workers, dask, executor) as ex:
        return run_compare(
            exp, replications=replications, seed=seed, executor=ex, precision=precision,
            max_replications=max_replications, store=store, progress=progress, on_total=on_total,
        )  # fmt: skip


def grid_scenarios(
    source: Source, grid: Mapping[str, list[Any]], *, label: str | None = None
) -> list[Scenario]:
    """The scenario at every point of a grid, each validated like a scenario file.

    Args:
        source: the base scenario (see `load`).
        grid: key path → list of values.
        label: what messages name; default the file, or the scenario's name.

    Raises:
        ScenarioError: a grid value is not valid at its path (naming the point and the path).
    """
    exp = load(source)
    if label is None and isinstance(source, str | Path):
        label = str(source)
    return point_scenarios(exp.baseline, dict(grid), label, check=lambda sc: check_runnable(sc, label=label))


def claims(
    source: Source,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    dask: str | None = None,
    executor: Executor | None = None,
    turning: bool = True,
) -> pd.DataFrame:
    """Judge the `claims:` of a scenario file from its variants' paired replications.

    Args:
        source: a scenario with `variants:` and `claims:` (see `load`), or an `Experiment`.
        replications: per side; default the scenario's.
        seed: base seed; default the scenario's.
        workers: local processes (see `run`).
        dask: a Dask cluster instead (see `run`).
        executor: an executor the caller opened and closes (see `run`).
        turning: also find the turning point of each claim with a `turning:` key.

    Returns:
        One row per claim: `name`, `claim`, `source`, `verdict` (holds, does not hold,
        undecided), `diff_mean`, `diff_ci_low`, `diff_ci_high` (95 %, paired),
        `replications_to_decide`, `evidence`, and `turning_value`, `turning_ci_low`,
        `turning_ci_high` (NaN without a turning point).
    """
    import pandas as pd

    from sim.experiment.turning import turning_points

    exp = load(source)
    with _executor(workers, dask, executor) as ex:
        result = run_compare(exp, replications=replications, seed=seed, executor=ex)
        points = turning_points(exp, replications=result.n, seed=seed, executor=ex) if turning else {}
    rows = []
    for v in result.verdicts():
        tp = points.get(v.name)
        rows.append(
            {
                "name": v.name, "claim": v.claim.statement(), "source": v.claim.source, "verdict": v.verdict,
                "diff_mean": v.diff.mean, "diff_ci_low": v.diff.ci_low, "diff_ci_high": v.diff.ci_high,
                "replications_to_decide": v.needed, "evidence": v.evidence(),
                "turning_value": tp.value if tp and tp.value is not None else float("nan"),
                "turning_ci_low": tp.ci[0] if tp and tp.ci else float("nan"),
                "turning_ci_high": tp.ci[1] if tp and tp.ci else float("nan"),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def sweep(
    source: Source,
    grid: Mapping[str, list[Any]],
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    dask: str | None = None,
    executor: Executor | None = None,
    store: TaskStore | None = None,
    progress: Progress | None = None,
    on_total: Progress | None = None,
    points: Sequence[Scenario] | None = None,
) -> SweepResult:
    """Run replications at every point of a grid of key-path values.

    Args:
        source: the base scenario (see `load`; variants are ignored).
        grid: key path → list of values, e.g. ``{"agents.team.count": [10, 11, 12]}``.
        replications: per point; default the scenario's.
        seed: base seed; default the scenario's.
        workers: local processes (see `run`).
        dask: a Dask cluster instead (see `run`).
        executor: an executor the caller opened and closes (see `run`).
        store: keeps finished replications so that an interrupted sweep resumes.
        progress: called with the number of replications just finished.
        on_total: called once with the total number of replications.
        points: the scenarios of `grid_scenarios(source, grid)`, when already built.

    Returns:
        A `SweepResult`: `.table()` is the tidy table (`point`, one column per grid path,
        `replication`, `scope`, `name`, `metric`, `value`); `.save(folder)`.
    """
    exp = load(source)
    label = str(source) if isinstance(source, str | Path) else None
    scenarios = grid_scenarios(exp, grid, label=label) if points is None else points
    with _executor(workers, dask, executor) as ex:
        return run_sweep(
            exp.baseline, dict(grid), replications=replications, seed=seed, executor=ex, store=store,
            progress=progress, on_total=on_total, scenarios=scenarios, files=exp.files,
        )  # fmt: skip


def optimize(
    source: Source,
    targets: Iterable[str | Target],
    *,
    mode: OptimizeMode = "headcount",
    settings: OptimizeSettings | None = None,
    workers: int | None = 1,
    dask: str | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    on_total: Progress | None = None,
) -> Plan | IntervalPlan | ShiftPlan:
    """Find the fewest agents that meet every target (see `sim.planning`).

    Args:
        source: the scenario (see `load`; an experiment's baseline).
        targets: e.g. ``["phone.service_level>=0.8", "email.asa_s<=3600"]``.
        mode: what is sized: ``"headcount"`` (one count per group, `Plan`),
            ``"intervals"`` (a count per group and interval, every target met in every
            interval, `IntervalPlan`) or ``"shifts"`` (the count on each written shift,
            `ShiftPlan`).
        settings: groups, replications, seed, max_agents, confident and (intervals and
            shifts) max_staffings (`sim.planning.settings.OptimizeSettings`); default its
            defaults.
        workers: local processes (see `run`).
        dask: a Dask cluster instead (see `run`).
        executor: an executor the caller opened and closes (see `run`).
        progress: called with the number of replications just finished.
        on_total: called with the number of replications requested so far, as it grows.

    Returns:
        The plan: `.met`, `.scenario`, `.to_dict()` and, per mode, `.counts` and `.targets`
        (headcount), `.tables` and `.intervals` (intervals), `.shifts` (shifts).

    Raises:
        ValueError: an unknown mode, a bad target, group or setting.
    """
    from sim.planning.headcount import optimize as optimize_headcount
    from sim.planning.intervals.optimize import optimize_intervals
    from sim.planning.shifts import optimize_shifts

    settings = settings or OptimizeSettings()
    check_mode(mode, settings)
    searches: dict[str, Callable[..., Plan | IntervalPlan | ShiftPlan]] = {
        "headcount": optimize_headcount,
        "intervals": optimize_intervals,
        "shifts": optimize_shifts,
    }
    scenario = load(source).baseline
    with _executor(workers, dask, executor) as ex:
        return searches[mode](
            scenario,
            list(targets),
            settings=replace(settings, groups=settings.groups or None),  # no group named: the mode's default
            context=RunContext(executor=ex, progress=progress, on_total=on_total),
        )


def study(
    *,
    quick: bool = False,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], object] | None = None,
    scenario: str | Path | None = None,
    designs: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
) -> StudyResult:
    """The "is good service scalable?" study (see `sim.experiment.study`).

    Args:
        quick: fewer scales and shorter runs (about half a minute).
        workers: local processes (default: every core).
        executor: an executor the caller opened and closes, instead of `workers`.
        progress: called with a short message before each step.
        scenario: a scenario file whose centre is scaled (default: the study centre).
        designs: the team designs to staff (default: pooled, pooled_preemptive, split).
        targets: what the optimiser must meet (default: the study's targets, or for a
            scenario file 80 % of every channel's contacts within its own target time).

    Returns:
        A `StudyResult`: `.summary()`, `.conclusions`, `.save(folder)`.
    """
    from sim.experiment.centres import DESIGNS
    from sim.experiment.study import run_study

    with _executor(workers, None, executor) as ex:
        return run_study(
            quick=quick, executor=ex, progress=progress, scenario=scenario,
            designs=tuple(designs) if designs is not None else DESIGNS,
            targets=list(targets) if targets is not None else None,
        )  # fmt: skip
