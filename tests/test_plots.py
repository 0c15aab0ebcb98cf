"""Figures for every shipped scenario, and `staffsim report` on run, compare and sweep folders."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

import sim
from sim.config.schema import Scenario
from sim.config.variants import Experiment, load_experiment
from sim.experiment.compare import compare
from sim.experiment.sweep import sweep
from sim.model.build import expected_contacts
from sim.report import plots
from sim.report.html import ReportError, write_report
from sim.report_cli import report

ROOT = Path(__file__).resolve().parents[1]
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
def test_every_figure_for_every_shipped_scenario(path: Path) -> None:
    """Run figures, sweep heatmaps and scaling curves for each scenario; compare bars with variants."""
    exp = load_experiment(path)
    scenario = _short(exp.baseline)
    for fig in _run_figures(scenario):
        _built(fig)

    brief = _short(exp.baseline, BRIEF_HOURS)
    grid = {"warmup_hours": [0.0, brief.horizon_hours / 4], "routing.policy": ["fifo", "priority"]}
    table = sweep(brief.model_copy(update={"warmup_hours": 0.0}), grid, replications=1)
    first = next(iter(scenario.channels))
    _built(plots.sweep_heatmap(table, "warmup_hours", "routing.policy", first, "service_level"))
    _built(plots.sweep_heatmap(table, "routing.policy", "warmup_hours", "overall", "occupancy"))
    curves = _curve_frame(table[table["routing.policy"] == "fifo"], "warmup_hours", list(brief.channels))
    _built(plots.scaling_curves(curves, "warmup_hours", list(brief.channels), ylabel="service level"))

    if exp.variants:
        short = Experiment(brief, {v: _short(s, BRIEF_HOURS) for v, s in exp.variants.items()})
        comparison = compare(short, replications=2).table()
        for metric in ("service_level", "asa_s", "abandon_rate"):
            _built(plots.comparison_bars(comparison, metric))
        _built(plots.comparison_bars(comparison, "occupancy", scope="group"))


def _run_figures(scenario: Scenario) -> list[Figure]:
    result = sim.run(scenario, replications=2, records="full")
    intervals, contacts = result.intervals(), result.contacts()
    targets = {ch: scenario.target_s(ch) for ch in scenario.channels}
    return [
        plots.queue_and_busy_over_day(intervals),
        plots.service_level_by_interval(intervals, goal=0.8),
        plots.wait_cdf(contacts, targets),
    ]


def _most_channels() -> Path:
    return max(FILES, key=lambda p: (len(load_experiment(p).baseline.channels), str(p)))


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
    """A run folder (records full): the manifest facts, both tables and three figures."""
    page = _page(folders["run"])
    manifest = json.loads((folders["run"] / "manifest.json").read_text())
    assert "report-small" in page and f"<td>{manifest['seed']}</td>" in page
    assert "small.yaml" in page and "numpy" in page
    assert {"metric", "phone", "email", "group", "occupancy", "replications", "command"} <= _headers(page)
    assert page.count("<img") == 3  # queue and agents by time of day, service level by interval, waits
    assert page.count('src="data:image/png;base64,') == 3
    assert "service_level" in page and "[" in page  # means with their CI


def test_run_report_without_contacts_leaves_out_the_wait_figure(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    """Without contacts.parquet (records summary) the page says so and has two figures."""
    copy = tmp_path / "run"
    copy.mkdir()
    for f in folders["run"].iterdir():
        if f.name not in ("contacts.parquet", "report.html"):
            (copy / f.name).write_bytes(f.read_bytes())
    page = _page(copy)
    assert page.count("<img") == 2
    assert "contacts.parquet not found" in page


def test_compare_report_holds_tables_and_every_figure(folders: dict[str, Path]) -> None:
    """A comparison: baseline and paired-difference tables; bars for 4 channel metrics and occupancy."""
    page = _page(folders["compare"])
    assert {"variant", "overrides", "difference [95% CI]", "baseline", "phone", "email"} <= _headers(page)
    assert "one_more_phone" in page and "agents.phones.count = 6" in page
    assert page.count("<img") == 5


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


def test_report_command_is_registered_on_staffsim(folders: dict[str, Path], tmp_path: Path) -> None:
    """`python -m sim report OUTDIR` works end to end once the command is registered in sim.cli."""
    from sim.cli import main

    if "report" not in main.commands:
        pytest.skip("`report` is not registered on the staffsim command group yet")
    done = subprocess.run(
        [sys.executable, "-m", "sim", "report", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "no such folder" in done.stderr
