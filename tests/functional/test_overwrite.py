"""`--overwrite` means the same on every command: an existing file or folder is kept unless it is given.

Every command that writes a file or folder the user names refuses (exit 2, one line naming
the path and `--overwrite`) to replace an existing one, and writes it atomically when
`--overwrite` is given. The commands run in-process on tiny scenarios.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from tests.builders import invoke

SCENARIO = """\
name: tiny
seed: 3
replications: 2
horizon_hours: 2
channels:
  phone:
    arrivals: {rate_per_hour: 30}
    handle_time: {dist: exponential, mean_s: 180}
agents:
  team: {count: 3, skills: [phone]}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """The tiny one-channel scenario, written to a file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A contact log of two mornings: ten answered calls and one abandoned each day."""
    rows = ["arrived_at,channel,outcome,wait_s,handle_s"]
    for day in (1, 2):
        rows += [f"2024-01-0{day}T09:{m:02d}:00,phone,answered,{m % 7},170" for m in range(0, 60, 6)]
        rows.append(f"2024-01-0{day}T09:30:30,phone,abandoned,40,")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def refused(code: int, out: str, err: str, *says: str) -> None:
    """Exit 2, nothing on stdout, a one-line message saying each of `says`, no traceback."""
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for text in says:
        assert text in err, err


@pytest.fixture
def result_folder(scenario: Path, tmp_path: Path) -> Path:
    """A `staffsim run --out` result folder."""
    out = tmp_path / "res"
    code, _, err = invoke("run", scenario, "--out", out, "-q")
    assert code == 0, err
    return out


# --- an existing file is kept unless --overwrite -----------------------------------------


def test_report_output_refuses_an_existing_file(result_folder: Path, tmp_path: Path) -> None:
    page = tmp_path / "mine.html"
    page.write_text("my own page", encoding="utf-8")
    refused(*invoke("report", result_folder, "--output", page), str(page), "--overwrite")
    assert page.read_text(encoding="utf-8") == "my own page"


def test_report_output_overwrite_replaces_the_file(result_folder: Path, tmp_path: Path) -> None:
    page = tmp_path / "mine.html"
    page.write_text("my own page", encoding="utf-8")
    code, _, err = invoke("report", result_folder, "--output", page, "--overwrite")
    assert code == 0, err
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine.html")]  # no temporary left


def test_report_rewrites_its_default_page_in_the_result_folder(result_folder: Path) -> None:
    """OUTDIR/report.html belongs to the result folder: rewriting it needs no --overwrite."""
    for _ in range(2):
        code, _, err = invoke("report", result_folder)
        assert code == 0, err
    assert (result_folder / "report.html").is_file()


def test_backtest_report_refuses_an_existing_file_before_simulating(
    scenario: Path, log: Path, tmp_path: Path
) -> None:
    page = tmp_path / "bt.html"
    page.write_text("last week's page", encoding="utf-8")
    # a budget of one contact: had the command gone as far as sizing the run, it would say so
    result = CliRunner(env={"STAFFSIM_MAX_CONTACTS": "1"}).invoke(
        main, ["backtest", str(scenario), str(log), "-n", "2", "--report", str(page)]
    )
    refused(result.exit_code, result.stdout, result.stderr, str(page), "--overwrite")
    assert "too large" not in result.stderr
    assert page.read_text(encoding="utf-8") == "last week's page"


def test_backtest_report_overwrite_replaces_the_file(scenario: Path, log: Path, tmp_path: Path) -> None:
    page = tmp_path / "bt.html"
    page.write_text("last week's page", encoding="utf-8")
    code, out, err = invoke("backtest", scenario, log, "-n", "2", "--report", page, "--overwrite")
    assert code == 0, err
    assert "back-test report" in page.read_text(encoding="utf-8")
    assert "whole period" in out


