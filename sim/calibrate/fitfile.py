"""A contact log file fitted as `staffsim fit` fits it, and the summary the command prints.

The command line (``staffsim fit``) and the planner's app (its contact-log upload) take the
same steps: read the file with the user's own column names, keep the selected days of the
week, fit the centre, and say in a few lines what was fitted — how many contacts on how many
days, then for each class its arrivals per day, handle time, after-call work and patience,
the routing between classes, the peak of agents on duty, and any notes on assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.calibrate.fit import Fit, fit_log
from sim.calibrate.log import ContactLog, LogLimits, parse_column_options, parse_days, read_log

INTERVALS_MIN: tuple[int, ...] = (15, 30, 60)
"""Interval lengths a fit accepts (minutes)."""


@dataclass(frozen=True)
class FitOptions:
    """The fit's options, as ``staffsim fit`` names them (its defaults too).

    Attributes:
        interval_min: ``--interval-min``: 15, 30 or 60.
        days: ``--days``: all, weekdays, weekends, or day names such as ``Sun,Mon,Tue,Wed,Thu``.
        columns: ``--column`` values, ``NAME=THEIRS`` each (e.g. ``class=CallType``).
        roster: ``--roster``: agents on duty per interval from a CSV file instead of the log.
        class_by: ``--classes``: class, priority, class+priority or none.
        staffing_by: ``--staffing``: auto, logged-in or busy.
        wrap_up_by: ``--wrap-up-by``: channel or class.
        tz: ``--tz``: the zone that time stamps with a zone are converted to.
    """

    interval_min: int = 30
    days: str = "all"
    columns: tuple[str, ...] = ()
    roster: Path | None = None
    class_by: str = "class"
    staffing_by: str = "auto"
    wrap_up_by: str = "channel"
    tz: str = "UTC"


class NoContactsError(ValueError):
    """The log has no contact on the selected days of the week."""


def fit_file(
    path: str | Path, options: FitOptions, limits: LogLimits | None = None
) -> tuple[ContactLog, Fit]:
    """Read a contact log file, keep the selected days and fit it, as ``staffsim fit`` does.

    Args:
        path: the CSV file (named so in every message).
        options: the fit's options.
        limits: file size, row and column bounds (the CLI's `LogLimits` defaults when None).

    Returns:
        The log on the selected days, and the fit.

    Raises:
        LogError: a bad ``days`` or ``columns`` value, or a file that is not a valid log (the
            one-screen message naming the file, rows and columns).
        NoContactsError: no contact on the selected days.
        ValueError: another bad option (an interval that is not 15, 30 or 60, ...).
    """
    selected = parse_days(options.days)
    columns = parse_column_options(options.columns)
    log = read_log(path, columns, tz=options.tz, limits=limits).on_days(selected)
    if len(log) == 0:
        raise NoContactsError(f"{path}: no contacts on the days {options.days!r}; choose other --days")
    result = fit_log(
        log,
        options.interval_min,
        roster=options.roster,
        class_by=options.class_by,
        staffing_by=options.staffing_by,
        wrap_up_by=options.wrap_up_by,
    )
    return log, result


def headline(contacts: int, fit: Fit) -> str:
    """``fitted 14,981 contacts on 10 days in 0.8 s``: the summary's first line."""
    return f"fitted {contacts:,} contacts on {len(fit.dates)} days in {fit.seconds:.1f} s"


def summary_lines(fit: Fit) -> list[str]:
    """What was fitted, one indented line each: every class, the routing, agents on duty, notes."""
    lines = []
    for c in fit.classes:
        patience = (
            f"patience {'exp' if c.patience.exponential_fits else 'KM'} (MLE mean {c.patience.exp_mean_s:.0f} s)"
            if c.patience is not None
            else "no abandons"
        )
        handle = f"handle {c.handle.mean_s:.0f} s" if c.handle is not None else "handle ASSUMED"
        wrap = f", after-call work {c.wrap_up.mean_s:.0f} s" if c.wrap_up is not None else ""
        lines.append(f"  {c.key}: {c.arrivals.per_day:,.1f}/day, {handle}{wrap}, {patience}")
    order = fit.routing_order
    lines.append(f"  routing: {'priority ' + ' > '.join(order) if order else 'fifo'}")
    lines.append(f"  agents on duty: peak {max(fit.staffing.counts)} ({fit.staffing.method.split(' (')[0]})")
    lines += [f"  note: {note}" for note in fit.notes]
    return lines
