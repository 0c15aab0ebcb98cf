"""Figures for every shipped scenario, and `staffsim report` on run, compare and sweep folders."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import sim
from sim.cli.report import report
from sim.config.schema import Scenario
from sim.config.variants import Experiment, load_experiment
from sim.model.build import expected_contacts
from sim.planning.intervals.optimize import IntervalPlan, optimize_intervals
from sim.planning.settings import OptimizeSettings
from sim.report import plots
from sim.report.html import ReportError, write_report
from tests.builders import ROOT

SCENARIOS = ROOT / "scenarios"
FILES = sorted(SCENARIOS.rglob("*.yaml"))
HOURS = 12.0
"""Long enough to reach the morning of the daily profiles and traces."""
BRIEF_HOURS = 3.0
"""Sweeps and comparisons (many runs each) need only data, not the day's shape."""
MAX_CONTACTS = 4_000.0
"""Per replication: a busy scenario (the 2,700 calls/h check) gets a shorter horizon."""


def _short(scenario: Scenario, hours: float = HOURS) -> Scenario:
    hours = min(scenario.horizon_hours, hours)
    full = expected_contacts(scenario.model_copy(update={"horizon_hours": hours, "warmup_hours": 0.0}))
    if full > MAX_CONTACTS:
        hours = max(1.0, hours * MAX_CONTACTS / full)
    return scenario.model_copy(
        update={"horizon_hours": hours, "warmup_hours": min(scenario.warmup_hours, hours / 4)}
    )


def _rendered(fig: Figure) -> Figure:
    """Draw the figure (some errors hide until drawing) and hand it back."""
    assert isinstance(fig, Figure)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=25)
    assert buffer.getvalue().startswith(b"\x89PNG")
    return fig


def _built(fig: Figure) -> Figure:
    """A figure with something drawn on it (drawing to pixels is left to the report tests)."""
    assert isinstance(fig, Figure)
    assert fig.axes and any(ax.has_data() or ax.texts for ax in fig.axes)
    return fig


def _id(path: Path) -> str:
    return str(path.relative_to(SCENARIOS))


@pytest.mark.parametrize("path", FILES, ids=_id)
@pytest.mark.slow
def test_every_figure_for_every_shipped_scenario(path: Path) -> None:
    """Run figures, sweep heatmaps and scaling curves for each scenario; compare bars with variants."""
    exp = load_experiment(path)
    scenario = _short(exp.baseline)
    for fig in _run_figures(scenario):
        _built(fig)

    brief = _short(exp.baseline, BRIEF_HOURS)
    grid = {"warmup_hours": [0.0, brief.horizon_hours / 4], "routing.policy": ["fifo", "priority"]}
    table = sim.sweep(brief.model_copy(update={"warmup_hours": 0.0}), grid, replications=1).table()
    first = next(iter(scenario.channels))
    _built(plots.sweep_heatmap(table, "warmup_hours", "routing.policy", first, "service_level"))
    _built(plots.sweep_heatmap(table, "routing.policy", "warmup_hours", "overall", "occupancy"))
    curves = _curve_frame(table[table["routing.policy"] == "fifo"], "warmup_hours", list(brief.channels))
    _built(plots.scaling_curves(curves, "warmup_hours", list(brief.channels), ylabel="service level"))

    if exp.variants:
        short = Experiment(brief, {v: _short(s, BRIEF_HOURS) for v, s in exp.variants.items()})
        comparison = sim.compare(short, replications=2).table()
        for metric in ("service_level", "asa_s", "abandon_rate"):
            _built(plots.comparison_bars(comparison, metric))
        _built(plots.comparison_bars(comparison, "occupancy", scope="group"))


