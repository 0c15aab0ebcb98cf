"""`staffsim fit LOG.csv --out SCENARIO.yaml`: a calibrated scenario from a contact log.

Registered in `sim.cli.COMMANDS` as ``"fit": "sim.cli.fit:fit"``. A bad log,
roster or option ends with the one-screen message of `sim.calibrate.log.LogError` (file,
row, column) and exit status 2; nothing is written then.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli._common import fail


@click.command()
@click.argument("log_file", metavar="LOG.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The scenario file to write.",
)
@click.option(
    "--interval-min",
    type=click.Choice(["15", "30", "60"]),
    default="30",
    show_default=True,
    help="Length of the intervals of the arrival profile and staffing table.",
)
@click.option(
    "--days",
    default="all",
    show_default=True,
    help="Days of the week to fit: all, weekdays (Mon-Fri), weekends, or names such as Sun,Mon,Tue,Wed,Thu.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="NAME=THEIRS",
    help="Your column for one of the log's columns, e.g. --column class=CallType (repeatable).",
)
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Agents on duty per interval (CSV: start,agents[,date]) instead of inferring them from the log.",
)
@click.option(
    "--classes",
    "class_by",
    type=click.Choice(["class", "priority", "class+priority", "none"]),
    default="class",
    show_default=True,
    help="What makes a class within a channel: the log's class column, its priority, both, or nothing.",
)
@click.option(
    "--staffing",
    "staffing_by",
    type=click.Choice(["auto", "logged-in", "busy"]),
    default="auto",
    show_default=True,
    help="Agents on duty: logged in, with after-call work from the agents' gaps (needs an agent column); "
    "busy while callers wait, without after-call work; auto: logged-in when the log names its agents.",
)
@click.option(
    "--wrap-up-by",
    type=click.Choice(["class", "channel"]),
    default="channel",
    show_default=True,
    help="After-call work: one per channel (all gaps of its classes), or per class (the gaps after its contacts).",
)
@click.option(
    "--tz", default="UTC", show_default=True, help="Zone that time stamps with a zone are converted to."
)
@click.option("--name", help="The scenario's name (default: fitted-LOG).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out file.")
def fit(
    log_file: Path,
    out: Path,
    interval_min: str,
    days: str,
    columns: tuple[str, ...],
    roster: Path | None,
    class_by: str,
    staffing_by: str,
    wrap_up_by: str,
    tz: str,
    name: str | None,
    overwrite: bool,
) -> None:
    """Fit a runnable scenario to a contact log (see README, "Fitting a scenario from a log").

    Writes SCENARIO.yaml with arrivals per class and interval (and their over-dispersion),
    handle times (by time of day where they differ), patience with censoring, priorities
    between classes whose waits differ, and agents on duty per interval inferred from the
    log's service times (or --roster), each with a comment on how it was estimated.
    """
    from sim.calibrate.fit import fit_log
    from sim.calibrate.log import LogError, parse_column_options, parse_days, read_log
    from sim.calibrate.render import write_scenario
    from sim.config import ScenarioError

    if out.exists() and not overwrite:
        fail(f"{out} exists; choose another --out or pass --overwrite")
    try:
        selected = parse_days(days)
        log = read_log(log_file, parse_column_options(columns), tz=tz).on_days(selected)
        if len(log) == 0:
            fail(f"{log_file}: no contacts on the days {days!r}; choose other --days")
        result = fit_log(
            log,
            int(interval_min),
            roster=roster,
            class_by=class_by,
            staffing_by=staffing_by,
            wrap_up_by=wrap_up_by,
        )
        write_scenario(result, out, name)
    except LogError as exc:
        fail(str(exc))
    except ScenarioError as exc:  # a fit that does not load is a bug: say so plainly
        fail(f"the fitted scenario does not load (please report this): {exc}")
    except (ValueError, KeyError) as exc:  # e.g. an unknown --tz zone
        fail(f"cannot fit {log_file}: {exc}")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(
        f"fitted {len(log):,} contacts on {len(result.dates)} days in {result.seconds:.1f} s; wrote {out}"
    )
    for c in result.classes:
        patience = (
            f"patience {'exp' if c.patience.exponential_fits else 'KM'} (MLE mean {c.patience.exp_mean_s:.0f} s)"
            if c.patience is not None
            else "no abandons"
        )
        handle = f"handle {c.handle.mean_s:.0f} s" if c.handle is not None else "handle ASSUMED"
        wrap = f", after-call work {c.wrap_up.mean_s:.0f} s" if c.wrap_up is not None else ""
        click.echo(f"  {c.key}: {c.arrivals.per_day:,.1f}/day, {handle}{wrap}, {patience}")
    order = result.routing_order
    click.echo(f"  routing: {'priority ' + ' > '.join(order) if order else 'fifo'}")
    click.echo(
        f"  agents on duty: peak {max(result.staffing.counts)} ({result.staffing.method.split(' (')[0]})"
    )
    for note in result.notes:
        click.echo(f"  note: {note}")
