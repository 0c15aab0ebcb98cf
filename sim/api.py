"""The Python entry points: load a scenario, run it, get tables back."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config.schema import Scenario
from sim.config.validate import check_policy
from sim.config.variants import Experiment
from sim.experiment.compare import Precision
from sim.experiment.compare import compare as _compare
from sim.experiment.sweep import sweep as _sweep
from sim.model.policies import Policy, policy_names
from sim.records import RECORD_MODES
from sim.results import RunResult
from sim.runner.executors import make_executor, run_tasks
from sim.runner.simulate import ReplicationOutput, simulate

if TYPE_CHECKING:
    import pandas as pd


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


def run(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    records: str = "summary",
    workers: int = 1,
    policy: Policy | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run independent replications of a scenario.

    Args:
        scenario: a validated scenario (see `load_scenario`).
        replications: how many; default the scenario's `replications`.
        seed: base seed; default the scenario's `seed`. Replication r uses streams derived
            from (seed, r), so results do not depend on `workers`.
        records: ``"none"``, ``"summary"`` (default) or ``"full"`` (per-contact records).
        workers: processes to use (1: run here).
        policy: a routing policy object (see `sim.model.policies.Policy`) to use instead
            of the scenario's `routing.policy`; it must be picklable when workers > 1.
        progress: called with 1 after each finished replication.

    Returns:
        A `RunResult` with `.summary()`, `.replications()`, `.intervals()`, `.contacts()`.
    """
    if records not in RECORD_MODES:
        raise ValueError(f"records must be one of {', '.join(RECORD_MODES)}, not {records!r}")
    if policy is None:
        check_runnable(scenario)
    n = scenario.replications if replications is None else replications
    if n < 1:
        raise ValueError(f"replications must be at least 1, not {n}")
    base_seed = scenario.seed if seed is None else seed
    task = functools.partial(_one, scenario, base_seed, records, policy)
    outputs: list[ReplicationOutput] = []
    for out in run_tasks(task, range(n), workers):
        outputs.append(out)
        if progress is not None:
            progress(1)
    return RunResult(scenario, base_seed, outputs, records)


def _one(
    scenario: Scenario, seed: int, records: str, policy: Policy | None, replication: int
) -> ReplicationOutput:
    return simulate(scenario, replication, seed=seed, records=records, policy=policy)


def compare(
    source: str | Path | dict[str, Any] | Experiment,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    dask: str | None = None,
    precision: str | None = None,
    max_replications: int = 200,
) -> pd.DataFrame:
    """Compare every variant of a scenario with its baseline on common random numbers.

    Args:
        source: a scenario file or dict with a `variants:` section, or an `Experiment`.
        replications: per side; default the scenario's.
        seed: base seed; default the scenario's.
        workers: local processes (ignored with `dask`).
        dask: ``"local"`` or a scheduler address ``"tcp://host:port"``.
        precision: ``"METRIC=HALFWIDTH"`` — replicate until reached (up to `max_replications`).
        max_replications: cap for `precision`.

    Returns:
        One row per variant × (scope, name) × metric: `baseline_mean`, `variant_mean`,
        `diff_mean`, `diff_ci_low`, `diff_ci_high` (95 %, paired) and `significant`.
    """
    executor = make_executor(workers, dask)
    try:
        result = _compare(
            source,
            replications=replications,
            seed=seed,
            executor=executor,
            precision=Precision.parse(precision) if precision else None,
            max_replications=max_replications,
        )
    finally:
        executor.close()
    return result.table()


