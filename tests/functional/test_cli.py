"""The `staffsim` command: run (tables, --json, --out), check, erlang, and `python -m sim`."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sim.analytic import erlang as e
from sim.cli import main
from tests.builders import invoke

SMALL = """\
name: small
horizon_hours: 3
warmup_hours: 0.5
replications: 3
seed: 5
channels:
  phone:
    arrivals: {rate_per_hour: 240}
    handle_time: {dist: exponential, mean_s: 60}
    patience: {dist: exponential, mean_s: 120}
  email:
    arrivals: {rate_per_hour: 30}
    handle_time: {dist: exponential, mean_min: 4}
agents:
  phones: {count: 5, skills: [phone]}
  blend: {count: 2, skills: [email, phone]}
"""

OUT_FILES = {"summary.csv", "replications.csv", "intervals.csv", "contacts.parquet", "manifest.json"}


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """The small two-channel scenario, written to a file."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def run_json(*args: str | Path) -> dict[str, Any]:
    """`staffsim run ... --json` parsed; stdout must be exactly one JSON object."""
    code, stdout, stderr = invoke("run", *args, "--json", "--quiet")
    assert code == 0, stderr
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


def is_estimate(value: Any) -> bool:
    """`{"mean", "ci_low", "ci_high"}` holding numbers or null (JSON has no NaN)."""
    return (
        isinstance(value, dict)
        and {"mean", "ci_low", "ci_high"} <= set(value)
        and all(value[k] is None or isinstance(value[k], int | float) for k in ("mean", "ci_low", "ci_high"))
    )


def numbers(data: dict[str, Any]) -> dict[str, Any]:
    """The estimates of a `--json` result, without its labels."""
    return {"channels": data["channels"], "groups": data["groups"]}


# --- run --json ------------------------------------------------------------------------


def test_run_json_prints_one_object_of_the_documented_shape(scenario: Path) -> None:
    """stdout is one JSON object: scenario, replications, seed, channels and groups of estimates."""
    data = run_json(scenario)
    assert data["scenario"] == "small"
    assert data["replications"] == 3
    assert data["seed"] == 5
    assert set(data["channels"]) == {"phone", "email"}
    for metrics in data["channels"].values():
        assert {"offered", "answered", "abandoned", "service_level", "asa_s"} <= set(metrics)
        assert all(is_estimate(v) for v in metrics.values())
    assert {"phones", "blend"} <= set(data["groups"])
    for metrics in data["groups"].values():
        assert is_estimate(metrics["occupancy"])
    offered = data["channels"]["phone"]["offered"]
    assert offered["ci_low"] <= offered["mean"] <= offered["ci_high"]


def test_run_json_honours_replications_and_seed(scenario: Path) -> None:
    """--replications and --seed override the scenario's values."""
    data = run_json(scenario, "--replications", "2", "--seed", "11")
    assert (data["replications"], data["seed"]) == (2, 11)


def test_run_json_same_seed_gives_the_same_numbers(scenario: Path) -> None:
    """Two runs with the same seed print identical estimates."""
    assert numbers(run_json(scenario, "--seed", "3")) == numbers(run_json(scenario, "--seed", "3"))


def test_run_json_different_seed_changes_the_numbers(scenario: Path) -> None:
    """A different seed gives different random numbers, hence different estimates."""
    a = run_json(scenario, "--seed", "3")["channels"]["phone"]["offered"]["mean"]
    b = run_json(scenario, "--seed", "4")["channels"]["phone"]["offered"]["mean"]
    assert a != b


def test_run_rejects_zero_replications(scenario: Path) -> None:
    """--replications 0 is a usage error (exit 2), not a crash."""
    code, stdout, stderr = invoke("run", scenario, "--replications", "0")
    assert code == 2
    assert stdout == ""
    assert "--replications" in stderr


# --- run: tables -------------------------------------------------------------------------


def test_run_prints_a_column_per_channel_with_mean_and_ci(scenario: Path) -> None:
    """The human output has each channel in the header and `mean [low, high]` for its metrics."""
    code, stdout, stderr = invoke("run", scenario, "--quiet")
    assert code == 0, stderr
    assert "small: 3 replications, seed 5" in stdout
    header = next(line for line in stdout.splitlines() if "metric" in line)
    assert "phone" in header and "email" in header
    offered = next(line for line in stdout.splitlines() if "offered" in line)
    cells = re.findall(r"[\d.,]+%? \[[-\d.,]+%?, [-\d.,]+%?\]", offered)
    assert len(cells) == 2, offered
    groups = stdout[stdout.index("agent groups") :]  # groups have a table of their own
    assert "occupancy" in groups.splitlines()[2] and any("phones" in line for line in groups.splitlines())


