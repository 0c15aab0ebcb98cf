"""`staffsim optimize`: the fewest agents per group that meet service targets.

Listed in `sim.cli.COMMANDS`; the command itself only parses, calls the optimiser and
prints. `plan_file` and `write_plan` turn a plan into a scenario file that extends the
one searched; the three `render_*` functions print each kind of plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.cli._common import (
    check_budget,
    fail,
    load_experiment_file,
    open_executor,
    overwrite_needs,
    progress_bar,
    replications_option,
    seed_option,
)

if TYPE_CHECKING:
    from sim.planning.headcount import Plan
    from sim.planning.intervals.optimize import IntervalPlan
    from sim.planning.shifts import ShiftPlan

    AnyPlan = Plan | IntervalPlan | ShiftPlan


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
    help="An agent group whose count may change (default: every group with a count; with "
    "--per-interval, every group not on shifts). Repeat for more.",
)
@click.option(
    "--per-interval",
    is_flag=True,
    help="Staff each group by a table of counts per interval of the day (or week) and meet every "
    "target in every interval.",
)
@click.option(
    "--shifts",
    "size_shifts",
    is_flag=True,
    help="Keep the groups' shifts as written and size their counts so that every target holds in "
    "every interval (default groups: every group with shifts).",
)
@click.option(
    "--confident",
    is_flag=True,
    help="Count a target as met only when its whole 95% CI is, not just its mean: a plan that also "
    "holds on new customers, at the price of more agents.",
)
@replications_option(1, "Replications per staffing (default: the scenario's).")
@seed_option
@click.option(
    "--max-agents",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Most agents the searched groups may have together (with --per-interval: one group in one interval).",
)
@click.option(
    "--workers", "-j", type=click.IntRange(min=1), help="Local worker processes (default: all cores)."
)
@click.option(
    "--dask", metavar="ADDRESS", help="Run on Dask: 'local' starts a LocalCluster, or tcp://HOST:PORT."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--force",
    is_flag=True,
    help="Run even if the search looks larger than the budget (see sim.runner.budget).",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the plan as a scenario file that extends SCENARIO (run it with `staffsim run FILE`).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --save file.")
@click.option(
    "--max-staffings",
    type=click.IntRange(min=1),
    help="With --per-interval or --shifts: stop after simulating this many staffings "
    "(default 100); the budget check counts this many.",
)
def optimize(
    scenario: Path,
    targets: tuple[str, ...],
    groups: tuple[str, ...],
    per_interval: bool,
    size_shifts: bool,
    confident: bool,
    replications: int | None,
    seed: int | None,
    max_agents: int,
    workers: int | None,
    dask: str | None,
    as_json: bool,
    quiet: bool,
    force: bool,
    save: Path | None,
    overwrite: bool,
    max_staffings: int | None,
) -> None:
    """Find the fewest agents per group of SCENARIO that meet every --target.

    Starts from Erlang C/A staffing, then adds agents where they help most and removes
    them while every target still holds, simulating each staffing on the same customers
    (common random numbers). A target is met when its mean over the replications is
    (with --confident, its whole 95% CI).
    With --per-interval, each group gets a count per interval and every target must hold in
    every interval; with --shifts, the groups' shifts are sized instead; those two searches
    simulate at most --max-staffings staffings, and the budget check counts that many.
    """
    from sim.api import optimize as run_optimize
    from sim.config.errors import ScenarioError
    from sim.experiment.study import search_runs
    from sim.planning.headcount import Plan, group_knobs, parse_targets
    from sim.planning.intervals.optimize import check_interval_targets, table_groups
    from sim.planning.search import MAX_STAFFINGS
    from sim.planning.settings import OptimizeMode, OptimizeSettings
    from sim.planning.shifts import ShiftPlan, shift_groups

    if per_interval and size_shifts:
        fail("choose one of --per-interval (a table per group) and --shifts (sized shifts)")
    overwrite_needs(overwrite, save, "--save", "file")
    if max_staffings is not None and not (per_interval or size_shifts):
        fail("--max-staffings needs --per-interval or --shifts (the head-count search is not bounded by it)")
    if save is not None and save.exists() and not overwrite:
        fail(f"{save} exists; choose another --save file or pass --overwrite")
    exp = load_experiment_file(scenario)
    base = exp.baseline
    try:
        parsed = parse_targets(targets, base)
        if per_interval:
            check_interval_targets(parsed, base, table_groups(base, list(groups) or None))
            staffings = max_staffings or MAX_STAFFINGS  # the search's bound: an upper bound
        elif size_shifts:
            check_interval_targets(parsed, base, shift_groups(base, list(groups) or None))
            staffings = max_staffings or MAX_STAFFINGS
        else:
            staffings = search_runs(len(group_knobs(base, list(groups) or None)))
    except ValueError as exc:
        fail(str(exc))
    if not force:
        records = "summary" if per_interval or size_shifts else "none"
        check_budget(scenario, [base] * staffings, replications, records)
    bar = progress_bar(0, quiet, base.name)
    executor = open_executor(workers, dask)

    def grow(total: int) -> None:
        bar.total = total
        bar.refresh()

    mode: OptimizeMode = "intervals" if per_interval else "shifts" if size_shifts else "headcount"
    settings = OptimizeSettings(
        groups=groups or None,
        replications=replications,
        seed=seed,
        max_agents=max_agents,
        confident=confident,
        max_staffings=max_staffings,
    )
    plan: AnyPlan
    try:
        plan = run_optimize(
            exp, parsed, mode=mode, settings=settings, executor=executor, progress=bar.update, on_total=grow
        )
    except (ValueError, ScenarioError) as exc:
        fail(str(exc))
    finally:
        bar.close()
        executor.close()
    if save is not None:
        write_plan(save, scenario, plan)
    if as_json:
        click.echo(json.dumps(plan.to_dict(), allow_nan=False))
        return
    if isinstance(plan, Plan):
        click.echo(render_plan(plan), nl=False)
    elif isinstance(plan, ShiftPlan):
        click.echo(render_shift_plan(plan), nl=False)
    else:
        click.echo(render_interval_plan(plan), nl=False)
    if save is not None:
        click.echo(f"plan written to {save}: staffsim run {save}")


def plan_file(path: Path, source: Path, plan: AnyPlan) -> str:
    """The text of a scenario file holding `plan`.

    It extends `source` and sets only the searched groups' staffing, so everything else
    (demand, routing, trace files) stays in one place.
    """
    import os

    import yaml

    from sim.planning.headcount import Plan
    from sim.planning.shifts import ShiftPlan
    from sim.report.tables import replications_text

    agents: dict[str, Any]
    if isinstance(plan, Plan):
        agents = {g: {"count": plan.counts[g]} for g in plan.searched}
        how = "head counts per group"
    elif isinstance(plan, ShiftPlan):
        agents = {
            g: {"shifts": [s.model_dump(mode="json") for s in plan.scenario.agents[g].shifts or []]}
            for g in plan.counts
        }
        how = "agents per shift"
    else:
        agents = {
            g: {
                "count": None,
                "shifts": None,
                "staffing": {"interval_min": plan.interval_min, "counts": list(plan.scenario_counts(g))},
            }
            for g in plan.tables
        }
        how = f"agents per {plan.interval_min}-minute interval"
    verdict = "every target met" if plan.met else "targets NOT met"
    targets = (
        ", ".join(str(r.target) for r in plan.targets)
        if isinstance(plan, Plan)
        else ", ".join(str(t) for t in plan.targets)
    )
    parent = os.path.relpath(source.resolve(), path.resolve().parent)
    header = (
        f"# Staffing plan found by `staffsim optimize` ({how}), {replications_text(plan.replications)}, "
        f"seed {plan.seed}.\n# Targets: {targets} ({verdict}).\n# Run it: staffsim run {path.name}\n"
    )
    body = {"extends": parent, "name": f"{plan.scenario.name}-plan", "agents": agents}
    return header + yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=100)


def write_plan(path: Path, source: Path, plan: AnyPlan) -> None:
    """Write `plan_file` atomically (a temporary file in the same folder, then a rename)."""
    from sim.runner.atomic import replace_file

    text = plan_file(path, source, plan)
    try:
        replace_file(path, text)
    except OSError as exc:
        fail(f"{path}: cannot write the plan: {exc.strerror or exc}")


def render_plan(plan: Plan) -> str:
    """The plan as two terminal tables: agents per group, then each target."""
    from rich.table import Table

    from sim.report.tables import fmt_estimate, render, replications_text

    verdict = "every target met" if plan.met else "targets NOT met"
    header = (
        f"{plan.scenario.name}: {verdict} with {plan.total_agents} agents "
        f"(Erlang start: {sum(plan.start.values())})\n"
        f"{plan.evaluated} staffings simulated, {replications_text(plan.replications)} each on common "
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


def render_interval_plan(plan: IntervalPlan) -> str:
    """The per-interval plan: agents per group and each target's mean per interval.

    Intervals where no group has agents and no target applies are left out.
    """
    from rich.table import Table

    from sim.report.tables import fmt_estimate, fmt_value, render, replications_text

    verdict = "every target met in every interval" if plan.met else "targets NOT met in every interval"
    hours = ", ".join(f"{g} {plan.agent_hours(g):,.1f}" for g in plan.tables)
    header = (
        f"{plan.scenario.name}: {verdict}\n"
        f"agent-hours over the run: {plan.agent_hours():,.1f} ({hours}); Erlang start "
        f"{plan.start_agent_hours():,.1f}\n"
        f"{plan.evaluated} staffings simulated, {replications_text(plan.replications)} each on common "
        f"random numbers (seed {plan.seed}); {plan.interval_min}-minute intervals\n\n"
    )
    table = Table()
    table.add_column("interval")
    for g in plan.tables:
        table.add_column(g, justify="right")
        table.add_column("start", justify="right", style="dim")
    for t in plan.targets:
        table.add_column(str(t), justify="right")
    for k, label in enumerate(plan.labels):
        active = any(j.active[k] for j in plan.intervals)
        if not active and not any(c[k] for c in plan.tables.values()):
            continue
        row = [label]
        for g, counts in plan.tables.items():
            row += [str(counts[k]), str(plan.start[g][k])]
        for t, j in zip(plan.targets, plan.intervals, strict=True):
            e = j.estimates[k]
            cell = "" if not j.active[k] else fmt_value(t.metric, e.mean)
            row.append(cell if j.met[k] else f"[bold red]{cell} NO[/]")
        table.add_row(*row)
    totals = Table()
    totals.add_column("target")
    totals.add_column("whole run: mean [95% CI]", justify="right")
    totals.add_column("intervals missed", justify="right")
    for t, j, e in zip(plan.targets, plan.intervals, plan.overall, strict=True):
        totals.add_row(str(t), fmt_estimate(t.metric, e), str(sum(not m for m in j.met)))
    notes = [plan.note, *(f"warning: {w}" for w in plan.warnings)]
    return header + render(table) + render(totals) + "".join(f"{line}\n" for line in notes)


def render_shift_plan(plan: ShiftPlan) -> str:
    """The sized shifts, then each target: whole-run mean [CI] and the intervals it misses."""
    from rich.table import Table

    from sim.report.tables import fmt_estimate, render, replications_text

    verdict = "every target met in every interval" if plan.met else "targets NOT met in every interval"
    header = (
        f"{plan.scenario.name}: {verdict}\n"
        f"paid agent-hours over the run: {plan.agent_hours():,.1f} (start {plan.agent_hours(start=True):,.1f})\n"
        f"{plan.evaluated} staffings simulated, {replications_text(plan.replications)} each on common "
        f"random numbers (seed {plan.seed})\n\n"
    )
    shifts = Table()
    for name in ("group", "shift", "agents", "start", "paid h each"):
        shifts.add_column(name, justify="left" if name in ("group", "shift") else "right")
    for g, counts in plan.counts.items():
        for d, c, s0, h in zip(plan.shifts[g], counts, plan.start[g], plan.paid_hours[g], strict=True):
            shifts.add_row(g, d, str(c), str(s0), f"{h:,.1f}")
    targets = Table()
    targets.add_column("target")
    targets.add_column("whole run: mean [95% CI]", justify="right")
    targets.add_column("intervals missed")
    for t, j, e in zip(plan.targets, plan.intervals, plan.overall, strict=True):
        missed = [plan.labels[k] for k, ok in enumerate(j.met) if not ok]
        shown = ", ".join(missed[:6]) + (f" and {len(missed) - 6} more" if len(missed) > 6 else "")
        targets.add_row(str(t), fmt_estimate(t.metric, e), shown or "none")
    notes = [plan.note, *(f"warning: {w}" for w in plan.warnings)]
    return header + render(shifts) + render(targets) + "".join(f"{line}\n" for line in notes)
