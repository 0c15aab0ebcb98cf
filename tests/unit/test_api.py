"""The public surface: curated exports, no import side effects, documented tables, outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.metrics.contacts import CHANNEL_METRICS, GROUP_METRICS
from sim.records import CONTACT_COLUMNS
from sim.runner.atomic import OutputExistsError, atomic_dir
from sim.runner.outdir import MARKER
from tests.builders import ROOT, mmc

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_public_api_is_curated() -> None:
    """`sim.__all__` lists exactly the supported entry points, and each exists."""
    expected = {
        "CompareResult", "Experiment", "IntervalPlan", "OptimizeSettings", "Plan", "Policy", "RunResult",
        "Scenario", "ScenarioError", "ShiftPlan", "StudyResult", "SweepResult", "__version__", "claims",
        "compare", "load", "load_experiment", "load_scenario", "optimize", "register", "run", "study", "sweep",
    }  # fmt: skip
    assert set(sim.__all__) == expected
    for name in sim.__all__:
        assert hasattr(sim, name), name


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    """Importing sim touches neither numpy's global random state nor the working folder."""
    code = (
        "import numpy as np; before = np.random.get_state()[1].copy(); import sim, sim.cli, sim.experiment.sweep; "
        "after = np.random.get_state()[1]; print(bool((before == after).all()))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "True"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", [*CHANNEL_METRICS, *GROUP_METRICS])
def test_readme_documents_every_metric(name: str) -> None:
    """Every metric the code reports has a row in the README's metric tables."""
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("name", list(CONTACT_COLUMNS))
def test_readme_documents_every_contact_column(name: str) -> None:
    """Every per-contact column has a row in the README's record table."""
    assert f"| `{name}` |" in README


def test_readme_documents_every_command() -> None:
    """Every CLI command appears in the README, as do the two make targets."""
    import click

    from sim.cli import main

    commands = main.list_commands(click.Context(main))
    assert {"run", "compare", "sweep", "optimize", "study", "report", "erlang", "check"} <= set(commands)
    for command in commands:
        assert f"staffsim {command}" in README, command
    assert "make run" in README and "make test" in README


def test_contacts_table_has_documented_columns() -> None:
    """result.contacts() has exactly the documented columns, in order."""
    result = sim.run(sim.load_scenario(mmc(horizon_hours=1, warmup_hours=0)), replications=2, records="full")
    contacts = result.contacts()
    assert list(contacts.columns) == list(CONTACT_COLUMNS)
    assert set(contacts.replication) == {0, 1}


def test_records_modes_gate_tables() -> None:
    """records='none' has no interval table; 'summary' has no per-contact table."""
    scenario = sim.load_scenario(mmc(horizon_hours=1, warmup_hours=0))
    with pytest.raises(ValueError, match="summary"):
        sim.run(scenario, replications=1, records="none").intervals()
    with pytest.raises(ValueError, match="full"):
        sim.run(scenario, replications=1, records="summary").contacts()
    with pytest.raises(ValueError, match="records"):
        sim.run(scenario, replications=1, records="everything")


def test_records_modes_agree_on_metrics() -> None:
    """The metrics do not depend on how much is recorded."""
    scenario = sim.load_scenario(mmc(horizon_hours=2))
    runs = [sim.run(scenario, replications=2, records=m).replications() for m in ("none", "summary", "full")]
    assert runs[0].equals(runs[1]) and runs[1].equals(runs[2])


def test_intervals_add_up_to_the_totals() -> None:
    """Per-interval offered and answered counts sum to the whole-run tallies (no warm-up)."""
    scenario = sim.load_scenario(mmc(horizon_hours=3, warmup_hours=0, interval_min=15))
    result = sim.run(scenario, replications=2)
    intervals = result.intervals()
    assert intervals.interval.nunique() == 12
    for r in (0, 1):
        rows = intervals[intervals.replication == r]
        out = result.outputs[r].channels["phone"]
        assert rows.offered.sum() == out["offered"]
        assert rows.answered.sum() == out["answered"]
    assert not {"busy_agents", "on_duty", "occupancy"} & set(intervals.columns)  # agents: group_intervals()