def _run_figures(scenario: Scenario) -> list[Figure]:
    result = sim.run(scenario, replications=2, records="full")
    intervals, contacts = result.intervals(), result.contacts()
    targets = {ch: scenario.target_s(ch) for ch in scenario.channels}
    return [
        plots.queue_and_busy_over_day(intervals, result.group_intervals()),
        plots.service_level_by_interval(intervals, goal=0.8),
        plots.wait_cdf(contacts, targets),
    ]


def _most_channels() -> Path:
    return max(FILES, key=lambda p: (len(load_experiment(p).baseline.channels), str(p)))


@pytest.mark.slow
def test_run_figures_draw_for_the_widest_scenario() -> None:
    """Drawing to pixels works for the shipped scenario with the most channels (the report tests draw the rest)."""
    scenario = _short(load_experiment(_most_channels()).baseline)
    for fig in _run_figures(scenario):
        _rendered(fig)


def _curve_frame(table: pd.DataFrame, x: str, channels: list[str]) -> pd.DataFrame:
    """Per x: mean, min and max service level per channel, in the columns `scaling_curves` reads."""
    rows = table[(table["scope"] == "channel") & (table["metric"] == "service_level")]
    stats = rows.groupby([x, "name"])["value"].agg(["mean", "min", "max"]).unstack("name")
    out = pd.DataFrame({x: stats.index.to_numpy()})
    for ch in channels:
        out[f"{ch}_mean"] = stats[("mean", ch)].to_numpy()
        out[f"{ch}_ci_low"] = stats[("min", ch)].to_numpy()
        out[f"{ch}_ci_high"] = stats[("max", ch)].to_numpy()
    return out


def test_figures_survive_channels_without_contacts() -> None:
    """A replayed trace that starts at 08:00, cut at 04:00, has no contacts: figures still draw."""
    scenario = sim.load_scenario(SCENARIOS / "examples" / "trace_replay.yaml")
    scenario = scenario.model_copy(update={"horizon_hours": 4.0, "warmup_hours": 0.0})
    result = sim.run(scenario, replications=1, records="full")
    assert len(result.contacts()) == 0
    _rendered(plots.queue_and_busy_over_day(result.intervals()))
    _rendered(plots.queue_and_busy_over_day(result.intervals(), result.group_intervals()))
    _rendered(plots.service_level_by_interval(result.intervals()))
    _rendered(plots.wait_cdf(result.contacts(), {"phone": 20.0}))


def test_scaling_curves_reads_documented_columns() -> None:
    """`s` or `s_mean` is the series; `s_ci_low`/`s_ci_high` optional; a missing series is an error."""
    frame = pd.DataFrame(
        {
            "agents": [1, 10, 100],
            "simpy": [1.0, 2.0, 4.0],
            "sim_mean": [2.0, 3.0, 3.5],
            "sim_ci_low": [1.9, 2.8, 3.1],
        }
        | {"sim_ci_high": [2.1, 3.2, 3.9]}
    )
    fig = _rendered(plots.scaling_curves(frame, "agents", ["simpy", "sim"], logx=True, title="per contact"))
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="absent"):
        plots.scaling_curves(frame, "agents", ["absent"])
    policies = pd.DataFrame({"policy": ["fifo", "priority"], "phone": [0.8, 0.9]})
    _rendered(plots.scaling_curves(policies, "policy", ["phone"]))


# --- the HTML report ---------------------------------------------------------------------

SMALL = """\
name: report-small
seed: 4
replications: 2
horizon_hours: 3
warmup_hours: 0.25
interval_min: 15
channels:
  phone:
    arrivals: {rate_per_hour: 200}
    handle_time: {dist: exponential, mean_s: 90}
    patience: {dist: exponential, mean_s: 200}
  email:
    arrivals: {rate_per_hour: 20}
    handle_time: {dist: exponential, mean_min: 5}
agents:
  phones: {count: 5, skills: [phone]}
  back: {count: 2, skills: [email, phone]}
routing: {policy: priority, order: [phone, email]}
variants:
  one_more_phone: {agents.phones.count: 6}
  fifo: {routing.policy: fifo}
"""