# --- run --out ---------------------------------------------------------------------------


def test_run_out_writes_result_files(scenario: Path, tmp_path: Path) -> None:
    """--out writes the tables, the per-contact Parquet file and a manifest, and no temp folder."""
    out = tmp_path / "results"
    code, stdout, stderr = invoke("run", scenario, "--out", out, "--quiet")
    assert code == 0, stderr
    assert {p.name for p in out.iterdir()} >= OUT_FILES
    assert f"results written to {out}" in stdout
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in {"small.yaml", "results"}]
    assert leftovers == []


def test_run_out_manifest_records_inputs_seed_and_versions(scenario: Path, tmp_path: Path) -> None:
    """manifest.json holds the scenario file's SHA-256, the seed, package versions and the command."""
    out = tmp_path / "results"
    code, _, stderr = invoke("run", scenario, "--out", out, "--seed", "9", "--quiet")
    assert code == 0, stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario_files"] == {str(scenario): hashlib.sha256(scenario.read_bytes()).hexdigest()}
    assert manifest["seed"] == 9
    assert {"python", "staffsim", "numpy", "simpy", "pandas"} <= set(manifest["versions"])
    assert isinstance(manifest["command"], list) and all(isinstance(a, str) for a in manifest["command"])


def test_run_out_csv_tables_hold_the_printed_estimates(scenario: Path, tmp_path: Path) -> None:
    """summary.csv has the same phone service level as `--json` for the same seed."""
    import pandas as pd

    out = tmp_path / "results"
    assert invoke("run", scenario, "--out", out, "--quiet")[0] == 0
    summary = pd.read_csv(out / "summary.csv")
    row = summary[(summary["name"] == "phone") & (summary["metric"] == "service_level")]
    expected = run_json(scenario)["channels"]["phone"]["service_level"]["mean"]
    assert row["mean"].item() == pytest.approx(expected, rel=1e-12)
    assert len(pd.read_csv(out / "replications.csv")) > 0
    assert len(pd.read_parquet(out / "contacts.parquet")) > 0


def test_run_out_refuses_to_overwrite_an_existing_folder(scenario: Path, tmp_path: Path) -> None:
    """An existing --out folder without --overwrite: exit 2, message, folder left untouched."""
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("precious", encoding="utf-8")
    code, stdout, stderr = invoke("run", scenario, "--out", out, "--quiet")
    assert code == 2
    assert stdout == ""
    assert "--overwrite" in stderr and str(out) in stderr
    assert "Traceback" not in stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text(encoding="utf-8") == "precious"


def test_run_out_overwrite_replaces_the_folder(scenario: Path, tmp_path: Path) -> None:
    """With --overwrite a result folder staffsim wrote is replaced by the complete new results."""
    out = tmp_path / "results"
    code, _, stderr = invoke("run", scenario, "--out", out, "--quiet")
    assert code == 0, stderr
    (out / "stale.txt").write_text("old", encoding="utf-8")
    code, _, stderr = invoke("run", scenario, "--out", out, "--overwrite", "--quiet")
    assert code == 0, stderr
    names = {p.name for p in out.iterdir()}
    assert names >= OUT_FILES
    assert "stale.txt" not in names


