"""One Python API: every entry point takes a path, a dict or a loaded scenario the same way.

Each entry point returns a typed result that saves itself into the same files the matching
`staffsim` command writes with `--out`; a result answers for agent groups as for channels,
and an undefined figure is NaN in pandas exactly where it is null in the JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.planning.settings import OptimizeSettings
from tests.builders import mmc

SHORT: dict[str, Any] = mmc(horizon_hours=2, warmup_hours=0, replications=3)
"""Two hours of the small M/M/c (10 agents at utilisation 0.9), three replications."""

VARIANTS: dict[str, Any] = {**SHORT, "variants": {"hire_one": {"agents.team.count": 11}}}
GRID = {"agents.team.count": [9, 11]}


def _file(tmp_path: Path, data: dict[str, Any], name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _cli(*args: str | Path) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr


def _sources(tmp_path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The same scenario as a path (str and Path), a dict, a Scenario and an Experiment."""
    path = _file(tmp_path, data)
    return {
        "str": str(path),
        "path": path,
        "dict": data,
        "scenario": sim.load_scenario(path),
        "experiment": sim.load_experiment(path),
    }


def test_run_takes_every_kind_of_source_the_same_way(tmp_path: Path) -> None:
    """`sim.run` of a path (str or Path), a dict, a Scenario or an Experiment: the same numbers."""
    tables = {k: sim.run(s).replications() for k, s in _sources(tmp_path, SHORT).items()}
    for kind, table in tables.items():
        pd.testing.assert_frame_equal(table, tables["dict"], obj=kind)


def test_compare_takes_every_kind_of_source_the_same_way(tmp_path: Path) -> None:
    """`sim.compare` of a path, a dict or an Experiment: the same paired differences."""
    sources = _sources(tmp_path, VARIANTS)
    del sources["scenario"]  # a Scenario has no variants
    tables = {k: sim.compare(s).table() for k, s in sources.items()}
    for kind, table in tables.items():
        pd.testing.assert_frame_equal(table, tables["dict"], obj=kind)


def test_sweep_takes_every_kind_of_source_the_same_way(tmp_path: Path) -> None:
    """`sim.sweep` of a path, a dict, a Scenario or an Experiment: the same table."""
    tables = {k: sim.sweep(s, GRID, replications=2).table() for k, s in _sources(tmp_path, SHORT).items()}
    for kind, table in tables.items():
        pd.testing.assert_frame_equal(table, tables["dict"], obj=kind)


def test_optimize_takes_every_kind_of_source_the_same_way(tmp_path: Path) -> None:
    """`sim.optimize` of a path, a dict or a Scenario: the same plan."""
    settings = OptimizeSettings(replications=2)
    plans = {
        k: sim.optimize(s, ["phone.service_level>=0.7"], settings=settings)
        for k, s in _sources(tmp_path, SHORT).items()
    }
    for plan in plans.values():
        assert isinstance(plan, sim.Plan)
        assert plan.counts == plans["dict"].counts


def test_a_scenario_error_is_the_same_from_every_entry_point(tmp_path: Path) -> None:
    """A bad file raises the same `ScenarioError` (file, key path) from run, compare, sweep, optimize."""
    bad = _file(tmp_path, {**VARIANTS, "agents": {"team": {"count": -1, "skills": ["phone"]}}})
    calls = {
        "run": lambda: sim.run(bad),
        "compare": lambda: sim.compare(bad),
        "sweep": lambda: sim.sweep(bad, GRID),
        "optimize": lambda: sim.optimize(bad, ["phone.service_level>=0.8"]),
    }
    messages = set()
    for call in calls.values():
        with pytest.raises(sim.ScenarioError) as info:
            call()
        messages.add(str(info.value))
    assert len(messages) == 1
    assert str(bad) in messages.pop()


def test_entry_points_return_typed_results(tmp_path: Path) -> None:
    """run, compare and sweep return RunResult, CompareResult and SweepResult, with their tables."""
    run = sim.run(SHORT)
    compared = sim.compare(VARIANTS)
    swept = sim.sweep(SHORT, GRID, replications=2)
    assert isinstance(run, sim.RunResult) and isinstance(run.summary(), pd.DataFrame)
    assert isinstance(compared, sim.CompareResult) and set(compared.table().variant) == {"hire_one"}
    assert isinstance(swept, sim.SweepResult) and set(swept.table().point) == {0, 1}


