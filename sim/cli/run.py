"""`staffsim run`: replications of one scenario, per-channel and per-group figures with CIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sim.cli._common import (
    check_budget,
    fail,
    force_option,
    guard,
    load_scenario_file,
    progress_bar,
    report_option,
    write_html_report,
)
from sim.records import RECORD_MODES


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replications", "-n", type=click.IntRange(min=1), help="Replications (default: the scenario's)."
)
@click.option("--seed", type=click.IntRange(min=0), help="Base seed (default: the scenario's).")
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
    import sim
    from sim.report.tables import render, summary_table

    sc = load_scenario_file(scenario)
    if out is not None and out.exists() and not overwrite:
        fail(f"{out} exists; choose another --out or pass --overwrite")
    mode = records or ("full" if out is not None else "summary")
    n = replications or sc.replications
    if not force:
        check_budget(scenario, [sc], n, mode)
    bar = progress_bar(n, quiet, sc.name)
    try:
        result = guard(
            lambda: sim.run(sc, replications=n, seed=seed, records=mode, workers=workers, progress=bar.update)
        )
    finally:
        bar.close()
    if report and out is None:
        fail("--report needs --out (the report is written into the result folder)")
    if out is not None:
        _write_run(out, overwrite, scenario, result)
        if report:
            write_html_report(out)
    if as_json:
        click.echo(json.dumps(result.to_dict(), allow_nan=False))
        return
    title = f"{sc.name}: {result.n} replications, seed {result.seed}, mean [95% CI]"
    click.echo(render(summary_table(title, result.channel_estimates(), result.group_estimates())), nl=False)
    if out is not None:
        click.echo(f"results written to {out}")


def _write_run(out: Path, overwrite: bool, scenario_file: Path, result: Any) -> None:
    from sim.report.output import manifest
    from sim.runner.atomic import OutputExistsError, atomic_dir, write_json

    try:
        with atomic_dir(out, overwrite=overwrite) as tmp:
            result.summary().to_csv(tmp / "summary.csv", index=False)
            result.replications().to_csv(tmp / "replications.csv", index=False)
            if result.records in ("summary", "full"):
                result.intervals().to_csv(tmp / "intervals.csv", index=False)
            if result.records == "full":
                result.contacts().to_parquet(tmp / "contacts.parquet", index=False)
            write_json(tmp / "result.json", result.to_dict())
            write_json(
                tmp / "manifest.json",
                manifest(
                    [str(scenario_file)],
                    result.scenario.model_dump_json(),
                    seed=result.seed,
                    replications=result.n,
                    records=result.records,
                    scenario=result.scenario.model_dump(mode="json"),
                ),
            )
    except OutputExistsError as exc:
        fail(str(exc))