def test_staffsim_script_end_to_end_records_the_command(scenario: Path, tmp_path: Path) -> None:
    """The installed `staffsim` script runs a scenario; the manifest records the command line."""
    script = Path(sys.executable).with_name("staffsim")
    proc = subprocess.run(
        [str(script), "run", scenario.name, "--out", "out", "-n", "2", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == ["staffsim", "run", "small.yaml", "--out", "out", "-n", "2", "--quiet"]
    assert manifest["replications"] == 2


def test_python_m_sim_manifest_records_the_module(scenario: Path, tmp_path: Path) -> None:
    """Under `python -m sim` the manifest says so, not `__main__.py` (the path in sys.argv[0])."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", scenario.name, "--out", "out", "-n", "2", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == [
        "python",
        "-m",
        "sim",
        "run",
        "small.yaml",
        "--out",
        "out",
        "-n",
        "2",
        "--quiet",
    ]


# --- python -m sim, check ----------------------------------------------------------------


def test_python_m_sim_help_lists_the_commands() -> None:
    """`python -m sim --help` exits 0 and lists run, check and erlang."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    for command in ("run", "check", "erlang"):
        assert re.search(rf"^\s+{command}\s", proc.stdout, re.MULTILINE), command


def test_check_reports_a_valid_scenario(scenario: Path) -> None:
    """`staffsim check FILE` validates without running and summarises the scenario."""
    code, stdout, stderr = invoke("check", scenario)
    assert code == 0, stderr
    assert str(scenario) in stdout
    assert "valid" in stdout
    assert "2 channels" in stdout and "7 agents" in stdout
    one = scenario.with_name("one.yaml")
    one.write_text(
        SMALL.split("  email:")[0] + "agents:\n  phones: {count: 5, skills: [phone]}\n", encoding="utf-8"
    )
    code, stdout, stderr = invoke("check", one)
    assert code == 0, stderr
    assert "valid — 1 channel, 5 agents," in stdout


# --- erlang ------------------------------------------------------------------------------


def erlang_lines(stdout: str) -> dict[str, str]:
    """`key: value` lines of the human erlang output."""
    pairs = (line.split(":", 1) for line in stdout.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def test_erlang_prints_erlang_c_figures() -> None:
    """The human output shows Erlang C p_wait, ASA and service level as sim.analytic computes them."""
    code, stdout, stderr = invoke(
        "erlang", "--agents", "10", "--rate-per-hour", "540", "--aht-s", "60", "--target-s", "20"
    )
    assert code == 0, stderr
    shown = erlang_lines(stdout)
    assert shown["model"] == "erlang_c"
    assert int(shown["agents"]) == 10
    assert float(shown["p_wait"]) == pytest.approx(e.erlang_c(10, 9.0), rel=1e-5)
    assert float(shown["asa_s"]) == pytest.approx(e.erlang_c_asa(10, 9.0, 60), rel=1e-5)
    assert float(shown["service_level"]) == pytest.approx(e.erlang_c_service_level(10, 9.0, 60, 20), rel=1e-5)


def test_erlang_json_matches_the_analytic_functions() -> None:
    """`erlang --json` prints one object whose figures equal sim.analytic.erlang's."""
    code, stdout, stderr = invoke(
        "erlang", "--agents", "12", "--rate-per-hour", "600", "--aht-s", "60", "--target-s", "15", "--json"
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["model"] == "erlang_c"
    assert data["agents"] == 12
    assert data["load_erlangs"] == pytest.approx(10.0)
    assert data["p_wait"] == pytest.approx(e.erlang_c(12, 10.0), rel=1e-12)
    assert data["asa_s"] == pytest.approx(e.erlang_c_asa(12, 10.0, 60), rel=1e-12)
    assert data["service_level"] == pytest.approx(e.erlang_c_service_level(12, 10.0, 60, 15), rel=1e-12)
    assert data["occupancy"] == pytest.approx(10 / 12)


def test_erlang_without_agents_finds_the_fewest_that_meet_the_target() -> None:
    """Without --agents the command sizes the team with min_agents_erlang_c."""
    code, stdout, stderr = invoke(
        "erlang", "--rate-per-hour", "2700", "--aht-s", "60", "--service-level", "0.9", "--json"
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["agents"] == e.min_agents_erlang_c(45.0, 60, 20.0, 0.9)
    assert data["service_level"] >= 0.9


def test_erlang_with_patience_gives_erlang_a_figures() -> None:
    """--patience-s switches to Erlang A; figures equal sim.analytic.erlang.erlang_a's."""
    code, stdout, stderr = invoke(
        "erlang",
        *("--agents", "50", "--rate-per-hour", "2700", "--aht-s", "60", "--patience-s", "120", "--json"),
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    expected = e.erlang_a(50, 2700 / 3600, 60, 120, 20.0)
    assert data["model"] == "erlang_a"
    for key in ("p_wait", "p_abandon", "asa_s", "service_level", "occupancy"):
        want = getattr(expected, key)
        assert data[key] == (None if not math.isfinite(want) else pytest.approx(want, rel=1e-12)), key


def test_erlang_rejects_a_zero_rate() -> None:
    """A zero arrival rate is a usage error: exit 2, no traceback."""
    code, stdout, stderr = invoke("erlang", "--agents", "3", "--rate-per-hour", "0", "--aht-s", "60")
    assert code == 2
    assert stdout == ""
    assert "--rate-per-hour" in stderr


@pytest.mark.parametrize("force", [False, True], ids=["budget", "force"])
@pytest.mark.parametrize(
    ("grid", "says"),
    [
        (
            "agents.phones.count=-1,5",
            "agents.phones.count=-1 → agents.phones.count: must be greater than or equal to 0",
        ),
        ("agents.phones.count=abc", "agents.phones.count=abc → agents.phones.count: must be a number"),
        ("agents.phones.skills=phone", "agents.phones.skills=phone → agents.phones.skills: must be a list"),
        (
            "routing.policy=bogus",
            "routing.policy=bogus → routing.policy: unknown policy 'bogus'; allowed: fifo",
        ),
    ],
    ids=["negative", "text", "not-a-list", "policy"],
)
def test_sweep_invalid_grid_point_names_file_point_and_key(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grid: str, says: str, force: bool
) -> None:
    """A grid value that makes an invalid scenario: exit 2 naming the file, the point and the key; no output."""
    monkeypatch.chdir(tmp_path)  # the default --out, results/sweep-small, would be here
    code, stdout, stderr = invoke(
        "sweep", scenario, "--grid", grid, "-n", "1", "-j", "1", "-q", *(["--force"] * force)
    )
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert stderr.startswith(f"staffsim: invalid scenario {scenario} with --grid:\n")
    assert f"  grid point {says}" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"], "no output folder, not even partial"


def test_app_without_its_optional_dependencies_says_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `make run` installs no app extras: a missing Panel must be one message and exit 2, not a traceback
    monkeypatch.setitem(sys.modules, "panel", None)  # `import panel` now raises ImportError
    result = CliRunner().invoke(main, ["app", "--no-browser", "--port", "0"])
    assert result.exit_code == 2, result.output
    assert "make app" in result.output and ".[app]" in result.output
    assert "Traceback" not in result.output


def test_run_and_compare_titles_stay_on_one_line(tmp_path: Path) -> None:
    # a one-channel table is narrower than its title: the title used to wrap mid-word ("[95%\nCI]")
    path = tmp_path / "one.yaml"
    text = SMALL.split("  email:")[0] + "agents:\n  phones: {count: 5, skills: [phone]}\n"
    path.write_text(text + "variants:\n  more: {agents.phones.count: 6}\n", encoding="utf-8")
    code, out, err = invoke("run", path, "-q")
    assert code == 0, err
    assert "small: 3 replications, seed 5, mean [95% CI]" in out.splitlines()[0]
    code, out, err = invoke("compare", path, "-q", "-j", "1")
    assert code == 0, err
    assert out.splitlines()[0].rstrip().endswith("* the CI excludes 0)")


def test_compare_writes_differences_of_shares_in_percentage_points(tmp_path: Path) -> None:
    # 80 % − 57 % is a fall of 23 percentage points; "-23%" would read as a relative change
    path = tmp_path / "one.yaml"
    text = SMALL.split("  email:")[0] + "agents:\n  phones: {count: 5, skills: [phone]}\n"
    path.write_text(text + "variants:\n  fewer: {agents.phones.count: 4}\n", encoding="utf-8")
    code, out, err = invoke("compare", path, "-q", "-j", "1")
    assert code == 0, err
    code, raw, err = invoke("compare", path, "--json", "-j", "1")
    assert code == 0, err
    diff = json.loads(raw)["variants"]["fewer"]["diff"]["phone"]
    rows = {
        line.split("│")[3].strip(): line.split("│")[6].strip() for line in out.splitlines() if "fewer" in line
    }
    sl = diff["service_level"]
    assert (
        rows["service_level"]
        == f"{100 * sl['mean']:+.1f} pp [{100 * sl['ci_low']:+.1f}, {100 * sl['ci_high']:+.1f}]"
    )
    assert rows["asa_s"].endswith(" s]") and "pp" not in rows["asa_s"]  # durations keep their unit


def test_erlang_says_what_it_sized_for_and_the_target_of_its_service_level() -> None:
    code, stdout, _ = invoke("erlang", "--rate-per-hour", "360", "--aht-s", "60", "--target-s", "15")
    assert code == 0
    first, *_ = stdout.splitlines()
    assert first == "the fewest agents that answer at least 80% within 15 s (--service-level, --target-s):"
    shown = erlang_lines(stdout)
    fewest = e.min_agents_erlang_c(6.0, 60, 15, 0.8)  # 360/h × 60 s = 6 Erlangs
    assert int(shown["agents"]) == fewest and float(shown["target_s"]) == 15
    assert (
        e.erlang_c_service_level(fewest, 6.0, 60, 15)
        >= 0.8
        > e.erlang_c_service_level(fewest - 1, 6.0, 60, 15)
    )
    sized = json.loads(invoke("erlang", "--rate-per-hour", "360", "--aht-s", "60", "--json")[1])
    assert sized["sized_for_service_level"] == 0.8 and sized["target_s"] == 20
    given = json.loads(invoke("erlang", "-c", "9", "--rate-per-hour", "360", "--aht-s", "60", "--json")[1])
    assert given["sized_for_service_level"] is None and given["agents"] == 9
