"""What the `staffsim` commands share: failing cleanly, progress, budgets, executors, stores.

Every name here is public so that a command module imports it by name; none of them knows
about a particular command. Heavy modules (tqdm, the model, the runner) are imported inside
the helper that needs them, so a command loads only what it uses.

Exit codes: 0 success; `EXIT_INPUT` (2) a bad scenario, bad arguments, a run over budget, a
replication stopped by the running guard or an output folder that cannot be used;
`EXIT_FAILED` (1) worker processes that kept dying; `EXIT_INTERRUPTED` (130) Ctrl-C (143 for
SIGTERM, `sim.runner.lifecycle.EXIT_TERMINATED`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from sim.text import excerpt

EXIT_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
ON_INTERRUPT = "staffsim.on_interrupt"
"""`ctx.meta` key: a callable giving the sentence to print when the command is interrupted."""


def fail(message: str) -> NoReturn:
    """Print `staffsim: message` on stderr and exit 2 (bad input; nothing was written)."""
    click.echo(f"staffsim: {message}", err=True)
    sys.exit(EXIT_INPUT)


def progress_bar(total: int, quiet: bool, label: str) -> Any:
    """A progress bar on stderr (never stdout), silent with --quiet or when not a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total, desc=label, unit="rep", file=sys.stderr, disable=True if quiet else None, leave=False
    )


def after_stop(ctx: click.Context) -> str:
    """What a stopped command leaves behind, and how to go on."""
    hint = ctx.meta.get(ON_INTERRUPT)
    return str(hint()) if hint is not None else "no results were written"


def resumable(store: Any, resume_hint: str) -> None:
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

    click.get_current_context().meta[ON_INTERRUPT] = hint


force_option = click.option(
    "--force", is_flag=True, help="Run even if the run is larger than the budget (see sim.runner.budget)."
)


