"""Experiments: variants, common random numbers, executors, sweeps and resume."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.config.errors import ScenarioError
from sim.config.variants import load_experiment
from sim.experiment.compare import Precision
from sim.experiment.sweep import parse_grid
from sim.metrics.stats import mean_ci
from sim.runner.executors import DaskExecutor, PoolExecutor, SerialExecutor
from sim.runner.store import StoreError, TaskStore

BASE: dict[str, Any] = {
    "name": "exp",
    "seed": 5,
    "replications": 6,
    "horizon_hours": 4,
    "warmup_hours": 0.5,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 480},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "patience": {"dist": "exponential", "mean_s": 300},
        },
        "email": {
            "arrivals": {"rate_per_hour": 60},
            "handle_time": {"dist": "lognormal", "mean_min": 4, "cv": 1.0},
        },
    },
    "agents": {
        "phone_team": {"count": 9, "skills": ["phone"]},
        "email_team": {"count": 5, "skills": ["email"]},
    },
    "variants": {
        "hire_one": {"agents.phone_team.count": 10},
        "divert_one": {"agents.phone_team.count": 8, "agents.email_team.count": 6},
        "pooled": {
            "agents.phone_team.skills": ["phone", "email"],
            "agents.email_team.skills": ["email", "phone"],
            "routing.policy": "priority",
            "routing.order": ["phone", "email"],
        },
    },
}


def base(**top: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(top)
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_variants_apply_dotted_overrides() -> None:
    """Each variant is the baseline with its key paths replaced, and nothing else."""
    exp = load_experiment(base())
    assert exp.baseline.agents["phone_team"].count == 9
    assert exp.variants["hire_one"].agents["phone_team"].count == 10
    assert exp.variants["hire_one"].agents["email_team"].count == 5
    assert exp.variants["pooled"].agents["phone_team"].skills == ["phone", "email"]
    assert exp.variants["hire_one"].channels == exp.baseline.channels


def test_extends_inherits_and_merges(tmp_path: Path) -> None:
    """`extends:` reads the parent relative to the child and deep-merges the child over it."""
    (tmp_path / "sub").mkdir()
    write(tmp_path, base(), "parent.yaml")
    child = {"extends": "../parent.yaml", "name": "child", "agents": {"phone_team": {"count": 12}}}
    path = write(tmp_path / "sub", child, "child.yaml")
    exp = load_experiment(path)
    assert exp.baseline.name == "child"
    assert exp.baseline.agents["phone_team"].count == 12
    assert exp.baseline.agents["phone_team"].skills == ["phone"]
    assert not exp.variants, "variants belong to the file that declares them"
    assert len(exp.files) == 2


def test_extends_loop_is_an_error(tmp_path: Path) -> None:
    """A file that extends itself through a chain gives a clear error, not a recursion."""
    write(tmp_path, {"extends": "b.yaml"}, "a.yaml")
    write(tmp_path, {"extends": "a.yaml"}, "b.yaml")
    with pytest.raises(ScenarioError, match="loop"):
        load_experiment(tmp_path / "a.yaml")


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"agents.phone_team.cuont": 3}, "variants.bad.agents.phone_team.cuont"),
        ({"channels.phone.arrivals.rate_per_hour.x": 3}, "takes a single value"),
        ({"agent.phone_team.count": 3}, "no key 'agent'"),
        ({"agents.phone_team.count": -1}, "variants.bad → agents.phone_team.count"),
    ],
)
def test_variant_path_errors_name_variant_and_path(
    tmp_path: Path, override: dict[str, Any], fragment: str
) -> None:
    """A variant path outside the schema, or a bad value, names the variant and the path."""
    path = write(tmp_path, base(variants={"bad": override}))
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.slow
def test_variant_error_exits_2_on_the_cli(tmp_path: Path) -> None:
    """`staffsim compare` on a bad variant exits 2 with the variant's path and no traceback."""
    path = write(tmp_path, base(variants={"bad": {"agents.phone_team.cuont": 3}}))
    proc = subprocess.run([sys.executable, "-m", "sim", "compare", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "variants.bad.agents.phone_team.cuont" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_common_random_numbers_share_customers() -> None:
    """Replication r of a staffing variant sees exactly the baseline's offered contacts."""
    result = sim.compare(base(), replications=4)
    for v in result.variants.values():
        for ch in ("phone", "email"):
            np.testing.assert_array_equal(
                v.values("channel", ch, "offered"), result.baseline.values("channel", ch, "offered")
            )


def test_common_random_numbers_reduce_variance() -> None:
    """The paired add-one-agent difference varies far less than with independent streams.

    Independent streams: the variant's replication r is paired with a baseline
    replication run from a different seed. The variance ratio must exceed 2.
    """
    data = base(replications=20, variants={"hire_one": {"agents.phone_team.count": 10}})
    crn = sim.compare(data, replications=20)
    paired = crn.variants["hire_one"].values("channel", "phone", "asa_s") - crn.baseline.values(
        "channel", "phone", "asa_s"
    )
    other = sim.compare(data, replications=20, seed=BASE["seed"] + 1000)
    independent = crn.variants["hire_one"].values("channel", "phone", "asa_s") - other.baseline.values(
        "channel", "phone", "asa_s"
    )
    ratio = independent.var(ddof=1) / paired.var(ddof=1)
    assert ratio > 2, f"variance reduction only {ratio:.2f}"


def test_hiring_lowers_wait_and_diverting_raises_it() -> None:
    """Directions: one more phone agent shortens phone waits; one fewer lengthens them."""
    result = sim.compare(base(), replications=6)
    assert result.diff("hire_one", "phone", "asa_s").ci_high < 0
    assert result.diff("divert_one", "phone", "asa_s").ci_low > 0
    assert (result.diff("hire_one", "phone", "asa_s").mean) <= 0


@pytest.mark.slow
def test_executors_give_identical_numbers() -> None:
    """Serial, a local process pool and a Dask LocalCluster of 2 processes agree exactly."""
    data = base(replications=4)
    serial = sim.compare(data, executor=SerialExecutor()).table()
    pool = sim.compare(data, executor=PoolExecutor(2)).table()
    dask = DaskExecutor("local", workers=2)
    try:
        assert len(dask.client.scheduler_info()["workers"]) == 2
        distributed = sim.compare(data, executor=dask).table()
    finally:
        dask.close()
    pd.testing.assert_frame_equal(serial, pool)
    pd.testing.assert_frame_equal(serial, distributed)


def test_precision_adds_replications_until_reached() -> None:
    """--precision replicates beyond the first round until the half-width target holds."""
    data = base(variants={"hire_one": {"agents.phone_team.count": 10}})
    target = 0.03
    result = sim.compare(
        data, replications=3, precision=Precision.parse(f"phone.service_level={target}"), max_replications=80
    )
    assert result.n > 3
    assert result.n == 80 or (
        result.baseline.estimate("phone", "service_level").half_width <= target
        and result.diff("hire_one", "phone", "service_level").half_width <= target
    )


def test_precision_parse_rejects_bad_text() -> None:
    """Bad --precision text is a ValueError naming what is allowed."""
    for text in ("service_level", "nonsense=0.1", "asa_s=-1", "asa_s=abc"):
        with pytest.raises(ValueError, match="precision"):
            Precision.parse(text)


def test_grid_parsing() -> None:
    """Ranges are inclusive; lists keep YAML types; unknown paths are refused."""
    grid = parse_grid(["agents.team.count=10:13", "channels.social.arrivals.rate_per_hour=50,100.5"])
    assert grid == {
        "agents.team.count": [10, 11, 12, 13],
        "channels.social.arrivals.rate_per_hour": [50, 100.5],
    }
    assert parse_grid(["horizon_hours=1:2:0.5"]) == {"horizon_hours": [1.0, 1.5, 2.0]}
    for bad in ("agents.team.cnt=1:2", "horizon_hours=5:1", "horizon_hours", "horizon_hours=1:2:3:4"):
        with pytest.raises(ValueError):
            parse_grid([bad])


def test_sweep_table_columns_and_rows() -> None:
    """One row per point × replication × (channel or group) × metric, with the grid columns."""
    grid = {"agents.phone_team.count": [8, 9, 10], "channels.email.arrivals.rate_per_hour": [30, 60]}
    table = sim.sweep(base(), grid, replications=2).table()
    assert list(table.columns) == [
        "point", "agents.phone_team.count", "channels.email.arrivals.rate_per_hour",
        "replication", "scope", "name", "metric", "value",
    ]  # fmt: skip
    n_channel_metrics = len(sim.metrics.contacts.CHANNEL_METRICS)
    n_group_metrics = len(sim.metrics.contacts.GROUP_METRICS)
    n_overall = n_group_metrics + len(sim.metrics.contacts.OVERALL_METRICS)
    per_rep = 2 * n_channel_metrics + 2 * n_group_metrics + n_overall  # two channels, two groups, overall
    assert len(table) == 6 * 2 * per_rep
    asa = (
        table[(table.name == "phone") & (table.metric == "asa_s")]
        .groupby("agents.phone_team.count")["value"]
        .mean()
    )
    assert asa.is_monotonic_decreasing


def test_api_compare_and_sweep_tables_are_dataframes() -> None:
    """sim.compare(...).table() and sim.sweep(...).table() are pandas DataFrames."""
    table = sim.compare(base(), replications=2).table()
    assert isinstance(table, pd.DataFrame)
    assert set(table.variant) == {"hire_one", "divert_one", "pooled"}
    swept = sim.sweep(base(), {"agents.phone_team.count": [9, 10]}, replications=2).table()
    assert isinstance(swept, pd.DataFrame)
    assert set(swept.point) == {0, 1}


def test_store_refuses_existing_output_and_foreign_partials(tmp_path: Path) -> None:
    """A finished folder is never overwritten silently; a partial of another experiment is not reused."""
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(StoreError, match="exists"):
        TaskStore(out, {"a": 1})
    out2 = tmp_path / "out2"
    TaskStore(out2, {"a": 1})
    with pytest.raises(StoreError, match="interrupted"):
        TaskStore(out2, {"a": 1})
    with pytest.raises(StoreError, match="different experiment"):
        TaskStore(out2, {"a": 2}, resume=True)
    TaskStore(out2, {"a": 1}, resume=True)


def _sweep_cmd(path: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "sim", "sweep", str(path), "--grid", "agents.phone_team.count=8:11",
        "-n", "6", "--out", str(out), "-q", *extra,
    ]  # fmt: skip


@pytest.mark.slow
def test_resume_after_killed_sweep_equals_uninterrupted(tmp_path: Path) -> None:
    """A sweep killed mid-way keeps finished replications; --resume completes the same table."""
    data = base(horizon_hours=20)
    data.pop("variants")
    path = write(tmp_path, data)
    whole = tmp_path / "whole"
    subprocess.run(_sweep_cmd(path, whole, "-j", "1"), check=True, capture_output=True)
    cut = tmp_path / "cut"
    proc = subprocess.Popen(
        _sweep_cmd(path, cut, "-j", "1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    tasks = tmp_path / ".cut.partial" / "tasks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(tasks.glob("*.json"))) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(tasks.glob("*.json")))
    assert 3 <= finished < 24, "the sweep should have been killed part-way"
    assert not cut.exists(), "no partial output in the destination"
    again = subprocess.run(_sweep_cmd(path, cut, "-j", "2"), capture_output=True, text=True)
    assert again.returncode == 2 and "--resume" in again.stderr
    subprocess.run(_sweep_cmd(path, cut, "-j", "2", "--resume"), check=True, capture_output=True)
    pd.testing.assert_frame_equal(pd.read_csv(whole / "sweep.csv"), pd.read_csv(cut / "sweep.csv"))
    assert not (tmp_path / ".cut.partial").exists()
    parquet = pd.read_parquet(cut / "sweep.parquet")
    assert len(parquet) == len(pd.read_csv(cut / "sweep.csv"))


@pytest.mark.slow
def test_compare_cli_json_shape(tmp_path: Path) -> None:
    """`staffsim compare --json` prints one object: baseline, replications, channels, variants with diffs."""
    import json

    path = write(tmp_path, base(replications=3))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "compare", str(path), "--json", "-j", "1", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    payload = json.loads(proc.stdout)
    assert payload["baseline"] == "exp" and payload["replications"] == 3
    assert set(payload["variants"]) == {"hire_one", "divert_one", "pooled"}
    diff = payload["variants"]["hire_one"]["diff"]["phone"]["asa_s"]
    assert set(diff) == {"mean", "ci_low", "ci_high"}
    assert diff["ci_low"] <= diff["mean"] <= diff["ci_high"]
    assert {"comparison.csv", "manifest.json", "result.json", "replications.csv"} <= {
        p.name for p in (tmp_path / "o").iterdir()
    }


def test_paired_difference_ci_matches_definition() -> None:
    """The diff CI is the Student-t interval of per-replication differences (checked by hand)."""
    result = sim.compare(base(), replications=5)
    d = result.variants["hire_one"].values("channel", "phone", "asa_s") - result.baseline.values(
        "channel", "phone", "asa_s"
    )
    from scipy import stats

    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)
    est = result.diff("hire_one", "phone", "asa_s")
    assert est.mean == pytest.approx(d.mean())
    assert est.ci_high - est.mean == pytest.approx(half)
    assert mean_ci(d).ci_low == pytest.approx(est.ci_low)


@pytest.mark.slow
def test_dask_joins_a_running_scheduler_by_address(tmp_path: Path) -> None:
    """`--dask tcp://HOST:PORT` joins an existing scheduler; the numbers equal a serial run."""
    import json

    from click.testing import CliRunner
    from distributed import LocalCluster

    from sim.cli import main

    path = write(tmp_path, base(replications=3))
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        remote = CliRunner().invoke(main, ["compare", str(path), "--json", "--dask", address, "-q"])
    finally:
        cluster.close()
    local = CliRunner().invoke(main, ["compare", str(path), "--json", "-j", "1", "-q"])
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.output) == json.loads(local.output)
