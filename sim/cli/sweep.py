"""`staffsim sweep`: a scenario at every point of a grid of key-path values, one tidy table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sim.cli._common import (
    check_budget,
    executor_options,
    fail,
    force_option,
    guard,
    load_experiment_file,
    replications_option,
    report_option,
    run_stored,
    seed_option,
    write_html_report,
)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="PATH=VALUES",
    help="A key path and its values: 10:20, 10:20:2 or 5,10,20. Repeat for more dimensions.",
)
@replications_option(1, "Replications per point (default: the scenario's).")
@seed_option
@executor_options
@force_option
@report_option
def sweep(
    scenario: Path,
    grids: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    workers: int | None,
    dask: str | None,
    out: Path | None,
    resume: bool,
    overwrite: bool,
    quiet: bool,
    force: bool,
    report: bool,
) -> None:
    """Run SCENARIO at every point of a grid; write a tidy table (CSV and Parquet)."""
    from sim.api import grid_scenarios
    from sim.api import sweep as run_sweep
    from sim.experiment.sweep import parse_grid

    exp = load_experiment_file(scenario)
    try:
        grid = parse_grid(list(grids))
    except ValueError as exc:
        fail(f"{scenario}: {exc}")
    if out is None:
        out = Path("results") / f"sweep-{scenario.stem}"
        if out.exists() and not (overwrite or resume):  # the user named no --out: say where it came from
            said = f"{out} exists (sweep's default folder for {scenario.name})"
            fail(f"{said}; pass --overwrite to replace it, or choose another with --out DIR")
    if not force:
        _check_sweep_tasks(scenario, exp.baseline, grid, replications)
    # every point is checked before anything is written, with or without --force
    points = guard(lambda: grid_scenarios(exp, grid, label=str(scenario)))
    if not force:
        check_budget(scenario, points, replications or exp.baseline.replications, "none")
    store, result = run_stored(
        "sweep", scenario, exp, seed, out, (resume, overwrite, quiet, workers, dask),
        lambda store, executor, progress, on_total: run_sweep(
            exp, grid, replications=replications, seed=seed, executor=executor, store=store,
            progress=progress, on_total=on_total, points=points,
        ),
        replications=replications, grid=grid,
    )  # fmt: skip
    store.finish(result.write, overwrite=overwrite)
    table = result.table()
    if report:
        write_html_report(out)
    from sim.report.tables import render, sweep_table

    click.echo(render(sweep_table(table, list(grid))), nl=False)
    click.echo(f"{len(table):,} rows written to {out}/sweep.csv and sweep.parquet")


def _check_sweep_tasks(path: Path, base: Any, grid: dict[str, list[Any]], replications: int | None) -> None:
    """The cheap part of a sweep's budget: the number of tasks, before any point is built."""
    import math

    from sim.runner.budget import BudgetError, Limits

    n = replications or base.replications
    tasks = math.prod(len(v) for v in grid.values()) * n
    try:
        limit = Limits.from_env().tasks
    except BudgetError as exc:
        fail(str(exc))
    if tasks > limit:
        fail(
            f"{path}: this run is too large:\n  the grid has {tasks:,} replication tasks, above the "
            f"limit of {limit:,.0f} (set STAFFSIM_MAX_TASKS to change it)\n  pass --force to run it anyway"
        )
