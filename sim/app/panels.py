"""The app's three questions, one panel each: run it, move or hire, how many agents.

- **Run**: replications of the edited scenario — KPI cards with 95 % CIs (service level,
  ASA, abandonment per channel; occupancy and cost over all agents) and the run report's
  figures; the HTML report to download.
- **Move vs hire**: k agents moved from group A to group B against k hired into B, both
  paired with today's staffing on common random numbers (`sim.compare` with two
  variants): the paired differences and their CIs for every channel and for the cost.
- **Optimise**: targets in, the fewest agents out (`sim.optimize`): per group (head count),
  per group and interval of the day (per interval) or on each shift (per shift), as a table
  and a chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import panel as pn

from sim.app import charts
from sim.app.controls import Task, error_html
from sim.app.draft import Draft
from sim.app.jobs import Job
from sim.planning.intervals.optimize import EXPECTED_STAFFINGS

if TYPE_CHECKING:
    from sim.app.page import Planner

FULL_RECORDS_MAX = 2e6
"""Keep per-contact records (for the wait-distribution figure) up to this many contacts."""


def _int_input(name: str, value: int, css: str, start: int = 0) -> pn.widgets.IntInput:
    return pn.widgets.IntInput(label=name, value=value, start=start, width=140, css_classes=[css])


class RunPanel:
    """Run the edited scenario: KPI cards, figures, the report."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.replications = _int_input("Replications", 5, "run-reps", start=1)
        self.seed = _int_input("Seed", 0, "run-seed")
        self.cards = pn.pane.HTML("", css_classes=["kpi-cards"], sizing_mode="stretch_width")
        self.figures = pn.Column()
        self.task = Task("Run", self.start, self.finish, planner.watch)
        self.view = pn.Column(
            "Run the scenario as shown: replications with 95 % confidence intervals, as `staffsim run` does.",
            pn.Row(self.replications, self.seed),
            self.task.view,
            self.cards,
            self.figures,
        )

    def reset(self, draft: Draft) -> None:
        """Defaults of a newly opened scenario."""
        self.replications.value = int(draft.data.get("replications") or 5)
        self.seed.value = int(draft.data.get("seed") or 0)
        self.cards.object = ""
        self.figures.objects = []

    def start(self) -> Job | None:
        """Start the run in a worker, unless the CLI's budget refuses it."""
        p = self.planner
        scenario = p.checked.scenario
        if scenario is None:
            self.task.status.object = error_html("fix the scenario first")
            return None
        n = int(self.replications.value or 0)
        contacts = p.expected_contacts(scenario) * n
        records = "full" if contacts <= FULL_RECORDS_MAX else "summary"
        refused = p.budget([scenario], n, records)
        if refused:
            self.task.status.object = error_html(f"{p.draft.source}: {refused}")
            return None
        payload = {
            "data": p.draft.data,
            "replications": n,
            "seed": int(self.seed.value or 0),
            "records": records,
            "source": Path(p.draft.source).name,
        }
        return Job("run", payload)

    def finish(self, result: dict[str, Any]) -> None:
        """Show the cards and figures; keep the report for download."""
        self.cards.object = charts.kpi_cards(result["result"], priced=result.get("priced", True))
        self.figures.objects = [
            pn.Column(f"#### {title}", pn.pane.PNG(png, width=760))
            for title, png in result["figures"].items()
        ]
        self.planner.report = result["report"]
        self.planner.report_download.disabled = False


