"""`staffsim study scalability`: the "is good service scalable?" study from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sim.cli._common import check_budget, fail, open_executor, overwrite_needs, prepare_out, save_result


@click.command()
@click.argument("name", type=click.Choice(["scalability", "myths"]))
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--designs",
    default="pooled,pooled_preemptive,split",
    show_default=True,
    help="scalability: team designs to staff, comma-separated (pooled, pooled_preemptive, split).",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="CHANNEL.METRIC>=BOUND",
    help="scalability with SCENARIO: what to staff for (default 80 % of each channel within its target time).",
)
@click.option("--no-self-check", is_flag=True, help="scalability: skip the Erlang C self-checks.")
@click.option(
    "--quick",
    is_flag=True,
    help="scalability: scales ×1, ×2, ×4 with short runs; myths: 3 replications, coarse turning points.",
)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("scenarios/myths"),
    show_default=True,
    help="myths: the folder of myth scenarios with claims.",
)
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
    scenario: Path | None,
    designs: str,
    targets: tuple[str, ...],
    no_self_check: bool,
    quick: bool,
    folder: Path,
    out: Path | None,
    overwrite: bool,
    workers: int | None,
    as_json: bool,
    quiet: bool,
    force: bool,
) -> None:
    """Run a study of the "good service is not scalable" argument.

    `scalability [SCENARIO]` scales demand ×1…×16 (of the study centre, or of SCENARIO),
    staffs each --designs team design to the targets with the optimiser, runs a
    divert-vs-hire experiment and states which parts hold, with CIs; it prints two Erlang C
    self-checks with the study.
    `myths` judges the claims of every scenario in --folder (scenarios/myths) and writes one
    page (terminal; with --out also myths.md, myths.html, myths.json and turning figures).
    Like the other commands, it refuses (exit 2) a study larger than the budget unless
    --force; the estimate counts every staffing the optimiser is expected to simulate.
    """
    from sim.api import study as run_study
    from sim.experiment.study import study_scenarios

    overwrite_needs(overwrite, out, "--out", "folder")
    if name == "myths":
        if scenario is not None:
            fail("study myths takes no SCENARIO; give a folder with --folder")
        _myths(folder, quick, out, overwrite, workers, as_json, quiet)
        return
    from sim.config import ScenarioError
    from sim.experiment.centres import DESIGNS
    from sim.experiment.selfcheck import divert_vs_hire, report, square_root_table

    chosen = tuple(d.strip() for d in designs.split(",") if d.strip())
    unknown = [d for d in chosen if d not in DESIGNS]
    if unknown or not chosen:
        fail(f"--designs: unknown design {', '.join(unknown) or '(none)'}; allowed: {', '.join(DESIGNS)}")
    if scenario is not None and not scenario.is_file():
        fail(f"{scenario}: no such scenario file")
    label = f"study {name}{' ' + str(scenario) if scenario else ''}{' --quick' if quick else ''}"
    try:
        planned = study_scenarios(quick, scenario, chosen)
    except (ScenarioError, ValueError) as exc:
        fail(str(exc))
    if not force:
        check_budget(label, planned, None, "none")
    if out is not None:
        prepare_out(out, overwrite, [scenario] if scenario is not None else [])
    executor = open_executor(workers, None)
    try:
        result = run_study(
            quick=quick, executor=executor, progress=None if quiet or as_json else _say, scenario=scenario,
            designs=chosen, targets=list(targets) or None,
        )  # fmt: skip
        check = "" if no_self_check else report(square_root_table(), divert_vs_hire(executor=executor))
        result.self_check = check
    except (ScenarioError, ValueError) as exc:
        fail(str(exc))
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
    for note in result.notes:
        click.echo(f"note: {note}")
    if check:
        click.echo("")
        click.echo(check)
    if out is not None:
        click.echo(f"results written to {out}")


def _myths(
    folder: Path,
    quick: bool,
    out: Path | None,
    overwrite: bool,
    workers: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """`study myths`: judge every claim of the myth scenarios; print and write one page."""
    import base64
    import io

    from sim.config import ScenarioError
    from sim.experiment.myths import html_page, markdown, run_myths, terminal
    from sim.experiment.turning import figure
    from sim.runner.atomic import OutputExistsError, atomic_dir, write_json

    if not folder.is_dir():
        fail(f"{folder}: no such folder (give the folder of myth scenarios with --folder)")
    if out is not None:
        prepare_out(out, overwrite, sorted(folder.glob("*.yaml")))
    executor = open_executor(workers, None)
    try:
        result = run_myths(
            folder, quick=quick, executor=executor, progress=None if quiet or as_json else _say
        )
    except (ScenarioError, ValueError) as exc:
        fail(str(exc))
    finally:
        executor.close()
    payload = result.to_dict()
    if not payload["claims"]:
        fail(f"{folder}: no scenario there states claims")
    if out is not None:
        try:
            with atomic_dir(out, overwrite=overwrite) as tmp:
                pngs: dict[str, str] = {}
                for key, tp in result.turning.items():
                    fig = figure(tp)
                    fig.savefig(tmp / f"turning-{key}.png", dpi=110, bbox_inches="tight")
                    buffer = io.BytesIO()
                    fig.savefig(buffer, format="png", dpi=90)
                    pngs[key] = base64.b64encode(buffer.getvalue()).decode("ascii")
                write_json(tmp / "myths.json", payload)
                (tmp / "myths.md").write_text(markdown(payload), encoding="utf-8")
                (tmp / "myths.html").write_text(html_page(payload, pngs), encoding="utf-8")
        except OutputExistsError as exc:
            fail(exc.cli)
    if as_json:
        click.echo(json.dumps(payload))
        return
    click.echo(terminal(payload), nl=False)
    if out is not None:
        click.echo(f"results written to {out}")


def _say(message: str) -> None:
    click.echo(message, err=True)