# --- --overwrite without what it would replace is a usage error --------------------------


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        (["run", "{scenario}"], "--out"),
        (["compare", "{scenario}"], "--out"),
        (["study", "scalability", "--quick"], "--out"),
        (["study", "myths", "--quick"], "--out"),
        (["optimize", "{scenario}", "--target", "phone.service_level>=0.8"], "--save"),
        (["backtest", "{scenario}", "{log}"], "--report"),
        (["report", "{folder}"], "--output"),
    ],
    ids=["run", "compare", "study-scalability", "study-myths", "optimize", "backtest", "report"],
)
def test_overwrite_without_its_target_is_refused(
    scenario: Path, log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], needs: str
) -> None:
    """`staffsim run X --overwrite` once ran and ignored the flag; now it says what is missing."""
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    args = [a.format(scenario=scenario, log=log, folder=tmp_path) for a in command]
    refused(*invoke(*args, "--overwrite"), f"--overwrite needs {needs}")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_sweep_overwrite_applies_to_its_default_folder(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sweep always writes a folder (default results/sweep-NAME), so --overwrite alone replaces that one."""
    monkeypatch.chdir(tmp_path)
    grid = ["sweep", scenario, "--grid", "agents.team.count=3,4", "-n", "2", "-q", "-j", "1"]
    assert invoke(*grid)[0] == 0
    # the user named no --out, so the refusal says where the folder came from and how to choose another
    refused(*invoke(*grid), "sweep-tiny", "--overwrite", "sweep's default folder", "--out DIR")
    code, _, err = invoke(*grid, "--overwrite")
    assert code == 0, err
    assert (tmp_path / "results" / "sweep-tiny" / "sweep.csv").is_file()


# --- each caller is told in its own words -------------------------------------------------


def test_api_save_speaks_of_the_overwrite_keyword(scenario: Path, tmp_path: Path) -> None:
    import sim
    from sim.runner.atomic import OutputExistsError

    result = sim.run(scenario, replications=2)
    folder = result.save(tmp_path / "res")
    with pytest.raises(OutputExistsError) as refused_here:
        result.save(folder)
    message = str(refused_here.value)
    assert str(folder) in message and "overwrite=True" in message and "--" not in message
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("not results", encoding="utf-8")
    with pytest.raises(OutputExistsError) as not_ours:
        result.save(theirs, overwrite=True)
    message = str(not_ours.value)
    assert "not written by staffsim" in message and "overwrite=True" in message and "--" not in message


def test_api_task_store_speaks_of_the_resume_and_overwrite_keywords(tmp_path: Path) -> None:
    from sim.runner.store import StoreError, TaskStore

    TaskStore(tmp_path / "out", {"seed": 1})  # leaves a partial folder, as an interrupted run
    with pytest.raises(StoreError) as interrupted:
        TaskStore(tmp_path / "out", {"seed": 1})
    message = str(interrupted.value)
    assert "resume=True" in message and "overwrite=True" in message and "--" not in message
    with pytest.raises(StoreError) as other:
        TaskStore(tmp_path / "out", {"seed": 2}, resume=True)
    message = str(other.value)
    assert "different experiment" in message and "overwrite=True" in message and "--" not in message


def test_cli_speaks_of_the_overwrite_flag(scenario: Path, result_folder: Path, tmp_path: Path) -> None:
    refused(*invoke("run", scenario, "--out", result_folder), str(result_folder), "--out", "--overwrite")
    assert "overwrite=True" not in invoke("run", scenario, "--out", result_folder)[2]
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("not results", encoding="utf-8")
    code, _, err = invoke("run", scenario, "--out", theirs, "--overwrite", "-q")
    assert code == 2 and "not written by staffsim" in err and "--overwrite" in err and "=True" not in err


def test_cli_speaks_of_the_resume_and_overwrite_flags(scenario: Path, tmp_path: Path) -> None:
    from sim.runner.outdir import release
    from sim.runner.store import TaskStore

    out = tmp_path / "grid"
    TaskStore(out, {"seed": 1})  # a partial folder, as an interrupted sweep leaves
    release(out)
    code, _, err = invoke("sweep", scenario, "--grid", "agents.team.count=3,4", "--out", out, "-q")
    assert code == 2 and "interrupted run" in err, err
    assert "--resume" in err and "--overwrite" in err and "=True" not in err
