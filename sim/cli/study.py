"""`staffsim study scalability`: the "is good service scalable?" study from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sim.cli._common import check_budget, open_executor, prepare_out, save_result


@click.command()
@click.argument("name", type=click.Choice(["scalability"]))
@click.option("--quick", is_flag=True, help="Scales ×1, ×2, ×4 with short runs (about half a minute).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write tables, conclusions and figures here.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
@click.option(
    "--workers", "-j", type=click.IntRange(min=1), help="Local worker processes (default: all cores)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the conclusions as one JSON object.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.option(
    "--force", is_flag=True, help="Run even if the study is larger than the budget (see sim.runner.budget)."
)
def study(
    name: str,
    quick: bool,
    out: Path | None,
    overwrite: bool,
    workers: int | None,
    as_json: bool,
    quiet: bool,
    force: bool,
) -> None:
    """Run a study of the "good service is not scalable" argument.

    `scalability` scales demand ×1…×16, staffs pooled and split teams to fixed targets with
    the optimiser, runs a divert-vs-hire experiment and states which parts hold, with CIs.
    Like the other commands, it refuses (exit 2) a study larger than the budget unless
    --force; the estimate counts every staffing the optimiser is expected to simulate.
    """
    from sim.api import study as run_study
    from sim.experiment.study import study_scenarios

    if not force:
        check_budget(f"study {name}{' --quick' if quick else ''}", study_scenarios(quick), None, "none")
    if out is not None:
        prepare_out(out, overwrite, [])
    executor = open_executor(workers, None)
    try:
        result = run_study(quick=quick, executor=executor, progress=None if quiet or as_json else _say)
    finally:
        executor.close()
    if out is not None:
        save_result(result, out, overwrite)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    summary = result.summary()
    cols = ["scale", "design", "agents", "agents_per_erlang", "agents_per_1000_contacts",
            "cost_per_resolved_journey", "busy_hours_per_resolved_journey", "phone_service_level", "csat"]  # fmt: skip
    click.echo(summary[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    click.echo("")
    for c in result.conclusions:
        click.echo(f"[{'holds' if c.holds else 'does not hold'}] {c.claim}\n    {c.evidence}")
    if out is not None:
        click.echo(f"results written to {out}")


def _say(message: str) -> None:
    click.echo(message, err=True)
