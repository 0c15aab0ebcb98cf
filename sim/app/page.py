"""The planner's page: open a scenario, edit it, run it, move agents or hire, plan staffing.

One `Planner` is built per browser tab (Panel calls `create_app` for each session), so
two tabs never share a scenario, a result or a job. Every answer comes from the public
API (`sim.run`, `sim.compare`, `sim.optimize`) in a worker process (`sim.app.jobs`); the
page polls it, shows a progress bar and offers Cancel.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import panel as pn

import sim
from sim.app.controls import Task, error_html
from sim.app.draft import Check, Draft, KeyPath, over_budget, scenario_data, size
from sim.app.forms import Field, scenario_forms
from sim.app.jobs import Job
from sim.app.logfit import LogUpload
from sim.app.panels import OptimisePanel, RunPanel, WhatIfPanel
from sim.config.yaml_lines import MAX_FILE_BYTES

UPLOAD_TIMEOUT_S = 60.0
"""An upload that the loader has not accepted or refused by then is refused."""


def shipped_scenarios(root: Path | None = None) -> dict[str, str]:
    """Shipped scenario files (label → path), from ``scenarios/`` beside the package or here."""
    here = Path(sim.__file__).resolve().parent.parent / "scenarios"
    folder = root or (here if here.is_dir() else Path("scenarios"))
    files = sorted(folder.glob("**/*.yaml")) if folder.is_dir() else []
    return {str(f.relative_to(folder)): str(f) for f in files}


class Planner:
    """One browser tab's app: its draft scenario, its forms, its jobs and its answers."""

    def __init__(self, scenario: str | None = None) -> None:
        self.shipped = shipped_scenarios()
        self.draft = Draft({"name": "empty", "channels": {}, "agents": {}}, "(none)")
        self.checked = Check(None)
        self.fields: list[Field] = []
        self.unparsed: dict[KeyPath, str] = {}
        """Fields whose text is not a value (letters in a list of numbers), with the reason."""
        self.report: bytes | None = None
        self._callback: Any = None
        self.picker = pn.widgets.Select(
            label="Shipped scenario", options=list(self.shipped), width=300, css_classes=["pick"]
        )
        self.open_button = pn.widgets.Button(label="Open", css_classes=["open"])
        self.upload = pn.widgets.FileInput(accept=".yaml,.yml", multiple=False, css_classes=["upload"])
        self.upload_note = pn.pane.HTML("", css_classes=["upload-status"])
        self.problems = pn.pane.HTML("", css_classes=["problems"])
        self.title = pn.pane.Markdown("", css_classes=["scenario-title"])
        self.form_area = pn.Column()
        self.yaml_download = pn.widgets.FileDownload(
            callback=self._yaml_bytes, filename="scenario.yaml", label="Download scenario YAML",
            color="success", css_classes=["download-yaml"],
        )  # fmt: skip
        self.report_download = pn.widgets.FileDownload(
            callback=self._report_bytes, filename="report.html", label="Download HTML report",
            disabled=True, css_classes=["download-report"],
        )  # fmt: skip
        self.open_button.on_click(lambda _: self.open_shipped(self.picker.value))
        self.upload.param.watch(self._uploaded, "value")
        self.load_task = Task("Upload", self._start_upload, self._finish_upload, self.watch)
        self.load_task.button.visible = False
        self._pending_upload: tuple[str, bytes] | None = None
        self.log_upload = LogUpload(self)
        self.run_panel = RunPanel(self)
        self.whatif_panel = WhatIfPanel(self)
        self.opt_panel = OptimisePanel(self)
        for task in self.panel_tasks():  # a run ends with its button usable only on a valid scenario
            task.ready = self.runnable
        if scenario is not None:
            shipped = {str(Path(v).resolve()): k for k, v in self.shipped.items()}
            label = shipped.get(str(Path(scenario).resolve()))
            if label is not None:
                self.picker.value = label
            self.open_file(scenario, label)
        elif self.shipped:
            base = "baseline.yaml" if "baseline.yaml" in self.shipped else next(iter(self.shipped))
            self.picker.value = base
            self.open_shipped(base)

    # --- the scenario ----------------------------------------------------------------

    def open_shipped(self, label: str | None) -> None:
        """Open a shipped scenario by its label."""
        if label:
            self.open_file(self.shipped[label], label)

    def open_file(self, path: str, label: str | None = None) -> None:
        """Open a scenario file from this machine (shipped, or named on the command line)."""
        try:
            scenario = sim.load_scenario(path)
        except sim.ScenarioError as exc:
            self.problems.object = error_html(str(exc))
            return
        self.set_draft(Draft(scenario_data(scenario), label or Path(path).name))

    def set_draft(self, draft: Draft) -> None:
        """Show a new draft: its forms, its check, the what-if groups."""
        self.draft = draft
        self.unparsed = {}
        self.title.object = f"### {draft.data.get('name', '')}  \n{draft.source}"
        forms, self.fields = scenario_forms(draft, self.edit)
        self.form_area.objects = [forms]
        for panel in (self.run_panel, self.whatif_panel, self.opt_panel):
            panel.reset(draft)
        self.report = None
        self.report_download.disabled = True
        self.log_upload.summary.object = ""  # the fit's summary describes a fitted draft only
        self.recheck()

    def edit(self, path: KeyPath, value: Any) -> None:
        """A form changed one key path: update the draft, check it again."""
        if isinstance(value, Exception):  # text that is not a value: nothing runs until it is fixed
            self.unparsed[path] = str(value)
        else:
            self.unparsed.pop(path, None)
            self.draft.set(path, value)
        self.recheck()

    def recheck(self) -> None:
        """Validate the draft; put each message under its field, the whole one at the top."""
        self.checked = self.draft.check()
        for f in self.fields:
            f.show(self.checked.at(f.path) + ([self.unparsed[f.path]] if f.path in self.unparsed else []))
        self.problems.object = error_html(self.checked.message) if not self.checked.ok else ""
        for task in self.panel_tasks():
            task.button.disabled = not self.runnable() or task.job is not None

    def runnable(self) -> bool:
        """The draft is valid and every field holds a value: runs may start."""
        return self.checked.ok and not self.unparsed

    def _yaml_bytes(self) -> io.BytesIO:
        name = str(self.draft.data.get("name") or "scenario")
        self.yaml_download.filename = f"{name}.yaml"
        return io.BytesIO(self.draft.to_yaml().encode("utf-8"))

    def _report_bytes(self) -> io.BytesIO:
        return io.BytesIO(self.report or b"")

    def _uploaded(self, event: Any) -> None:
        raw = event.new
        if raw is None:
            return
        name = self.upload.filename or "upload.yaml"
        if len(raw) > MAX_FILE_BYTES:
            self.upload_note.object = error_html(
                f"invalid scenario {name}:\n  (file): is larger than {MAX_FILE_BYTES:,} bytes, the most a scenario may be"
            )
            return
        self._pending_upload = (name, raw)
        self.load_task.begin()

    def _start_upload(self) -> Job | None:
        if self._pending_upload is None:
            return None
        name, raw = self._pending_upload
        self._pending_upload = None
        self.upload_note.object = f"checking {name}…"
        self._upload_name = name
        return Job("load", {"name": name, "raw": raw}, timeout_s=UPLOAD_TIMEOUT_S)

    def _finish_upload(self, result: dict[str, Any]) -> None:
        self.upload_note.object = f"opened {self._upload_name}"
        self.set_draft(Draft(result["data"], self._upload_name))

    # --- polling the jobs ------------------------------------------------------------

    def tasks(self) -> list[Task]:
        """Every kind of job this page runs."""
        return [self.load_task, self.log_upload.task, *self.panel_tasks()]

    def panel_tasks(self) -> list[Task]:
        """The jobs that work on the draft (run, move vs hire, optimise): only a valid draft starts them."""
        return [self.run_panel.task, self.whatif_panel.task, self.opt_panel.task]

    def watch(self) -> None:
        """Poll the jobs every 200 ms while any runs."""
        if self._callback is None:
            self._callback = pn.state.add_periodic_callback(self._poll, period=200)

    def _poll(self) -> None:
        for task in self.tasks():
            task.poll()
        if self.load_task.job is None and self.load_task.status.object:
            self.upload_note.object = self.load_task.status.object
            self.load_task.status.object = ""
        if all(t.job is None for t in self.tasks()) and self._callback is not None:
            self._callback.stop()
            self._callback = None
            self.recheck()

    def close(self) -> None:
        """The tab went away: stop its jobs."""
        for task in self.tasks():
            if task.job is not None:
                task.job.cancel()

    # --- panels ------------------------------------------------------------------------

    def budget(self, scenarios: list[sim.Scenario], replications: int, records: str) -> str | None:
        """The CLI's budget message for this work, or None when it fits."""
        return over_budget(scenarios, replications, records)

    def expected_contacts(self, scenario: sim.Scenario) -> float:
        """Expected contacts of one replication."""
        return size(scenario)

    def experiment(self, data: dict[str, Any]) -> sim.Experiment:
        """Validate an experiment (the draft with variants) as `staffsim compare` does."""
        return sim.load_experiment(data)

    def layout(self) -> Any:
        """The whole page."""
        side = pn.Column(
            "## staffsim",
            "Open a shipped scenario",
            self.picker,
            self.open_button,
            "or upload a scenario file (YAML)",
            self.upload,
            self.upload_note,
            self.load_task.view,
            self.log_upload.view,
            self.yaml_download,
            self.report_download,
            width=360,
        )
        main = pn.Column(
            self.title,
            self.problems,
            pn.Tabs(
                ("Scenario", self.form_area),
                ("Run", self.run_panel.view),
                ("Move vs hire", self.whatif_panel.view),
                ("Optimise", self.opt_panel.view),
                dynamic=False,
                css_classes=["main-tabs"],
            ),
        )
        return pn.Row(side, main)


def create_app(scenario: str | None = None) -> Any:
    """A new page for one browser tab (one session): its own draft, forms and jobs."""
    planner = Planner(scenario)
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.curdoc.on_session_destroyed(lambda context: planner.close())
    return planner.layout()