class WhatIfPanel:
    """Move k agents from A to B, or hire k into B: paired differences with CIs."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.origin = pn.widgets.Select(
            label="Move from group A", options=[], width=200, css_classes=["wi-from"]
        )
        self.dest = pn.widgets.Select(
            label="to group B (or hire into B)", options=[], width=200, css_classes=["wi-to"]
        )
        self.k = _int_input("k agents", 2, "wi-k", start=1)
        self.replications = _int_input("Replications", 5, "wi-reps", start=2)
        self.seed = _int_input("Seed", 0, "wi-seed")
        self.table = pn.pane.HTML("", css_classes=["wi-table"], sizing_mode="stretch_width")
        self.task = Task("Compare move vs hire", self.start, self.finish, planner.watch)
        self.view = pn.Column(
            "Move k agents from group A to group B, or hire k more into B? Both are run on the same "
            "customers as today's staffing (common random numbers); the table gives each one's paired "
            "difference from today with its 95 % CI (starred when the CI excludes 0).",
            pn.Row(self.origin, self.dest, self.k),
            pn.Row(self.replications, self.seed),
            self.task.view,
            self.table,
        )

    def reset(self, draft: Draft) -> None:
        """Groups of a newly opened scenario."""
        groups = draft.counted_groups()
        self.origin.options, self.dest.options = groups, groups
        if groups:
            self.origin.value, self.dest.value = groups[0], groups[-1]
        self.replications.value = max(2, int(draft.data.get("replications") or 5))
        self.seed.value = int(draft.data.get("seed") or 0)
        self.table.object = ""

    def start(self) -> Job | None:
        """Build the two variants and start the comparison in a worker."""
        p = self.planner
        try:
            experiment = p.draft.move_vs_hire(self.origin.value, self.dest.value, int(self.k.value or 0))
            exp = p.experiment(experiment)
        except ValueError as exc:
            self.task.status.object = error_html(str(exc))
            return None
        except Exception as exc:  # a ScenarioError: the variant is invalid
            self.task.status.object = error_html(str(exc))
            return None
        n = int(self.replications.value or 0)
        refused = p.budget([exp.baseline, *exp.variants.values()], n, "none")
        if refused:
            self.task.status.object = error_html(f"{p.draft.source}: {refused}")
            return None
        return Job(
            "compare", {"experiment": experiment, "replications": n, "seed": int(self.seed.value or 0)}
        )

    def finish(self, result: dict[str, Any]) -> None:
        """Show the paired differences."""
        self.table.object = charts.diff_table(result["table"], priced=result.get("priced", True))


OPT_MODES = {"head count": "headcount", "per interval": "intervals", "per shift": "shifts"}
"""The optimiser's modes as the page names them → `sim.optimize`'s ``mode``."""


class OptimisePanel:
    """Targets in, the fewest agents out: per group, per group and interval, or per shift."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.targets = pn.widgets.TextAreaInput(
            label="Targets, one per line (CHANNEL.METRIC>=BOUND)",
            value="",
            rows=3,
            width=420,
            css_classes=["opt-targets"],
        )
        self.mode = pn.widgets.RadioButtonGroup(
            label="Plan", options=OPT_MODES, value="headcount", css_classes=["opt-mode"]
        )
        self.groups = pn.widgets.MultiChoice(
            label="Groups the plan may change (per shift: every group on shifts)",
            options=[],
            width=420,
            css_classes=["opt-groups"],
        )
        self.replications = _int_input("Replications", 3, "opt-reps", start=1)
        self.seed = _int_input("Seed", 0, "opt-seed")
        self.table = pn.pane.HTML("", css_classes=["opt-table"], sizing_mode="stretch_width")
        self.chart = pn.Column()
        self.task = Task("Optimise", self.start, self.finish, planner.watch)
        self.view = pn.Column(
            "The fewest agents per group that meet every target, searched by simulation from the "
            "Erlang C/A start, as `staffsim optimize` does: one count per group (head count), a count "
            "per group in every interval of the day (per interval, `--per-interval`), or the count on "
            "each shift of the groups on shifts (per shift, `--shifts`).",
            self.mode,
            self.targets,
            self.groups,
            pn.Row(self.replications, self.seed),
            self.task.view,
            self.table,
            self.chart,
        )

    def reset(self, draft: Draft) -> None:
        """Defaults of a newly opened scenario."""
        groups = draft.counted_groups()
        self.groups.options = groups
        self.groups.value = groups[:1]
        channel = next(iter(draft.channels()), "phone")
        self.targets.value = f"{channel}.service_level>=0.8"
        self.seed.value = int(draft.data.get("seed") or 0)
        self.table.object = ""
        self.chart.objects = []

    def start(self) -> Job | None:
        """Start the search in a worker, unless the CLI's budget refuses it."""
        p = self.planner
        scenario = p.checked.scenario
        targets = [t.strip() for t in str(self.targets.value).splitlines() if t.strip()]
        if scenario is None or not targets:
            self.task.status.object = error_html("give at least one target, e.g. phone.service_level>=0.8")
            return None
        n = int(self.replications.value or 0)
        mode = str(self.mode.value)
        groups = [] if mode == "shifts" else list(self.groups.value)
        if mode == "headcount":  # as `staffsim optimize` counts each kind of search
            staffings, records = 2 + 3 * max(1, len(groups)), "none"
        else:
            staffings, records = EXPECTED_STAFFINGS, "summary"
        refused = p.budget([scenario] * staffings, n, records)
        if refused:
            self.task.status.object = error_html(f"{p.draft.source}: {refused}")
            return None
        payload = {
            "data": p.draft.data,
            "targets": targets,
            "mode": mode,
            "groups": groups,
            "replications": n,
            "seed": int(self.seed.value or 0),
        }
        return Job("optimize", payload)

    def finish(self, result: dict[str, Any]) -> None:
        """Show the plan as a table and a chart."""
        plan = result["plan"]
        mode = result.get("mode", "headcount")
        if mode == "intervals":
            self.table.object = charts.interval_table(plan)
        elif mode == "shifts":
            self.table.object = charts.shift_table(plan)
        else:
            current = {g: self.planner.draft.data["agents"][g].get("count") for g in plan["agents"]}
            self.table.object = charts.plan_table(plan, current)
        self.chart.objects = [pn.pane.PNG(result["chart"], width=760 if mode == "intervals" else 640)]
