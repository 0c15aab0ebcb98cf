"""`staffsim backtest`: a scenario's simulated day beside a contact log's observed days.

Listed in `sim.cli.COMMANDS` and imported when invoked. The command parses, reads the log
(`sim.calibrate.log`), calls `sim.calibrate.backtest.backtest` and prints a table, one JSON
object (`--json`) or writes an HTML page (`--report FILE`; an existing one only with
`--overwrite`). Every input problem — a bad
scenario, a bad log, days that select nothing, a scenario that cannot be compared with the
log — ends with a one-screen message and exit status 2, before anything is written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from sim.cli._common import (
    check_budget,
    fail,
    force_option,
    load_scenario_file,
    overwrite_needs,
    replications_option,
    seed_option,
)


def _hours(text: str | None) -> tuple[float, float] | None:
    """``"7-23"`` → (7, 23): the hours of the day whose intervals are shown and judged."""
    if text is None:
        return None
    first, sep, last = text.partition("-")
    try:
        lo, hi = float(first), float(last)
    except ValueError:
        lo = hi = math.nan
    if not sep or not (0 <= lo < hi <= 24):
        raise click.BadParameter(
            f"'{text}': give FIRST-END hours of the day, 0 ≤ FIRST < END ≤ 24, e.g. 7-23"
        )
    return lo, hi


def _dates(text: str | None) -> tuple[str, str] | None:
    """``"1999-02-08..1999-02-14"`` → the first and last calendar day (both included)."""
    if text is None:
        return None
    import pandas as pd

    first, sep, last = text.partition("..")
    try:
        lo, hi = pd.Timestamp(first), pd.Timestamp(last or first)
    except ValueError:
        raise click.BadParameter(f"'{text}': give FIRST..LAST dates, e.g. 1999-02-08..1999-02-14") from None
    if not sep and last:
        raise click.BadParameter(f"'{text}': give FIRST..LAST dates, e.g. 1999-02-08..1999-02-14")
    if hi < lo:
        raise click.BadParameter(f"'{text}': the last date is before the first")
    return lo.date().isoformat(), hi.date().isoformat()


def summary_lines(bt: Any) -> list[str]:
    """The verdict in words: whole-period errors, intervals inside the band, and misses."""
    from sim.calibrate.bands import METRICS

    lines = []
    for metric in METRICS:
        judged = bt.judged(metric)
        inside = sum(bool(bt.intervals[i][metric].inside) for i in judged)
        misses = bt.misses(metric)
        rel = bt.relative_error(metric)
        whole = "inside" if bt.overall[metric].inside else "outside"
        lines.append(
            f"{metric}: whole period {rel:+.1%} against observed ({whole} the band); "
            f"inside the band in {inside} of {len(judged)} intervals"
            + (f"; misses: {', '.join(misses)}" if misses else "")
        )
    return lines


def _text_table(bt: Any) -> str:
    """Per interval and figure: observed [95 % band] and the simulated mean, * when outside."""
    from rich.table import Table

    from sim.calibrate.bands import METRICS
    from sim.report.tables import fmt_value, render

    table = Table(
        title=f"{bt.scenario}: observed [95% band from the log's days] → simulated mean (* outside the band)",
        title_justify="left",
    )
    table.add_column("interval")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    entries = [*((bt.start(i), f) for i, f in bt.intervals.items()), ("whole period", bt.overall)]
    for k, (label, figs) in enumerate(entries):
        if k == len(entries) - 1:
            table.add_section()
        cells = []
        for metric in METRICS:
            f = figs[metric]
            o = f.observed
            band = f"[{fmt_value(metric, o.ci_low)}, {fmt_value(metric, o.ci_high)}]"
            mark = {True: "  ", False: " *", None: " ?"}[f.inside]
            cells.append(f"{fmt_value(metric, o.value)} {band} → {fmt_value(metric, f.simulated.mean)}{mark}")
        table.add_row(label, *cells)
    return render(table, width=200)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@replications_option(2, "Replications of the log's days (default: the scenario's).")
@click.option(
    "--interval-min",
    type=click.Choice(["15", "30", "60"]),
    default="30",
    show_default=True,
    help="Interval length.",
)
@click.option("--days", help="Days of the week to compare: weekdays, all, weekends or names (Sun,Mon,...).")
@click.option("--dates", help="Calendar days to compare, FIRST..LAST (e.g. 1999-02-08..1999-02-14).")
@click.option(
    "--hours", help="Hours of the day whose intervals are shown and judged, e.g. 7-23 (default: all)."
)
@click.option(
    "--column", "columns", multiple=True, help="NAME=THEIRS: the log's own name of a column (repeatable)."
)
@click.option(
    "--replay", is_flag=True, help="Replay the log's arrivals and its inferred staffing, day by day."
)
@seed_option
@click.option("--workers", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Processes.")
@force_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of tables.")
@click.option(
    "--report", "report", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML page here."
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --report file.")
def backtest(
    scenario: Path,
    log: Path,
    replications: int | None,
    interval_min: str,
    days: str | None,
    dates: str | None,
    hours: str | None,
    columns: tuple[str, ...],
    replay: bool,
    seed: int | None,
    workers: int,
    force: bool,
    as_json: bool,
    report: Path | None,
    overwrite: bool,
) -> None:
    """Simulate SCENARIO over the days of the contact log LOG and compare, interval by interval.

    Prints, per interval of the day and for the whole period, the log's abandonment, P(wait),
    ASA and service level with a 95 % band from its day-to-day variation, beside the
    simulated mean and its 95 % CI; then in how many intervals the simulation lies inside the
    band and which intervals miss.
    """
    from sim.calibrate.backtest import BacktestError
    from sim.calibrate.backtest import backtest as run_backtest
    from sim.calibrate.days import day_scenario
    from sim.calibrate.log import LogError, parse_column_options, read_log

    overwrite_needs(overwrite, report, "--report", "file")
    if report is not None and report.exists() and not overwrite:
        fail(f"{report} exists; choose another --report file or pass --overwrite")
    window = _hours(hours)
    span = _dates(dates)
    sc = load_scenario_file(scenario)
    try:
        contact_log = read_log(log, parse_column_options(columns))
        if days is not None:
            contact_log = contact_log.on_days(days)
        if span is not None:
            contact_log = contact_log.between(*span)
    except LogError as exc:
        fail(str(exc))
    if len(contact_log) == 0:
        fail(f"{log}: no contacts on the chosen days (--days {days or 'all'}, --dates {dates or 'all'})")
    n = replications or sc.replications
    if not force:
        check_budget(scenario, [day_scenario(sc, int(interval_min))] * len(contact_log.dates()), n, "summary")
    try:
        bt = run_backtest(
            sc,
            contact_log.frame,
            replications=n,
            interval_min=int(interval_min),
            seed=seed,
            replay=replay,
            hours=window,
            workers=workers,
        )
    except BacktestError as exc:
        fail(f"{scenario} against {log}: {exc}")
    lines = summary_lines(bt)
    if report is not None:
        from sim.report.backtest import backtest_page, write_page

        facts = [
            ("scenario", f"{sc.name} ({scenario})"),
            ("log", str(log)),
            ("days", f"{len(bt.days)}: {', '.join(bt.days)}"),
            (
                "mode",
                "replay of the log's arrivals and inferred staffing" if replay else "the scenario as written",
            ),
            ("replications", f"{bt.replications} × {len(bt.days)} simulated days"),
        ]
        try:
            write_page(report, backtest_page(sc.name, facts, bt.table(), int(interval_min), lines))
        except OSError as exc:
            fail(f"cannot write the report {report}: {exc}")
        click.echo(f"report written to {report}", err=True)
    if as_json:
        click.echo(json.dumps(bt.to_dict(), allow_nan=False))
        return
    click.echo(_text_table(bt), nl=False)
    mode = "replaying the log's arrivals and staffing" if replay else "the scenario as written"
    click.echo(f"{len(bt.days)} days, {bt.replications} replications, {mode}")
    for line in lines:
        click.echo(line)