def _staffsim(*args: str | Path, cwd: Path) -> None:
    """`python -m sim ARGS` in a fresh process, as a user types it."""
    done = subprocess.run(
        [sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def _staffsim_here(*args: str, cwd: Path) -> None:
    """The same command line in this process (no interpreter start-up); `@name` is a path under `cwd`."""
    from sim.cli import main

    result = CliRunner().invoke(main, [str(cwd / a[1:]) if a.startswith("@") else a for a in args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Result folders written by the CLI: a run (`python -m sim`), a comparison, a 2-D and a 1-D sweep."""
    tmp = tmp_path_factory.mktemp("results")
    (tmp / "small.yaml").write_text(SMALL, encoding="utf-8")
    _staffsim("run", "small.yaml", "--out", "run", "-q", cwd=tmp)
    _staffsim_here("compare", "@small.yaml", "-n", "2", "-j", "1", "--out", "@compare", "-q", cwd=tmp)
    grid = ["--grid", "agents.phones.count=4:5", "--grid", "channels.phone.arrivals.rate_per_hour=150,200"]
    _staffsim_here("sweep", "@small.yaml", *grid, "-n", "2", "-j", "1", "--out", "@sweep2d", "-q", cwd=tmp)
    one = ["--grid", "agents.back.count=1:3", "-n", "1", "-j", "1"]
    _staffsim_here("sweep", "@small.yaml", *one, "--out", "@sweep1d", "-q", cwd=tmp)
    return {name: tmp / name for name in ("run", "compare", "sweep2d", "sweep1d")}


def _report(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(report, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _page(folder: Path) -> str:
    code, stdout, stderr = _report(folder)
    assert code == 0, stderr
    assert "report written to" in stdout
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")], "temporary file left behind"
    # Self-contained: every image is inline, nothing is fetched.
    assert not re.search(r'<(img|script|link)[^>]+(src|href)="(?!data:)', page)
    return page


def _headers(page: str) -> set[str]:
    return set(re.findall(r"<th>([^<]*)</th>", page))


def test_run_report_holds_tables_and_every_figure(folders: dict[str, Path]) -> None:
    """A run folder (records full): the manifest facts, both tables and four figures."""
    page = _page(folders["run"])
    manifest = json.loads((folders["run"] / "manifest.json").read_text())
    assert "report-small" in page and f"<td>{manifest['seed']}</td>" in page
    assert "small.yaml" in page and "numpy" in page
    assert {"metric", "phone", "email", "group", "occupancy", "replications", "command"} <= _headers(page)
    # queue and agents by time of day, service level by interval, agents per group by time of day, waits
    assert page.count("<img") == 4
    assert page.count('src="data:image/png;base64,') == 4
    assert "service_level" in page and "[" in page  # means with their CI


def test_run_report_without_contacts_leaves_out_the_wait_figure(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    """Without contacts.parquet (records summary) the page says so and has the three other figures."""
    copy = tmp_path / "run"
    copy.mkdir()
    for f in folders["run"].iterdir():
        if f.name not in ("contacts.parquet", "report.html"):
            (copy / f.name).write_bytes(f.read_bytes())
    page = _page(copy)
    assert page.count("<img") == 3
    assert "contacts.parquet not found" in page


def test_compare_report_holds_tables_and_every_figure(folders: dict[str, Path]) -> None:
    """A comparison: baseline and paired-difference tables; bars for 4 channel metrics and occupancy."""
    page = _page(folders["compare"])
    assert {"variant", "overrides", "difference [95% CI]", "baseline", "phone", "email"} <= _headers(page)
    assert "one_more_phone" in page and "agents.phones.count = 6" in page
    assert page.count("<img") == 5


@pytest.mark.slow
def test_sweep_reports_hold_tables_and_every_figure(folders: dict[str, Path]) -> None:
    """2-D sweep: a heatmap per channel for service level and ASA, and occupancy; 1-D: four curves."""
    page = _page(folders["sweep2d"])
    headers = _headers(page)
    assert {"key path", "values", "point", "channel", "service_level", "asa_s", "abandon_rate"} <= headers
    assert {"agents.phones.count", "channels.phone.arrivals.rate_per_hour"} <= headers
    assert page.count("<img") == 2 * 2 + 1
    page = _page(folders["sweep1d"])
    assert "agents.back.count" in _headers(page)
    assert page.count("<img") == 4  # service level, ASA, abandonment (channels) and occupancy (groups)


def test_report_output_option_and_python_api(folders: dict[str, Path], tmp_path: Path) -> None:
    """--output writes elsewhere; `write_report` returns the path it wrote."""
    target = tmp_path / "pages" / "run.html"
    code, stdout, _ = _report(folders["run"], "--output", target)
    assert code == 0 and target.is_file() and str(target) in stdout
    assert write_report(folders["run"], tmp_path / "s.html") == tmp_path / "s.html"


def test_report_refuses_a_missing_or_foreign_folder(tmp_path: Path) -> None:
    """Exit 2 with a one-line message, no traceback, no page; `write_report` raises ReportError."""
    code, _, stderr = _report(tmp_path / "nope")
    assert code == 2 and "no such folder" in stderr and "Traceback" not in stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hello")
    code, _, stderr = _report(tmp_path / "other")
    assert code == 2 and "not a result folder" in stderr
    assert not (tmp_path / "other" / "report.html").exists()
    with pytest.raises(ReportError):
        write_report(tmp_path / "other")
    study = tmp_path / "study"  # a study folder has a summary.csv too, not a run's
    study.mkdir()
    (study / "summary.csv").write_text("scale,design,agents\n1,pooled,13\n")
    (study / "conclusions.json").write_text("{}")
    code, _, stderr = _report(study)
    assert code == 2 and "is a study folder" in stderr and "run, compare or sweep" in stderr
    assert not (study / "report.html").exists()


@pytest.mark.slow
def test_report_command_is_registered_on_staffsim(folders: dict[str, Path], tmp_path: Path) -> None:
    """`python -m sim report OUTDIR` works end to end: the command is registered in sim.cli."""
    done = subprocess.run(
        [sys.executable, "-m", "sim", "report", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "no such folder" in done.stderr


# --- the per-interval staffing plan ------------------------------------------------------

PHONE_PER_HOUR = [120.0, 240.0, 360.0, 180.0] + [60.0] * 20
"""Calls per hour from midnight; the 4-hour run sees the first four hours."""

PLAN_SMALL: dict[str, Any] = {
    "name": "plan-small",
    "seed": 5,
    "replications": 2,
    "horizon_hours": 4,
    "interval_min": 30,
    "channels": {
        "phone": {
            "arrivals": {"profile": {"interval_min": 60, "rates_per_hour": PHONE_PER_HOUR}},
            "handle_time": {"dist": "exponential", "mean_s": 90},
            "patience": {"dist": "exponential", "mean_s": 200},
            "target": {"answer_within_s": 20},
        },
        "email": {
            "arrivals": {"rate_per_hour": 12},
            "handle_time": {"dist": "exponential", "mean_min": 5},
        },
    },
    "agents": {"phones": {"count": 4, "skills": ["phone"]}, "back": {"count": 2, "skills": ["email"]}},
}
"""Half-hour table of 8 intervals; only `phones` is searched, so email load is not drawn."""

PHONE_ERLANGS = [r * 90.0 / 3600.0 for r in PHONE_PER_HOUR[:4] for _ in range(2)]
"""Offered phone load per half hour: calls per hour × 90 s ÷ 3600 s."""


@pytest.fixture(scope="module")
def plans() -> dict[str, IntervalPlan]:
    """A plan that meets its target; one capped at 2 agents that misses (a single staffing simulated)."""
    met = optimize_intervals(
        PLAN_SMALL,
        ["phone.service_level>=0.8"],
        settings=OptimizeSettings(groups=("phones",), replications=2),
    )
    missed = optimize_intervals(
        PLAN_SMALL,
        ["phone.service_level>=0.8", "phone.asa_s<=5"],
        settings=OptimizeSettings(groups=("phones",), replications=2, max_agents=2),
        start={"phones": 2},
    )
    return {"met": met, "missed": missed}


def _by_gid(ax: Axes, gid: str) -> Line2D:
    found = [line for line in ax.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, f"expected one line {gid!r}, found {len(found)}"
    return found[0]


def _step_values(line: Line2D) -> np.ndarray:
    """Per-interval heights of a post step line over edges 0..n (the last point repeats the last value)."""
    x, y = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
    np.testing.assert_array_equal(x, np.arange(len(x)))
    np.testing.assert_array_equal(y[-1], y[-2])
    return y[:-1]


def test_staffing_plan_draws_load_agents_start_and_current(plans: dict[str, IntervalPlan]) -> None:
    """Top panel: phone load bars (no email: no searched group serves it), plan, start, current."""
    plan = plans["met"]
    assert plan.met and len(plan.labels) == 8
    fig = _rendered(plots.staffing_plan(plan, current={"phones": 4}))
    assert len(fig.axes) == 1 + len(plan.targets)
    top = fig.axes[0]
    bars = {c.get_label(): c for c in top.containers}
    assert set(bars) == {"phone offered load (Erlangs)"}
    rects = list(bars["phone offered load (Erlangs)"])
    np.testing.assert_allclose([r.get_height() for r in rects], PHONE_ERLANGS, rtol=1e-9)
    np.testing.assert_allclose([r.get_x() for r in rects], range(8))
    assert all(r.get_width() == 1.0 for r in rects)

    for what, counts in (("plan", plan.tables["phones"]), ("Erlang start", plan.start["phones"])):
        line = _by_gid(top, f"{what}:phones")
        np.testing.assert_array_equal(_step_values(line), counts)
        hours = sum(c * h for c, h in zip(counts, plan.hours, strict=True))
        assert line.get_label() == f"phones: {what} ({hours:,.0f} agent-h)"
    np.testing.assert_array_equal(_step_values(_by_gid(top, "current:phones")), [4] * 8)
    assert (
        _by_gid(top, "plan:phones").get_label() == f"phones: plan ({plan.agent_hours('phones'):,.0f} agent-h)"
    )
    # The Erlang start is not the plan here, or the test would not tell the two lines apart.
    assert plan.tables["phones"] != plan.start["phones"]

    # Eight intervals of 30 minutes: every one labelled, at its left edge.
    bottom = fig.axes[-1]
    assert [t.get_text() for t in bottom.get_xticklabels()] == list(plan.labels)
    np.testing.assert_array_equal(bottom.get_xticks(), range(8))
    assert plan.labels[0] == "00:00" and plan.labels[-1] == "03:30"


def test_staffing_plan_draws_each_target_with_ci_and_bound(plans: dict[str, IntervalPlan]) -> None:
    """Per target: the interval means as a step line, the 95% CI as a band, the bound as a line."""
    plan = plans["met"]
    fig = plots.staffing_plan(plan)
    (target,), (judgement,) = plan.targets, plan.intervals
    ax = fig.axes[1]
    means = [e.mean for e in judgement.estimates]
    np.testing.assert_array_equal(_step_values(_by_gid(ax, f"mean:{target}")), means)
    bound = _by_gid(ax, f"bound:{target}")
    assert target.bound == 0.8 and set(np.asarray(bound.get_ydata(), dtype=float)) == {0.8}
    assert not [line for line in ax.get_lines() if str(line.get_gid()).startswith("missed:")]
    (band,) = ax.collections
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    lows = [e.ci_low for e in judgement.estimates if np.isfinite(e.ci_low)]
    highs = [e.ci_high for e in judgement.estimates if np.isfinite(e.ci_high)]
    assert lows and np.isclose(ys.min(), min(lows)) and np.isclose(ys.max(), max(highs))
    assert ax.get_ylim() == (0.0, 1.05)


def test_staffing_plan_marks_every_missed_interval(plans: dict[str, IntervalPlan]) -> None:
    """Capped at 2 agents for 3-9 Erlangs, intervals miss: each is marked at its mean, and only they."""
    plan = plans["missed"]
    assert not plan.met and plan.evaluated == 1
    fig = _rendered(plots.staffing_plan(plan))
    for ax, target, judgement in zip(fig.axes[1:], plan.targets, plan.intervals, strict=True):
        missed = [k for k in range(len(plan.labels)) if judgement.active[k] and not judgement.met[k]]
        assert missed, f"{target} should miss somewhere with 2 agents"
        marks = _by_gid(ax, f"missed:{target}")
        np.testing.assert_array_equal(marks.get_xdata(), [k + 0.5 for k in missed])
        np.testing.assert_array_equal(marks.get_ydata(), [judgement.estimates[k].mean for k in missed])
        assert set(np.asarray(_by_gid(ax, f"bound:{target}").get_ydata(), dtype=float)) == {target.bound}
        low, high = ax.get_ylim()
        assert low == 0 and high > target.bound
    asa = fig.axes[2]
    assert str(plan.targets[1]) == "phone.asa_s<=5" and "service_level" not in asa.get_ylabel()


def test_staffing_plan_thins_the_labels_of_a_week() -> None:
    """A weekly table (336 half hours): a tick every 12 hours, labelled with the day; one replication, no band."""
    data = copy.deepcopy(PLAN_SMALL)
    data["horizon_hours"] = 168
    data["channels"]["phone"]["arrivals"] = {
        "rate_per_hour": 20,
        "day_of_week": [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.2],
    }
    plan = optimize_intervals(
        data,
        ["phone.service_level>=0.99"],
        settings=OptimizeSettings(groups=("phones",), replications=1, max_agents=1),
        start={"phones": 1},
    )
    assert len(plan.labels) == 336 and plan.evaluated == 1
    fig = _rendered(plots.staffing_plan(plan))
    bottom = fig.axes[-1]
    ticks = [int(t) for t in bottom.get_xticks()]
    assert ticks == list(range(0, 336, 24))
    labels = [t.get_text() for t in bottom.get_xticklabels()]
    assert labels == [plan.labels[k] for k in ticks]
    assert labels[:3] == ["Mon 00:00", "Mon 12:00", "Tue 00:00"] and labels[-1] == "Sun 12:00"
    top = fig.axes[0]
    heights = [r.get_height() for r in next(iter(top.containers))]
    np.testing.assert_allclose(
        heights, [20 * 90 / 3600 * f for f in (1, 1, 1, 1, 1, 0.5, 0.2) for _ in range(48)]
    )
    assert not fig.axes[1].collections  # one replication: no interval to draw


@pytest.mark.parametrize(
    ("n", "interval_min", "step"),
    [(8, 30, 1), (48, 30, 4), (96, 15, 8), (24, 60, 2), (336, 30, 24), (672, 15, 48)],
)
def test_staffing_plan_tick_spacing(n: int, interval_min: int, step: int) -> None:
    """At most 14 labelled ticks, spaced by a round span of the clock."""
    assert plots._tick_step(n, interval_min) == step


def test_staffing_plan_refuses_a_bad_current(plans: dict[str, IntervalPlan]) -> None:
    with pytest.raises(ValueError, match="back"):
        plots.staffing_plan(plans["met"], current={"back": 2})
    with pytest.raises(ValueError, match="8 of them"):
        plots.staffing_plan(plans["met"], current={"phones": [4, 4]})
