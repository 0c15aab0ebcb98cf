"""`staffsim optimize`: the fewest agents per group that meet service targets.

Registered on the main command group with ``main.add_command(optimize)`` in `sim.cli`;
the command itself only parses, calls `sim.experiment.optimize.optimize` and prints. The
helpers it shares with `sim.cli` are imported when the command runs, not when this module
is imported, so `sim.cli` may import this module at its top without an import cycle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.config import ScenarioError

if TYPE_CHECKING:
    from sim.experiment.optimize import Plan


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--target",
    "-t",
    "targets",
    multiple=True,
    required=True,
    metavar="NAME.METRIC>=VALUE",
    help="A bound on a mean, e.g. phone.service_level>=0.8, email.asa_s<=86400, "
    "overall.occupancy<=0.9 (operators >=, <=, >, <). Repeat for more.",
)
@click.option(
    "--group",
    "-g",
    "groups",
    multiple=True,
    metavar="NAME",
    help="An agent group whose count may change (default: every group with a count). Repeat for more.",
)
@click.option(
    "--replications",
    "-n",
    type=click.IntRange(min=1),
    help="Replications per staffing (default: the scenario's).",
)
@click.option("--seed", type=click.IntRange(min=0), help="Base seed (default: the scenario's).")
@click.option(
    "--max-agents",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Most agents the searched groups may have together.",
)
@click.option(
    "--workers", "-j", type=click.IntRange(min=1), help="Local worker processes (default: all cores)."
)
@click.option(
    "--dask", metavar="ADDRESS", help="Run on Dask: 'local' starts a LocalCluster, or tcp://HOST:PORT."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def optimize(
    scenario: Path,
    targets: tuple[str, ...],
    groups: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    max_agents: int,
    workers: int | None,
    dask: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Find the fewest agents per group of SCENARIO that meet every --target.

    Starts from Erlang C/A staffing, then adds agents where they help most and removes
    them while every target still holds, simulating each staffing on the same customers
    (common random numbers). A target is met when its mean over the replications is.
    """
    from sim.cli import _executor, _fail, _load_experiment, _progress
    from sim.experiment.optimize import group_knobs, parse_targets
    from sim.experiment.optimize import optimize as run_optimize

    exp = _load_experiment(scenario)
    base = exp.baseline
    try:
        parsed = parse_targets(targets, base)
        group_knobs(base, list(groups) or None)
    except ValueError as exc:
        _fail(str(exc))
    bar = _progress(0, quiet, base.name)
    executor = _executor(workers, dask)

    def grow(total: int) -> None:
        bar.total = total
        bar.refresh()

    try:
        plan = run_optimize(
            base,
            parsed,
            groups=list(groups) or None,
            replications=replications,
            seed=seed,
            executor=executor,
            max_agents=max_agents,
            progress=bar.update,
            on_total=grow,
        )
    except (ValueError, ScenarioError) as exc:
        _fail(str(exc))
    finally:
        bar.close()
        executor.close()
    if as_json:
        click.echo(json.dumps(plan.to_dict(), allow_nan=False))
        return
    click.echo(render_plan(plan), nl=False)


def render_plan(plan: Plan) -> str:
    """The plan as two terminal tables: agents per group, then each target."""
    from rich.table import Table

    from sim.report.tables import fmt_estimate, render

    verdict = "every target met" if plan.met else "targets NOT met"
    header = (
        f"{plan.scenario.name}: {verdict} with {plan.total_agents} agents "
        f"(Erlang start: {sum(plan.start.values())})\n"
        f"{plan.evaluated} staffings simulated, {plan.replications} replications each on common "
        f"random numbers (seed {plan.seed})\n\n"
    )
    agents = Table()
    agents.add_column("group")
    agents.add_column("agents", justify="right")
    agents.add_column("Erlang start", justify="right")
    agents.add_column("")
    for group, count in plan.counts.items():
        searched = group in plan.searched
        agents.add_row(group, str(count), str(plan.start[group]), "" if searched else "fixed")
    agents.add_section()
    agents.add_row("total", str(plan.total_agents), str(sum(plan.start.values())), "")
    targets = Table()
    targets.add_column("target")
    targets.add_column("achieved: mean [95% CI]", justify="right")
    targets.add_column("met")
    for r in plan.targets:
        targets.add_row(str(r.target), fmt_estimate(r.target.metric, r.estimate), "yes" if r.met else "NO")
    notes = [plan.note, *(f"warning: {w}" for w in plan.warnings)]
    return header + render(agents) + render(targets) + "".join(f"{line}\n" for line in notes)