def claims(
    source: str | Path | dict[str, Any] | Experiment,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    dask: str | None = None,
    turning: bool = True,
) -> pd.DataFrame:
    """Judge the `claims:` of a scenario file from its variants' paired replications.

    Args:
        source: a scenario file or dict with `variants:` and `claims:`, or an `Experiment`.
        replications: per side; default the scenario's.
        seed: base seed; default the scenario's.
        workers: local processes (ignored with `dask`).
        dask: ``"local"`` or a scheduler address ``"tcp://host:port"``.
        turning: also find the turning point of each claim with a `turning:` key.

    Returns:
        One row per claim: `name`, `claim`, `source`, `verdict` (holds, does not hold,
        undecided), `diff_mean`, `diff_ci_low`, `diff_ci_high` (95 %, paired),
        `replications_to_decide`, `evidence`, and `turning_value`, `turning_ci_low`,
        `turning_ci_high` (NaN without a turning point).
    """
    import pandas as pd

    from sim.config.variants import load_experiment
    from sim.experiment.turning import turning_points

    exp = source if isinstance(source, Experiment) else load_experiment(source)
    executor = make_executor(workers, dask)
    try:
        result = _compare(exp, replications=replications, seed=seed, executor=executor)
        points = turning_points(exp, replications=result.n, seed=seed, executor=executor) if turning else {}
    finally:
        executor.close()
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
    source: str | Path | dict[str, Any] | Scenario | Experiment,
    grid: dict[str, list[Any]],
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    dask: str | None = None,
) -> pd.DataFrame:
    """Run replications at every point of a grid of key-path values.

    Args:
        source: the base scenario (file, dict, `Scenario` or `Experiment`).
        grid: key path → list of values, e.g. ``{"agents.team.count": [10, 11, 12]}``.
        replications: per point; default the scenario's.
        seed: base seed; default the scenario's.
        workers: local processes (ignored with `dask`).
        dask: ``"local"`` or a scheduler address.

    Returns:
        The tidy table: `point`, one column per grid path, `replication`, `scope`, `name`,
        `metric`, `value`.
    """
    executor = make_executor(workers, dask)
    try:
        return _sweep(source, grid, replications=replications, seed=seed, executor=executor)
    finally:
        executor.close()


def optimize(
    source: str | Path | dict[str, Any] | Scenario | Experiment,
    targets: list[str],
    *,
    groups: list[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    dask: str | None = None,
    max_agents: int = 10_000,
    per_interval: bool = False,
    shifts: bool = False,
    confident: bool = False,
) -> Any:
    """Find the fewest agents per group that meet every target (see `sim.planning.headcount`).

    Args:
        source: the scenario (file, dict, `Scenario` or `Experiment`).
        targets: e.g. ``["phone.service_level>=0.8", "email.asa_s<=3600"]``.
        groups: the groups whose counts may change (default: every group with a `count`).
        replications: per candidate staffing; default the scenario's.
        seed: base seed; every candidate sees the same customers.
        workers: local processes (ignored with `dask`).
        dask: ``"local"`` or a scheduler address.
        max_agents: cap on the searched groups' total (per interval: on one group in one
            interval).
        per_interval: staff each group by a table of counts per interval and meet every
            target in every interval (see `sim.planning.intervals.optimize`).
        shifts: keep the groups' shifts and size their counts so that every target holds in
            every interval (see `sim.planning.shifts`); default groups: those
            with shifts.
        confident: a target is met only when its whole 95 % CI is, not just its mean.

    Returns:
        A `Plan`: `.counts`, `.targets` (achieved mean [CI], met), `.scenario`, `.to_dict()`;
        with `per_interval`, an `IntervalPlan`: `.tables`, `.intervals`, `.agent_hours()`.
    """
    from sim.planning.headcount import optimize as _optimize
    from sim.planning.intervals.optimize import optimize_intervals
    from sim.planning.shifts import optimize_shifts

    if per_interval and shifts:
        raise ValueError("choose one of per_interval (a table per group) and shifts (sized shifts)")

    executor = make_executor(workers, dask)
    search: Any = optimize_intervals if per_interval else optimize_shifts if shifts else _optimize
    try:
        return search(
            source, targets, groups=groups, replications=replications, seed=seed,
            executor=executor, max_agents=max_agents, confident=confident,
        )  # fmt: skip
    finally:
        executor.close()
