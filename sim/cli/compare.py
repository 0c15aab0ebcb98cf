"""`staffsim compare`: every variant against the baseline on common random numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sim.cli._common import (
    check_budget,
    executor_options,
    fail,
    force_option,
    load_experiment_file,
    out_folder_options,
    replications_option,
    report_option,
    run_stored,
    seed_option,
    with_executor,
    write_html_report,
)

SHOWN = ("service_level", "asa_s", "mean_wait_s", "abandon_rate", "p_wait", "queue_length", "backlog_end")
"""Channel metrics always shown (the same as `sim.metrics.shown.COMPARE_ROWS`)."""


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@replications_option(2, "Replications per side (default: the scenario's).")
@seed_option
@click.option(
    "--precision", metavar="METRIC=HALFWIDTH", help="Replicate until this 95% CI half-width is reached."
)
@click.option("--max-replications", type=click.IntRange(min=2), default=200, show_default=True)
@click.option(
    "--turning",
    metavar="PATH=LOW:HIGH[:POINTS]",
    help="Sweep this key for every claim and report where its verdict turns (claims may also say turning:).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@executor_options
@force_option
@report_option
def compare(
    scenario: Path,
    replications: int | None,
    seed: int | None,
    precision: str | None,
    max_replications: int,
    turning: str | None,
    as_json: bool,
    workers: int | None,
    dask: str | None,
    out: Path | None,
    resume: bool,
    overwrite: bool,
    quiet: bool,
    force: bool,
    report: bool,
) -> None:
    """Compare every variant of SCENARIO with its baseline on common random numbers."""
    from sim.api import compare as run_compare
    from sim.experiment.compare import Precision
    from sim.report.tables import comparison_table, render

    out_folder_options(out, overwrite, report)
    exp = load_experiment_file(scenario)
    if not exp.variants:
        fail(f"{scenario}: no variants to compare; add a 'variants:' section")
    prec = None
    if precision is not None:
        try:
            prec = Precision.parse(precision)
        except ValueError as exc:
            fail(str(exc))
    if not force:  # with --precision, as many replications as it may add
        most = replications or exp.baseline.replications
        check_budget(
            scenario,
            [exp.baseline, *exp.variants.values()],
            max(most, 3, max_replications) if prec is not None else most,
            "none",
        )
    store, result = run_stored(
        "compare", scenario, exp, seed, out, (resume, overwrite, quiet, workers, dask),
        lambda store, executor, progress, on_total: run_compare(
            exp, replications=replications, seed=seed, executor=executor, precision=prec,
            max_replications=max_replications, store=store, progress=progress, on_total=on_total,
        ),
        replications=replications, precision=precision,
    )  # fmt: skip
    turning_points(exp, result, turning, seed, workers, dask, quiet)
    if result.precision is not None and not result.precision.reached:
        click.echo(f"staffsim: warning: {result.precision.message(result.n)}", err=True)
    if store is not None:

        def write(folder: Path) -> None:
            from sim.experiment.turning import figure

            result.write(folder)
            for name, tp in result.turning.items():
                figure(tp).savefig(folder / f"turning-{name}.png", dpi=110, bbox_inches="tight")

        store.finish(write, overwrite=overwrite)
        if report:
            assert out is not None
            write_html_report(out)
    if as_json:
        click.echo(json.dumps(result.to_dict(), allow_nan=False))
        return
    click.echo(render(comparison_table(result, SHOWN)), nl=False)
    from sim.experiment.claims import verdict_lines

    click.echo(verdict_lines(result.verdicts()), nl=False)
    for tp in result.turning.values():
        click.echo(f"  turning point: {tp.sentence()}")
    if out is not None:
        click.echo(f"results written to {out}")


def turning_points(
    exp: Any,
    result: Any,
    turning: str | None,
    seed: int | None,
    workers: int | None,
    dask: str | None,
    quiet: bool,
) -> None:
    """Find where each claim turns (`--turning` for every claim, or a claim's own `turning:`)."""
    from sim.config.variants import check_path
    from sim.experiment.turning import parse_turning
    from sim.experiment.turning import turning_points as find_all

    override = None
    if turning is not None:
        if not exp.claims:
            fail("--turning needs claims: add a 'claims:' section to the scenario")
        try:
            override = parse_turning(turning)
        except ValueError as exc:
            fail(str(exc))
        try:
            check_path(override.path.split("."), override.path)
        except KeyError as exc:
            fail(f"--turning {override.path}: {exc.args[1]}")
    if override is None and not any(c.turning for c in exp.claims.values()):
        return
    try:
        result.turning = with_executor(
            "turning points", quiet, workers, dask,
            lambda executor, progress, on_total: find_all(
                exp, replications=result.n, override=override, seed=seed, executor=executor, progress=progress
            ),
        )  # fmt: skip
    except ValueError as exc:
        fail(str(exc))
