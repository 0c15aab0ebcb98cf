"""`staffsim run`: replications of one scenario, per-channel and per-group figures with CIs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sim.cli._common import (
    check_budget,
    force_option,
    guard,
    load_experiment_file,
    out_folder_options,
    prepare_out,
    progress_bar,
    replications_option,
    report_option,
    results_bytes,
    save_result,
    seed_option,
    write_html_report,
)
from sim.records import RECORD_MODES
from sim.runner.lifecycle import ready
from sim.runner.outdir import release


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@replications_option(1, "Replications (default: the scenario's).")
@seed_option
@click.option(
    "--records",
    type=click.Choice(RECORD_MODES),
    help="What to keep: none, summary (default) or full; --out defaults to full.",
)
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes to run replications on.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write results to this folder (atomically).",
)
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing --out folder (once the new one is complete)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of tables.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@force_option
@report_option
def run(
    scenario: Path,
    replications: int | None,
    seed: int | None,
    records: str | None,
    workers: int,
    out: Path | None,
    overwrite: bool,
    as_json: bool,
    quiet: bool,
    force: bool,
    report: bool,
) -> None:
    """Run replications of SCENARIO and print per-channel metrics with 95% CIs."""
    from sim.api import run as run_replications
    from sim.report.tables import run_tables

    out_folder_options(out, overwrite, report)
    exp = load_experiment_file(scenario)
    sc = exp.baseline
    mode = records or ("full" if out is not None else "summary")
    n = replications or sc.replications
    if not force:
        check_budget(scenario, [sc], n, mode)
    if out is not None:
        prepare_out(out, overwrite, [scenario], results_bytes([sc], n, mode))
    bar = progress_bar(n, quiet, sc.name)
    ready("simulating")
    try:
        result = guard(
            lambda: run_replications(
                exp, replications=n, seed=seed, records=mode, workers=workers, progress=bar.update
            )
        )
    finally:
        bar.close()
    if out is not None:
        save_result(result, out, overwrite)
        release(out)
        if report:
            write_html_report(out)
    if as_json:
        click.echo(json.dumps(result.to_dict(), allow_nan=False))
        return
    click.echo(run_tables(result), nl=False)
    if out is not None:
        click.echo(f"results written to {out}")