@pytest.mark.parametrize("threads", [1, 3])
def test_group_intervals_sum_over_groups_to_the_overall_agents(threads: int) -> None:
    """Busy and on-duty agents summed over the groups of each interval, averaged over the
    (equal, no warm-up) intervals, give the run's all-group figures, in agents (not
    conversation slots) when agents hold several conversations; one row per group."""
    data = mmc(horizon_hours=3, warmup_hours=0, interval_min=15)
    data["channels"]["email"] = {**data["channels"]["phone"], "arrivals": {"rate_per_hour": 60}}
    data["agents"] = {
        "team": {**data["agents"]["team"], "count": 8},
        "chat": {"count": 2, "skills": ["email"], "concurrency": {"threads": threads, "stretch": 1.0}},
    }
    scenario = sim.load_scenario(data)
    result = sim.run(scenario, replications=2)
    frame = result.group_intervals()
    assert len(frame) == 2 * 12 * 2
    chat = frame[frame["group"] == "chat"]
    assert chat["on_duty"].max() == pytest.approx(2.0)  # two agents, whatever their threads
    totals = frame.groupby(["replication", "interval"])[["busy_agents", "on_duty"]].sum()
    for r in (0, 1):
        overall = result.outputs[r].groups["overall"]
        for column in ("busy_agents", "on_duty"):
            assert totals.loc[r, column].mean() == pytest.approx(overall[column], rel=1e-9)


def test_atomic_dir_leaves_nothing_on_failure(tmp_path: Path) -> None:
    """A failure while writing leaves neither the destination nor a temporary folder."""
    dest = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(dest) as tmp:
        (tmp / "half.csv").write_text("x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_only_when_asked(tmp_path: Path) -> None:
    """An existing folder is kept unless overwrite is asked, and then replaced whole.

    Only a folder staffsim wrote (it holds the marker) is replaced; any other is refused
    even with overwrite, and left as it was.
    """
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    with pytest.raises(OutputExistsError), atomic_dir(dest):
        pass
    with pytest.raises(OutputExistsError, match="not written by staffsim"), atomic_dir(dest, overwrite=True):
        pass
    assert sorted(p.name for p in dest.iterdir()) == ["old.txt"]
    (dest / "old.txt").unlink()
    dest.rmdir()
    with atomic_dir(dest) as tmp:
        (tmp / "first.txt").write_text("first")
    with atomic_dir(dest, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in dest.iterdir()) == [MARKER, "new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.slow
def test_run_json_values_are_finite_or_null(tmp_path: Path) -> None:
    """JSON output never holds NaN or infinity: one replication gives null CI bounds."""
    path = tmp_path / "s.json.yaml"
    path.write_text(json.dumps(mmc(horizon_hours=1, warmup_hours=0)))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path), "-n", "1", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    payload = json.loads(proc.stdout)
    assert payload["channels"]["phone"]["asa_s"]["ci_low"] is None
    assert np.isfinite(payload["channels"]["phone"]["asa_s"]["mean"])


def test_open_contacts_count_alike_per_interval_and_for_the_whole_run() -> None:
    """Contacts open at the horizon, including emails interrupted by calls and waiting to
    resume, count the same for the service level and P(wait) per interval as for the whole
    run: the interval tallies add up to the run's figures exactly (no warm-up)."""
    data = mmc(horizon_hours=2, warmup_hours=0, interval_min=30, replications=3)
    data["channels"]["email"] = {
        "arrivals": {"rate_per_hour": 40},
        "handle_time": {"dist": "exponential", "mean_s": 900},
        "target": {"answer_within_s": 6 * 3600},
    }
    data["agents"] = {"team": {"count": 10, "skills": ["phone", "email"]}}
    data["routing"] = {"policy": "preemptive"}
    result = sim.run(sim.load_scenario(data))
    interrupted = 0
    for r in range(3):
        out = result.outputs[r].channels["email"]
        block = result.outputs[r].intervals
        assert block is not None and block["channels"] == ["phone", "email"]
        n = len(block["tallies"]["offered"]) // 2
        t = {name: sum(values[n:]) for name, values in block["tallies"].items()}  # email's intervals
        ended = t["answered"] + t["abandoned"]
        assert t["within_target"] / (ended + t["judged_open"]) == pytest.approx(
            out["service_level"], rel=1e-12
        )
        assert t["waited"] / t["offered"] == pytest.approx(out["p_wait"], rel=1e-12)
        interrupted += out["waiting_end"] > 0
    assert interrupted, "the scenario should leave emails waiting at the horizon"
