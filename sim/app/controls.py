"""The controls of a job on the page: its button, Cancel, a progress bar and a status line."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import panel as pn

from sim.app.jobs import Event, Job


def error_html(message: str) -> str:
    """A message as the CLI prints it, in red, its lines kept."""
    return f'<pre class="error" style="color:#b00020;white-space:pre-wrap">{html.escape(message)}</pre>'


class Task:
    """The controls of one kind of job on the page: a button, Cancel, a progress bar, a status."""

    def __init__(
        self,
        label: str,
        start: Callable[[], Job | None],
        finish: Callable[[dict[str, Any]], None],
        watch: Callable[[], None],
    ):
        self.button = pn.widgets.Button(
            label=label, color="primary", css_classes=[f"do-{label.split()[0].lower()}"]
        )
        self.cancel_button = pn.widgets.Button(
            label="Cancel", disabled=True, css_classes=[f"cancel-{label.split()[0].lower()}"]
        )
        self.progress = pn.indicators.Progress(value=0, max=100, active=False, width=300, visible=False)
        self.status = pn.pane.HTML("", css_classes=["status"])
        self.job: Job | None = None
        self.ready: Callable[[], bool] = lambda: True
        """Whether the button may be pressed once the job ends (e.g. only while the scenario is valid)."""
        self._start, self._finish, self._watch = start, finish, watch
        self.button.on_click(lambda _: self.begin())
        self.cancel_button.on_click(lambda _: self.stop("cancelled"))
        self.view = pn.Column(pn.Row(self.button, self.cancel_button, self.progress), self.status)

    def begin(self) -> None:
        """Start the job (the `start` callback returns None when it refused to)."""
        if self.job is not None:
            return
        self.status.object = ""
        job = self._start()
        if job is None:
            return
        self.job = job
        self.button.disabled, self.cancel_button.disabled = True, False
        self.progress.visible, self.progress.value, self.progress.active = True, -1, True
        self.status.object = "working…"
        self._watch()

    def stop(self, why: str) -> None:
        """Cancel the running job."""
        if self.job is not None:
            self.job.cancel()
            self._done(f"<b>{why}</b>")

    def _done(self, message: str) -> None:
        self.job = None
        self.button.disabled, self.cancel_button.disabled = not self.ready(), True
        self.progress.active, self.progress.visible = False, False
        self.status.object = message

    def poll(self) -> None:
        """Take the job's news: progress, then its result or its error."""
        if self.job is None:
            return
        for event in self.job.poll():
            self._on(event)

    def _on(self, event: Event) -> None:
        if event.kind == "progress":
            if event.total:
                self.progress.active = False
                self.progress.value = int(100 * event.done / event.total)
                if event.done >= event.total:
                    self.status.object = "simulated; drawing the figures…"
            return
        if event.kind == "error":
            self._done(error_html(event.message))
            return
        self._done("")
        assert event.result is not None
        self._finish(event.result)