def test_optimize_mode_is_one_argument_with_frozen_settings() -> None:
    """An unknown mode is refused by name; the settings object cannot be changed after it is made."""
    with pytest.raises(ValueError, match="mode must be one of headcount, intervals, shifts"):
        sim.optimize(SHORT, ["phone.service_level>=0.8"], mode="weekly")  # type: ignore[arg-type]
    settings = OptimizeSettings(replications=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.replications = 3  # type: ignore[misc]


def _same_folder(cli: Path, api: Path, tables: list[str]) -> None:
    """Both folders hold the same files, equal tables and equal JSON results."""
    assert sorted(p.name for p in cli.iterdir()) == sorted(p.name for p in api.iterdir())
    for name in tables:
        pd.testing.assert_frame_equal(pd.read_csv(cli / name), pd.read_csv(api / name), obj=name)
    if (cli / "result.json").exists():
        assert json.loads((cli / "result.json").read_text()) == json.loads((api / "result.json").read_text())
    assert (
        json.loads((cli / "manifest.json").read_text())["seed"]
        == json.loads((api / "manifest.json").read_text())["seed"]
    )


def test_run_save_writes_what_run_out_writes(tmp_path: Path) -> None:
    """`RunResult.save` writes the files of `staffsim run --out` (records full), with equal tables."""
    path = _file(tmp_path, SHORT)
    _cli("run", path, "--out", tmp_path / "cli", "--quiet")
    assert sim.run(path, records="full").save(tmp_path / "api") == tmp_path / "api"
    _same_folder(tmp_path / "cli", tmp_path / "api", ["summary.csv", "replications.csv", "intervals.csv"])
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "cli" / "contacts.parquet"),
        pd.read_parquet(tmp_path / "api" / "contacts.parquet"),
    )


def test_compare_save_writes_what_compare_out_writes(tmp_path: Path) -> None:
    """`CompareResult.save` writes the files of `staffsim compare --out`, with equal tables."""
    path = _file(tmp_path, VARIANTS)
    _cli("compare", path, "--out", tmp_path / "cli", "--quiet", "-j", "1")
    sim.compare(path).save(tmp_path / "api")
    _same_folder(tmp_path / "cli", tmp_path / "api", ["comparison.csv", "replications.csv"])


def test_sweep_save_writes_what_sweep_out_writes(tmp_path: Path) -> None:
    """`SweepResult.save` writes the files of `staffsim sweep --out`, with equal tables."""
    path = _file(tmp_path, SHORT)
    _cli(
        "sweep",
        path,
        "--grid",
        "agents.team.count=9,11",
        "-n",
        "2",
        "--out",
        tmp_path / "cli",
        "-q",
        "-j",
        "1",
    )
    sim.sweep(path, GRID, replications=2).save(tmp_path / "api")
    _same_folder(tmp_path / "cli", tmp_path / "api", ["sweep.csv"])


def test_save_refuses_an_existing_folder_unless_told(tmp_path: Path) -> None:
    """`save` never replaces a folder silently; with overwrite it replaces it whole."""
    from sim.runner.atomic import OutputExistsError

    result = sim.run(SHORT, replications=1)
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputExistsError):
        result.save(tmp_path / "out")
    result.save(tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "summary.csv").exists()


def test_estimate_answers_for_groups_and_overall_as_for_channels() -> None:
    """`estimate("team", "occupancy")` and `estimate("overall", ...)` are the means over replications."""
    result = sim.run(SHORT)
    for name in ("team", "overall"):
        e = result.estimate(name, "occupancy")
        assert e.mean == pytest.approx(np.mean(result.values("group", name, "occupancy")))
        assert e.n == 3 and e.ci_low <= e.mean <= e.ci_high
    phone = result.estimate("phone", "service_level")
    assert phone.mean == pytest.approx(np.mean(result.values("channel", "phone", "service_level")))


def test_estimate_of_an_unknown_name_or_metric_says_what_there_is() -> None:
    """An unknown channel or group, or a metric the name does not have, lists what there is."""
    result = sim.run(SHORT, replications=1)
    with pytest.raises(KeyError, match=r"no channel or agent group 'email'.*channels: phone.*groups: team"):
        result.estimate("email", "service_level")
    with pytest.raises(KeyError, match=r"'team' has no metric 'service_level'.*occupancy"):
        result.estimate("team", "service_level")


def test_undefined_figures_are_nan_in_pandas_exactly_where_json_has_null() -> None:
    """One replication: the CI is undefined — NaN in `summary()`, null in `to_dict()`, never ±inf."""
    result = sim.run(SHORT, replications=1)
    summary = result.summary()
    assert not np.isinf(summary[["mean", "ci_low", "ci_high"]].to_numpy()).any()
    assert summary.ci_low.isna().all() and summary.ci_high.isna().all()
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    for row in summary.itertuples():
        cell = data["channels" if row.scope == "channel" else "groups"][row.name][row.metric]
        for field in ("mean", "ci_low", "ci_high"):
            value = getattr(row, field)
            assert (cell[field] is None) == math.isnan(value), (row.name, row.metric, field)
            if cell[field] is not None:
                assert cell[field] == value