def report_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The `--report` flag: also write report.html into --out."""
    return click.option("--report", is_flag=True, help="Also write an HTML report (report.html) into --out.")(
        fn
    )


def write_html_report(out: Path) -> None:
    """Write `out/report.html`; a failure here never loses the results already in place."""
    from sim.report.html import ReportError, write_report

    try:
        path = write_report(out)
    except (ReportError, OSError) as exc:
        fail(f"results are in {out}, but the report could not be written: {exc}")
    click.echo(f"report written to {path}", err=True)


def check_budget(path: Path | str, scenarios: list[Any], replications: int | None, records: str) -> None:
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
        fail(str(exc))
    try:
        check(estimate(scenarios, replications, records), limits)
    except BudgetError as exc:
        fail(
            f"{path}: this run is too large:\n  "
            + "\n  ".join(exc.problems)
            + "\n  pass --force to run it anyway"
        )


def guard(fn: Callable[[], Any]) -> Any:
    """Call `fn`; a scenario error it raises ends the command with exit 2."""
    from sim.config.errors import ScenarioError

    try:
        return fn()
    except ScenarioError as exc:
        fail(str(exc))


def load_experiment_file(path: Path) -> Any:
    """The baseline and variants in `path` (`sim.api.load`), or exit 2 with the scenario error."""
    from sim.api import load
    from sim.config.errors import ScenarioError

    try:
        return load(path)
    except ScenarioError as exc:
        fail(str(exc))


def load_scenario_file(path: Path) -> Any:
    """The scenario in `path` (an experiment's baseline), or exit 2 with the scenario error."""
    return load_experiment_file(path).baseline


def overwrite_needs(overwrite: bool, target: object, option: str, kind: str) -> None:
    """Exit 2 when `--overwrite` is given without `option`, the only thing it may replace.

    Args:
        overwrite: whether `--overwrite` was given.
        target: the value of `option` (None when it was not given).
        option: the option naming what is written, e.g. ``"--out"``.
        kind: what `option` names: ``"folder"`` or ``"file"``.
    """
    if overwrite and target is None:
        fail(f"--overwrite needs {option}: it only replaces an existing {option} {kind}")


def out_folder_options(out: Path | None, overwrite: bool, report: bool) -> None:
    """Exit 2 when `--overwrite` or `--report` is given without `--out`, the folder both need."""
    overwrite_needs(overwrite, out, "--out", "folder")
    if report and out is None:
        fail("--report needs --out (the report is written into the result folder)")


def save_result(result: Any, out: Path, overwrite: bool) -> None:
    """`result.save(out)`, or exit 2 when `out` exists and `--overwrite` was not given."""
    from sim.runner.atomic import OutputExistsError

    try:
        result.save(out, overwrite=overwrite)
    except OutputExistsError as exc:
        fail(exc.cli)


STORE = "staffsim.store"
"""`ctx.meta` key: the command's task store, dropped if the executor cannot start."""
DASK_TIMEOUT = "staffsim.dask_timeout"
"""`ctx.meta` key: seconds to wait for the Dask scheduler (`--dask-timeout`)."""


def _check_dask(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate `--dask` as it is parsed: exit 2 with what is allowed, before anything runs."""
    from sim.runner.executors import dask_address

    if value is None:
        return None
    try:
        return dask_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc).removeprefix("--dask "), ctx=ctx, param=param) from None


def _keep_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    ctx.meta[DASK_TIMEOUT] = value
    return value


def open_executor(workers: int | None, dask: str | None) -> Any:
    """The executor for --workers / --dask, or exit 2 when the Dask scheduler is unreachable.

    A store the command opened for --out is removed again when it holds no finished
    replication, so that the corrected command is not refused by an empty partial folder.
    """
    from sim.runner.executors import DEFAULT_DASK_TIMEOUT_S, make_executor

    ctx = click.get_current_context(silent=True)
    timeout = (
        ctx.meta.get(DASK_TIMEOUT, DEFAULT_DASK_TIMEOUT_S) if ctx is not None else DEFAULT_DASK_TIMEOUT_S
    )
    try:
        return make_executor(workers, dask, timeout)
    except (OSError, ValueError) as exc:
        store = ctx.meta.get(STORE) if ctx is not None else None
        if store is not None:
            store.discard()
        reason = f"after {timeout:g} s" if isinstance(exc, TimeoutError) else excerpt(str(exc), 200)
        fail(f"cannot reach the Dask scheduler {dask}: {reason} (--dask-timeout sets how long to wait)")


def with_executor(
    label: str, quiet: bool, workers: int | None, dask: str | None, work: Callable[[Any, Any, Any], Any]
) -> Any:
    """Run `work(executor, progress, on_total)` with a progress bar, then release the executor."""
    bar = progress_bar(0, quiet, label)
    executor = open_executor(workers, dask)

    def grow(total: int) -> None:
        bar.total = total
        bar.refresh()

    try:
        return guard(lambda: work(executor, bar.update, grow))
    finally:
        bar.close()
        executor.close()


def prepare_out(out: Path, overwrite: bool, protect: list[Any], need_bytes: float = 0.0) -> None:
    """Before simulating: --out may be written, no other run writes it, it has room (else exit 2).

    Args:
        out: the result folder.
        overwrite: whether a result folder staffsim wrote may be replaced.
        protect: the files the run reads; their folders are never replaced.
        need_bytes: the estimated size of the results.
    """
    from sim.runner.outdir import OutputError, prepare

    try:
        prepare(out, overwrite, [Path(p) for p in protect], need_bytes)
    except OutputError as exc:
        fail(exc.cli)


def results_bytes(scenarios: list[Any], replications: int | None, records: str) -> float:
    """Disk the results may take: the per-contact records (about 60 bytes each in Parquet)."""
    from sim.runner.budget import estimate

    if records != "full":
        return 0.0
    size = estimate(scenarios, replications, records)
    return size.contacts * 60.0 if size.contacts < 1e15 else 0.0


def open_store(
    out: Path | None, key: dict[str, Any], resume: bool, overwrite: bool, protect: list[Any] | None = None
) -> Any:
    """The task store of `--out` (None without it), or exit 2 when it cannot be used.

    The folder is checked and locked first (`prepare_out`); `protect` lists the files the
    run reads, whose folders are never replaced.
    """
    from sim.runner.store import StoreError, TaskStore

    if out is None:
        if resume:
            fail("--resume needs --out (the folder of the interrupted run)")
        return None
    prepare_out(out, overwrite, protect or [])
    try:
        store = TaskStore(out, key, resume=resume, overwrite=overwrite)
    except StoreError as exc:
        fail(exc.cli)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[STORE] = store
    return store


def experiment_key(command: str, exp: Any, seed: int, **extra: Any) -> dict[str, Any]:
    """What identifies an experiment's stored tasks: the command, the scenarios' hash, the seed."""
    import hashlib

    blob = exp.baseline.model_dump_json() + "".join(v.model_dump_json() for v in exp.variants.values())
    return {
        "command": command,
        "scenario_sha256": hashlib.sha256(blob.encode()).hexdigest(),
        "seed": seed,
        **extra,
    }


def run_stored(
    command: str,
    scenario: Path,
    exp: Any,
    seed: int | None,
    out: Path | None,
    flags: tuple[bool, bool, bool, int | None, str | None],
    work: Callable[[Any, Any, Any, Any], Any],
    **key: Any,
) -> tuple[Any, Any]:
    """Open the task store of `--out`, then run `work(store, executor, progress, on_total)`.

    Args:
        command: the command's name (part of the store's key).
        scenario: the scenario file (its folder and the files it extends are never replaced).
        exp: the loaded experiment.
        seed: `--seed` (None: the scenario's).
        out: `--out`, or None.
        flags: `--resume`, `--overwrite`, `--quiet`, `--workers` and `--dask`.
        work: the simulation, given the store (None without --out), executor and progress callbacks.
        **key: what else identifies the stored tasks (see `experiment_key`).

    Returns:
        (the store, what `work` returned).
    """
    from sim.runner.lifecycle import ready

    resume, overwrite, quiet, workers, dask = flags
    base_seed = exp.baseline.seed if seed is None else seed
    store = open_store(
        out, experiment_key(command, exp, base_seed, **key), resume, overwrite, [scenario, *exp.files]
    )
    resumable(store, f"--out {out} --resume")
    ready("simulating")
    result = with_executor(
        exp.baseline.name,
        quiet,
        workers,
        dask,
        lambda executor, progress, on_total: work(store, executor, progress, on_total),
    )
    return store, result


def seed_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--seed: the base seed of every replication (default: the scenario's)."""
    return click.option("--seed", type=click.IntRange(min=0), help="Base seed (default: the scenario's).")(fn)


def replications_option(least: int, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--replications/-n: a whole number of at least `least`, described by `help`."""
    return click.option("--replications", "-n", type=click.IntRange(min=least), help=help)


_EXECUTOR_OPTIONS = [
    click.option(
        "--workers", "-j", type=click.IntRange(min=1), help="Local worker processes (default: all cores)."
    ),
    click.option(
        "--dask",
        metavar="ADDRESS",
        callback=_check_dask,
        help="Run on Dask: 'local' starts a LocalCluster, or tcp://HOST:PORT.",
    ),
    click.option(
        "--dask-timeout",
        type=click.FloatRange(min=0.1, max=3600),
        default=10.0,
        show_default=True,
        expose_value=False,
        callback=_keep_timeout,
        help="Seconds to wait for the Dask scheduler before giving up (exit 2).",
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


def executor_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--workers, --dask, --out, --resume, --overwrite and --quiet, as compare and sweep take them."""
    for option in reversed(_EXECUTOR_OPTIONS):
        fn = option(fn)
    return fn
