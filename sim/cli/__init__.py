"""The `staffsim` command: parse arguments, call the Python API, print. No model logic here.

Exit codes: 0 success; 2 a bad scenario, bad arguments, a run over budget (see
`sim.runner.budget`; `--force` runs it anyway) or an output folder that would be overwritten (with
a one-screen message on stderr, no traceback, no partial output); 1 worker processes that
kept dying; 130 interrupted (Ctrl-C), saying how to resume.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from sim.config import ScenarioError, load_scenario
from sim.records import RECORD_MODES
from sim.report.output import OutputExistsError

EXIT_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
_ON_INTERRUPT = "staffsim.on_interrupt"
"""`ctx.meta` key: a callable giving the sentence to print when the command is interrupted."""


def _fail(message: str) -> NoReturn:
    click.echo(f"staffsim: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _progress(total: int, quiet: bool, label: str) -> Any:
    """A progress bar on stderr (never stdout), silent with --quiet or when not a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total, desc=label, unit="rep", file=sys.stderr, disable=True if quiet else None, leave=False
    )


class _Main(click.Group):
    """The command group; ends Ctrl-C and dying workers with one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; turn an interrupt or a broken worker pool into a message."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo(f"\nstaffsim: interrupted; {_after_stop(ctx)}", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenProcessPool as exc:
            click.echo(f"staffsim: worker processes kept dying ({exc}); {_after_stop(ctx)}", err=True)
            sys.exit(EXIT_FAILED)


def _after_stop(ctx: click.Context) -> str:
    """What a stopped command leaves behind, and how to go on."""
    hint = ctx.meta.get(_ON_INTERRUPT)
    return str(hint()) if hint is not None else "no results were written"


def _resumable(store: Any, resume_hint: str) -> None:
    """Let an interrupt say how many finished replications `store` keeps, and how to resume."""
    if store is None:
        return

    def hint() -> str:
        if not store.partial.exists():  # interrupted after the results were put in place
            return f"the results are complete in {store.dest}" if store.dest.exists() else "nothing was kept"
        n = len(store.done())
        return (
            f"{n} finished replication{'s are' if n != 1 else ' is'} kept in {store.partial}; "
            f"run the same command with --resume to finish ({resume_hint})"
        )

    click.get_current_context().meta[_ON_INTERRUPT] = hint


_force_option = click.option(
    "--force", is_flag=True, help="Run even if the run is larger than the budget (see sim.runner.budget)."
)


def _check_budget(path: Path | str, scenarios: list[Any], replications: int | None, records: str) -> None:
    """Exit 2, quoting the estimate, when a run is larger than the limits of `sim.runner.budget`.

    Args:
        path: what the message names first: the scenario file, or the command (a study).
        scenarios: every scenario the run simulates (`sim.runner.budget.estimate`).
        replications: per scenario; None uses each scenario's own.
        records: what each replication keeps.
    """
    from sim.runner.budget import BudgetError, Limits, check, estimate

    try:
        limits = Limits.from_env()
    except BudgetError as exc:
        _fail(str(exc))
    try:
        check(estimate(scenarios, replications, records), limits)
    except BudgetError as exc:
        _fail(
            f"{path}: this run is too large:\n  "
            + "\n  ".join(exc.problems)
            + "\n  pass --force to run it anyway"
        )


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="staffsim")
def main() -> None:
    """staffsim: simulate customer-support staffing across phone, email and social channels."""


def _report_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--report", is_flag=True, help="Also write an HTML report (report.html) into --out.")(
        fn
    )


def _report(out: Path) -> None:
    """Write `out/report.html`; a failure here never loses the results already in place."""
    from sim.report.html import ReportError, write_report

    try:
        path = write_report(out)
    except (ReportError, OSError) as exc:
        _fail(f"results are in {out}, but the report could not be written: {exc}")
    click.echo(f"report written to {path}", err=True)


@main.command()
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
@_force_option
@_report_option
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

    sc = _load(scenario)
    if out is not None and out.exists() and not overwrite:
        _fail(f"{out} exists; choose another --out or pass --overwrite")
    mode = records or ("full" if out is not None else "summary")
    n = replications or sc.replications
    if not force:
        _check_budget(scenario, [sc], n, mode)
    bar = _progress(n, quiet, sc.name)
    try:
        result = _guard(
            lambda: sim.run(sc, replications=n, seed=seed, records=mode, workers=workers, progress=bar.update)
        )
    finally:
        bar.close()
    if report and out is None:
        _fail("--report needs --out (the report is written into the result folder)")
    if out is not None:
        _write_run(out, overwrite, scenario, result)
        if report:
            _report(out)
    if as_json:
        click.echo(json.dumps(result.to_dict(), allow_nan=False))
        return
    title = f"{sc.name}: {result.n} replications, seed {result.seed}, mean [95% CI]"
    click.echo(render(summary_table(title, result.channel_estimates(), result.group_estimates())), nl=False)
    if out is not None:
        click.echo(f"results written to {out}")


def _load(path: Path) -> Any:
    from sim.api import check_runnable

    try:
        scenario = load_scenario(path)
        check_runnable(scenario, label=str(path), path=path)
    except ScenarioError as exc:
        _fail(str(exc))
    return scenario


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ScenarioError as exc:
        _fail(str(exc))


def _write_run(out: Path, overwrite: bool, scenario_file: Path, result: Any) -> None:
    from sim.report.output import atomic_dir, manifest, write_json

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
        _fail(str(exc))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
def check(scenario: Path) -> None:
    """Validate SCENARIO without running it."""
    from sim.api import check_runnable
    from sim.model.build import expected_contacts

    sc = _load(scenario)
    _guard(lambda: check_runnable(sc))
    agents = sum(g.count for g in sc.agents.values() if g.count is not None)
    scheduled = sum(g.count is None for g in sc.agents.values())  # staffing tables and shifts
    staff = [f"{agents} agents"] if scheduled < len(sc.agents) else []
    staff += [f"{scheduled} scheduled group{'s' if scheduled > 1 else ''}"] if scheduled else []
    click.echo(
        f"{scenario}: valid — {len(sc.channels)} channels, {' and '.join(staff)}, "
        f"about {expected_contacts(sc):,.0f} contacts per replication"
    )


@main.command()
@click.option(
    "--agents",
    "-c",
    type=click.IntRange(min=1),
    help="Agents on duty (omit to find the fewest that meet --service-level).",
)
@click.option(
    "--rate-per-hour", type=click.FloatRange(min=0, min_open=True), required=True, help="Arrivals per hour."
)
@click.option(
    "--aht-s", type=click.FloatRange(min=0, min_open=True), required=True, help="Mean handle time, seconds."
)
@click.option(
    "--target-s",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Answer-within target, seconds.",
)
@click.option(
    "--patience-s",
    type=click.FloatRange(min=0, min_open=True),
    help="Mean patience, seconds (Erlang A; omit for Erlang C).",
)
@click.option(
    "--service-level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.8,
    show_default=True,
    help="Target share answered within --target-s, when sizing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def erlang(
    agents: int | None,
    rate_per_hour: float,
    aht_s: float,
    target_s: float,
    patience_s: float | None,
    service_level: float,
    as_json: bool,
) -> None:
    """Erlang C (or Erlang A with --patience-s) figures for a single-skill queue."""
    from sim.analytic import erlang as e

    lam = rate_per_hour / 3600.0
    load = lam * aht_s
    try:
        if agents is None:
            if patience_s is None:
                agents = e.min_agents_erlang_c(load, aht_s, target_s, service_level)
            else:
                agents = e.min_agents_erlang_a(lam, aht_s, patience_s, target_s, service_level)
        figures: dict[str, Any] = {
            "agents": agents,
            "load_erlangs": load,
            "sqrt_staffing_beta": (agents - load) / load**0.5,
        }
        if patience_s is None:
            figures.update(
                model="erlang_c",
                p_wait=e.erlang_c(agents, load),
                asa_s=e.erlang_c_asa(agents, load, aht_s),
                service_level=e.erlang_c_service_level(agents, load, aht_s, target_s),
                occupancy=min(load / agents, 1.0),
            )
        else:
            a = e.erlang_a(agents, lam, aht_s, patience_s, target_s)
            figures.update(
                model="erlang_a",
                p_wait=a.p_wait,
                p_abandon=a.p_abandon,
                asa_s=a.asa_s,
                mean_wait_s=a.mean_wait_s,
                service_level=a.service_level,
                occupancy=a.occupancy,
            )
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        clean = {
            k: (v if not isinstance(v, float) or (v == v and abs(v) != float("inf")) else None)
            for k, v in figures.items()
        }
        click.echo(json.dumps(clean))
        return
    for key, value in figures.items():
        click.echo(f"{key:>20}: {value:.6g}" if isinstance(value, float) else f"{key:>20}: {value}")


# --- experiments ----------------------------------------------------------------------

_SHOWN = ("service_level", "asa_s", "mean_wait_s", "abandon_rate", "p_wait", "queue_length", "backlog_end")


def _executor(workers: int | None, dask: str | None) -> Any:
    from sim.runner.executors import make_executor

    try:
        return make_executor(workers, dask)
    except OSError as exc:
        _fail(f"cannot reach the Dask scheduler {dask}: {exc}")


def _with_executor(
    label: str, quiet: bool, workers: int | None, dask: str | None, work: Callable[[Any, Any, Any], Any]
) -> Any:
    """Run `work(executor, progress, on_total)` with a progress bar, then release the executor."""
    bar = _progress(0, quiet, label)
    executor = _executor(workers, dask)

    def grow(total: int) -> None:
        bar.total = total
        bar.refresh()

    try:
        return _guard(lambda: work(executor, bar.update, grow))
    finally:
        bar.close()
        executor.close()


def _store(out: Path | None, key: dict[str, Any], resume: bool, overwrite: bool) -> Any:
    from sim.runner.store import StoreError, TaskStore

    if out is None:
        if resume:
            _fail("--resume needs --out (the folder of the interrupted run)")
        return None
    try:
        return TaskStore(out, key, resume=resume, overwrite=overwrite)
    except StoreError as exc:
        _fail(str(exc))


def _experiment_key(command: str, exp: Any, seed: int, **extra: Any) -> dict[str, Any]:
    import hashlib

    blob = exp.baseline.model_dump_json() + "".join(v.model_dump_json() for v in exp.variants.values())
    return {
        "command": command,
        "scenario_sha256": hashlib.sha256(blob.encode()).hexdigest(),
        "seed": seed,
        **extra,
    }


def _load_experiment(path: Path) -> Any:
    from sim.api import check_runnable
    from sim.config.variants import load_experiment

    try:
        exp = load_experiment(path)
        for scenario in [exp.baseline, *exp.variants.values()]:
            check_runnable(scenario, label=str(path), path=path)
    except ScenarioError as exc:
        _fail(str(exc))
    return exp


_executor_options = [
    click.option(
        "--workers", "-j", type=click.IntRange(min=1), help="Local worker processes (default: all cores)."
    ),
    click.option(
        "--dask", metavar="ADDRESS", help="Run on Dask: 'local' starts a LocalCluster, or tcp://HOST:PORT."
    ),
    click.option(
        "--out", type=click.Path(file_okay=False, path_type=Path), help="Write results to this folder."
    ),
    click.option(
        "--resume", is_flag=True, help="Finish an interrupted run in --out, reusing finished replications."
    ),
    click.option("--overwrite", is_flag=True, help="Replace an existing --out folder."),
    click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
]


def _with_executor_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_executor_options):
        fn = option(fn)
    return fn


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replications",
    "-n",
    type=click.IntRange(min=2),
    help="Replications per side (default: the scenario's).",
)
@click.option("--seed", type=click.IntRange(min=0), help="Base seed (default: the scenario's).")
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
@_with_executor_options
@_force_option
@_report_option
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
    from sim.experiment.compare import Precision
    from sim.experiment.compare import compare as run_compare
    from sim.report.tables import comparison_table, render

    exp = _load_experiment(scenario)
    if not exp.variants:
        _fail(f"{scenario}: no variants to compare; add a 'variants:' section")
    prec = None
    if precision is not None:
        try:
            prec = Precision.parse(precision)
        except ValueError as exc:
            _fail(str(exc))
    base_seed = exp.baseline.seed if seed is None else seed
    if not force:  # with --precision, as many replications as it may add
        most = replications or exp.baseline.replications
        _check_budget(
            scenario,
            [exp.baseline, *exp.variants.values()],
            max(most, 3, max_replications) if prec is not None else most,
            "none",
        )
    store = _store(
        out,
        _experiment_key("compare", exp, base_seed, replications=replications, precision=precision),
        resume,
        overwrite,
    )
    _resumable(store, f"--out {out} --resume")
    result = _with_executor(
        exp.baseline.name, quiet, workers, dask,
        lambda executor, progress, on_total: run_compare(
            exp, replications=replications, seed=seed, executor=executor, precision=prec,
            max_replications=max_replications, store=store, progress=progress, on_total=on_total,
        ),
    )  # fmt: skip
    _turning_points(exp, result, turning, seed, workers, dask, quiet)
    payload = result.to_dict()
    if store is not None:
        from sim.report.output import manifest, write_json

        def write(folder: Path) -> None:
            from sim.experiment.turning import figure

            for name, tp in result.turning.items():
                figure(tp).savefig(folder / f"turning-{name}.png", dpi=110, bbox_inches="tight")
            result.table().to_csv(folder / "comparison.csv", index=False)
            frames = [result.baseline.replications().assign(variant="baseline")]
            frames += [r.replications().assign(variant=v) for v, r in result.variants.items()]
            import pandas as pd

            pd.concat(frames, ignore_index=True).to_csv(folder / "replications.csv", index=False)
            write_json(folder / "result.json", payload)
            write_json(
                folder / "manifest.json",
                manifest(
                    exp.files,
                    exp.baseline.model_dump_json(),
                    seed=base_seed,
                    replications=result.n,
                    variants=exp.overrides,
                ),
            )

        store.finish(write, overwrite=overwrite)
        if report:
            assert out is not None
            _report(out)
    elif report:
        _fail("--report needs --out (the report is written into the result folder)")
    if as_json:
        click.echo(json.dumps(payload, allow_nan=False))
        return
    click.echo(render(comparison_table(result, _SHOWN)), nl=False)
    from sim.experiment.claims import verdict_lines

    click.echo(verdict_lines(result.verdicts()), nl=False)
    for tp in result.turning.values():
        click.echo(f"  turning point: {tp.sentence()}")
    if out is not None:
        click.echo(f"results written to {out}")


def _turning_points(
    exp: Any,
    result: Any,
    turning: str | None,
    seed: int | None,
    workers: int | None,
    dask: str | None,
    quiet: bool,
) -> None:
    """Find where each claim turns (`--turning` for every claim, or a claim's own `turning:`)."""
    from sim.experiment.turning import parse_turning, turning_points

    override = None
    if turning is not None:
        if not exp.claims:
            _fail("--turning needs claims: add a 'claims:' section to the scenario")
        try:
            override = parse_turning(turning)
        except ValueError as exc:
            _fail(str(exc))
        from sim.config.variants import check_path

        try:
            check_path(override.path.split("."), override.path)
        except KeyError as exc:
            _fail(f"--turning {override.path}: {exc.args[1]}")
    if override is None and not any(c.turning for c in exp.claims.values()):
        return
    try:
        result.turning = _with_executor(
            "turning points", quiet, workers, dask,
            lambda executor, progress, on_total: turning_points(
                exp, replications=result.n, override=override, seed=seed, executor=executor, progress=progress
            ),
        )  # fmt: skip
    except ValueError as exc:
        _fail(str(exc))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="PATH=VALUES",
    help="A key path and its values: 10:20, 10:20:2 or 5,10,20. Repeat for more dimensions.",
)
@click.option(
    "--replications",
    "-n",
    type=click.IntRange(min=1),
    help="Replications per point (default: the scenario's).",
)
@click.option("--seed", type=click.IntRange(min=0), help="Base seed (default: the scenario's).")
@_with_executor_options
@_force_option
@_report_option
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
    from sim.experiment.sweep import parse_grid, point_scenarios
    from sim.experiment.sweep import sweep as run_sweep

    exp = _load_experiment(scenario)
    try:
        grid = parse_grid(list(grids))
    except ValueError as exc:
        _fail(f"{scenario}: {exc}")
    if out is None:
        out = Path("results") / f"sweep-{scenario.stem}"
    base_seed = exp.baseline.seed if seed is None else seed
    if not force:
        _check_sweep_tasks(scenario, exp.baseline, grid, replications)
    # every point is checked before anything is written, with or without --force
    points = _guard(lambda: point_scenarios(exp.baseline, grid, label=str(scenario)))
    if not force:
        _check_budget(scenario, points, replications or exp.baseline.replications, "none")
    store = _store(
        out, _experiment_key("sweep", exp, base_seed, replications=replications, grid=grid), resume, overwrite
    )
    _resumable(store, f"--out {out} --resume")
    table = _with_executor(
        exp.baseline.name, quiet, workers, dask,
        lambda executor, progress, on_total: run_sweep(
            exp, grid, replications=replications, seed=seed, executor=executor, store=store,
            progress=progress, on_total=on_total, scenarios=points,
        ),
    )  # fmt: skip
    from sim.report.output import manifest, write_json

    def write(folder: Path) -> None:
        table.to_csv(folder / "sweep.csv", index=False)
        table.to_parquet(folder / "sweep.parquet", index=False)
        write_json(
            folder / "manifest.json",
            manifest(exp.files, exp.baseline.model_dump_json(), seed=base_seed, grid=grid, rows=len(table)),
        )

    store.finish(write, overwrite=overwrite)
    if report:
        _report(out)
    shown = table[(table.scope == "channel") & table.metric.isin(["service_level", "asa_s", "abandon_rate"])]
    means = (
        shown.groupby(["point", *grid, "name", "metric"], sort=True)["value"]
        .mean()
        .unstack(["name", "metric"])
    )
    click.echo(means.to_string(float_format=lambda v: f"{v:.4g}"))
    click.echo(f"{len(table):,} rows written to {out}/sweep.csv and sweep.parquet")


def _register_commands() -> None:
    """Commands that live in their own modules (they import from this one when run)."""
    from sim.cli.optimize import optimize
    from sim.cli.report import report
    from sim.cli.study import study

    main.add_command(optimize)
    main.add_command(report)
    main.add_command(study)


_register_commands()


def _check_sweep_tasks(path: Path, base: Any, grid: dict[str, list[Any]], replications: int | None) -> None:
    """The cheap part of a sweep's budget: the number of tasks, before any point is built."""
    import math

    from sim.runner.budget import BudgetError, Limits

    n = replications or base.replications
    tasks = math.prod(len(v) for v in grid.values()) * n
    try:
        limit = Limits.from_env().tasks
    except BudgetError as exc:
        _fail(str(exc))
    if tasks > limit:
        _fail(
            f"{path}: this run is too large:\n  the grid has {tasks:,} replication tasks, above the "
            f"limit of {limit:,.0f} (set STAFFSIM_MAX_TASKS to change it)\n  pass --force to run it anyway"
        )
