"""Open a contact log on the page: fit it as `staffsim fit` does and edit the fitted centre.

The planner uploads a contact log (the CSV format of README "Contact logs"), sets the
fit's main options — interval length, days of the week, their own column names, what makes
a class, how agents on duty are counted, the time zone — and the log is fitted in a worker
process (`sim.app.jobs.task_fit`, through `sim.calibrate.fitfile.fit_file`, the CLI's own
steps). The fitted scenario becomes the page's draft, and the lines `staffsim fit` prints
about the fit are shown under the upload. A bad log gets the CLI's one-screen message
there; a file over the size limit is refused before a worker starts; a worker that has not
answered within the upload time limit is stopped.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import panel as pn

from sim.app.controls import Task, error_html
from sim.app.draft import Draft
from sim.app.jobs import Job
from sim.calibrate.checks import LogError, LogLimits, check_size
from sim.calibrate.fit import CLASS_BY, STAFFING_BY
from sim.calibrate.fitfile import INTERVALS_MIN, FitOptions
from sim.config.yaml_lines import MAX_FILE_BYTES

if TYPE_CHECKING:
    from sim.app.page import Planner

LOG_MAX_BYTES = MAX_FILE_BYTES
"""The largest log the page takes: an upload travels in one websocket message, sized for
this (`sim.app.server`). `staffsim fit` reads larger files (`LogLimits.max_bytes`)."""
FIT_TIMEOUT_S = 180.0
"""A fit that has not answered by then is stopped, as an upload is. A log at the size limit
(48 MB, 977,400 contacts) took 60 s to fit on a loaded 2-core machine."""


def fit_options(interval: str, days: str, columns: str, classes: str, staffing: str, tz: str) -> FitOptions:
    """The fit's options from the page's fields (``columns``: NAME=THEIRS per line or comma)."""
    mapping = tuple(c.strip() for c in columns.replace(",", "\n").splitlines() if c.strip())
    return FitOptions(
        interval_min=int(interval),
        days=days.strip() or "all",
        columns=mapping,
        class_by=classes,
        staffing_by=staffing,
        tz=tz.strip() or "UTC",
    )


def refuse_size(name: str, size: int) -> str | None:
    """The CLI's message for a log over the page's size limit, or None when it fits."""
    try:
        check_size(size, name, LogLimits(max_bytes=LOG_MAX_BYTES))
    except LogError as exc:
        return str(exc)
    return None


def summary_html(lines: list[str]) -> str:
    """The fit's summary as `staffsim fit` prints it, kept as text."""
    return f'<pre class="fit-lines" style="white-space:pre-wrap">{html.escape(chr(10).join(lines))}</pre>'


class LogUpload:
    """The side bar's contact-log upload: a file, the fit's options, Fit, Cancel and the summary."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.file = pn.widgets.FileInput(accept=".csv,.txt", multiple=False, css_classes=["log-upload"])
        self.interval = pn.widgets.Select(
            label="Interval (min)", options=[str(i) for i in INTERVALS_MIN], value="30",
            width=110, css_classes=["log-interval"],
        )  # fmt: skip
        self.days = pn.widgets.TextInput(
            label="Days", value="all", placeholder="all, weekdays, weekends, Sun,Mon,Tue,Wed,Thu",
            width=200, css_classes=["log-days"],
        )  # fmt: skip
        self.columns = pn.widgets.TextAreaInput(
            label="Your column names (NAME=THEIRS, one per line)", value="", rows=2,
            placeholder="class=CallType", width=340, css_classes=["log-columns"],
        )  # fmt: skip
        self.classes = pn.widgets.Select(
            label="Classes by", options=list(CLASS_BY), value="class", width=160, css_classes=["log-classes"]
        )
        self.staffing = pn.widgets.Select(
            label="Agents on duty", options=list(STAFFING_BY), value="auto", width=160,
            css_classes=["log-staffing"],
        )  # fmt: skip
        self.tz = pn.widgets.TextInput(label="Time zone", value="UTC", width=160, css_classes=["log-tz"])
        self.summary = pn.pane.HTML("", css_classes=["fit-summary"])
        self.task = Task("Fit log", self.start, self.finish, planner.watch)
        self._file: tuple[str, bytes] | None = None
        self._fitting = ""
        self.file.param.watch(self._chosen, "value")
        self.view = pn.Column(
            "or upload a contact log (CSV) to fit, as `staffsim fit` does",
            self.file,
            pn.Row(self.interval, self.days),
            self.columns,
            pn.Row(self.classes, self.staffing),
            self.tz,
            pn.Column(self.task.view, css_classes=["log-fit"]),
            self.summary,
        )

    def _chosen(self, event: Any) -> None:
        """A file was chosen: refuse it when too large, else fit it with the options as they are."""
        raw = event.new
        if raw is None:
            return
        name = Path(self.file.filename or "log.csv").name
        refused = refuse_size(name, len(raw))
        if refused:
            self._file = None
            self.summary.object = ""
            self.task.status.object = error_html(refused)
            return
        self._file = (name, raw)
        self.task.begin()

    def start(self) -> Job | None:
        """Fit the chosen log in a worker with the options shown."""
        if self._file is None:
            self.task.status.object = error_html("choose a contact log (CSV) first")
            return None
        name, raw = self._file
        options = fit_options(
            str(self.interval.value), str(self.days.value), str(self.columns.value),
            str(self.classes.value), str(self.staffing.value), str(self.tz.value),
        )  # fmt: skip
        self.summary.object = ""
        self._fitting = name
        payload = {
            "name": name,
            "raw": raw,
            "options": dataclasses.asdict(options),
            "max_bytes": LOG_MAX_BYTES,
        }
        return Job("fit", payload, timeout_s=FIT_TIMEOUT_S)

    def finish(self, result: dict[str, Any]) -> None:
        """Show what was fitted and open the fitted scenario as the draft."""
        self.planner.set_draft(Draft(result["data"], f"fitted from {self._fitting}"))
        self.summary.object = summary_html(result["summary"])
