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
    from sim.calibrate.fitfile import FitOptions, NoContactsError, fit_file, headline, summary_lines
    from sim.calibrate.log import LogError
    from sim.calibrate.render import write_scenario
    from sim.config import ScenarioError

    if out.exists() and not overwrite:
        fail(f"{out} exists; choose another --out or pass --overwrite")
    options = FitOptions(
        interval_min=int(interval_min),
        days=days,
        columns=columns,
        roster=roster,
        class_by=class_by,
        staffing_by=staffing_by,
        wrap_up_by=wrap_up_by,
        tz=tz,
    )
    try:
        log, result = fit_file(log_file, options)
        write_scenario(result, out, name)
    except NoContactsError as exc:
        fail(str(exc))
    except LogError as exc:
        fail(str(exc))
    except ScenarioError as exc:  # a fit that does not load is a bug: say so plainly
        fail(f"the fitted scenario does not load (please report this): {exc}")
    except (ValueError, KeyError) as exc:  # e.g. an unknown --tz zone
        fail(f"cannot fit {log_file}: {exc}")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"{headline(len(log), result)}; wrote {out}")
    for line in summary_lines(result):
        click.echo(line)
