"""Faults: a worker process killed mid-sweep, Ctrl-C, and what is left to resume.

The end-to-end tests run `python -m sim sweep` as a real process on a small grid whose
replications take about a quarter of a second each, disturb it while it runs, and compare
its final table with an undisturbed run's: results depend only on the tasks, never on which
worker ran them or how often, so the tables must be equal, row for row.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
import yaml
from click.testing import CliRunner

import sim.runner.tasks
from sim.cli import main
from sim.runner.executors import PoolExecutor
from tests.builders import ROOT

SCENARIO = {
    "name": "faults",
    "seed": 11,
    "replications": 4,
    "horizon_hours": 3,
    "channels": {
        "phone": {
            "arrivals": {"rate_per_hour": 6000},
            "handle_time": {"dist": "exponential", "mean_s": 60},
            "patience": {"dist": "exponential", "mean_s": 120},
        }
    },
    "agents": {"team": {"count": 104, "skills": ["phone"]}},
}
"""About 18,000 contacts per replication: a quarter of a second, long enough to interrupt."""

GRID = ("--grid", "agents.team.count=104:106")
TASKS = 3 * 4


def sweep_cmd(path: Path, out: Path, *extra: str) -> list[str]:
    """`python -m sim sweep` of the fault scenario's grid."""
    return [sys.executable, "-m", "sim", "sweep", str(path), *GRID, "--out", str(out), "-q", *extra]


def tasks_done(out: Path) -> int:
    """Replications stored in the hidden partial folder of `out`."""
    return len(list((out.parent / f".{out.name}.partial" / "tasks").glob("*.json")))


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    """Poll `condition()` until it is true (or fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fault scenario written to a file."""
    path = tmp_path_factory.mktemp("faults") / "faults.yaml"
    path.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def undisturbed(scenario_file: Path) -> pd.DataFrame:
    """The sweep table of a run nobody disturbed."""
    out = scenario_file.parent / "undisturbed"
    subprocess.run(sweep_cmd(scenario_file, out, "-j", "2"), check=True, capture_output=True, timeout=300)
    return pd.read_csv(out / "sweep.csv")


def worker_pids(parent: int) -> list[int]:
    """Process-pool workers of `parent`: its children running the same command line."""
    me = psutil.Process(parent)
    return [c.pid for c in me.children() if c.cmdline() == me.cmdline()]


@pytest.mark.slow
def test_killed_worker_is_reported_and_its_replications_rerun(
    scenario_file: Path, undisturbed: pd.DataFrame, tmp_path: Path
) -> None:
    """SIGKILL one pool worker mid-sweep: a message on stderr, its work rerun, the same table."""
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        sweep_cmd(scenario_file, out, "-j", "2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: tasks_done(out) >= 1 and len(worker_pids(proc.pid)) == 2)
        victim = worker_pids(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        killed_at = tasks_done(out)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert killed_at < TASKS, "the worker should have been killed while work remained"
    assert proc.returncode == 0, stderr
    assert "a worker process died; rerunning" in stderr and "Traceback" not in stderr
    assert f"{len(undisturbed):,} rows written" in stdout
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), undisturbed)
    assert not (tmp_path / ".killed.partial").exists()


def _default_sigint() -> None:
    """Give the child the default Ctrl-C handling, as a terminal does.

    A test runner started in the background (as CI may be) has SIGINT ignored, and
    children inherit that; a user's shell never starts a foreground command that way.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", ["SIGINT to the command (-j 1)", "Ctrl-C in a terminal (-j 2)"])
@pytest.mark.slow
def test_ctrl_c_keeps_finished_replications_and_resume_completes(
    scenario_file: Path, undisturbed: pd.DataFrame, tmp_path: Path, how: str
) -> None:
    """Ctrl-C: exit 130 with how to resume, finished replications kept; --resume finishes equal.

    A terminal sends SIGINT to every process of the foreground group, workers included; the
    workers ignore it and the command stops them, so no worker prints a traceback either.
    """
    out = tmp_path / "cut"
    terminal = "terminal" in how
    workers = "2" if terminal else "1"
    proc = subprocess.Popen(
        sweep_cmd(scenario_file, out, "-j", workers),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=_default_sigint,
    )
    try:
        wait_for(lambda: tasks_done(out) >= 2)
        if terminal:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    kept = tasks_done(out)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stdout == ""
    assert "staffsim: interrupted" in stderr
    assert f"{kept} finished replications are kept in" in stderr and "--resume" in stderr
    assert 2 <= kept < TASKS
    assert not out.exists(), "no partial output in the destination"
    resumed = subprocess.run(
        sweep_cmd(scenario_file, out, "-j", "2", "--resume"), capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), undisturbed)


def ready_file(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A readiness file and the environment that makes the command report into it."""
    path = tmp_path / "ready.txt"
    return path, {**os.environ, "STAFFSIM_READY_FILE": str(path)}


def wait_stage(path: Path, stage: str, proc: subprocess.Popen[str]) -> None:
    """Wait until the command reports `stage` in its readiness file (or ends, which fails)."""

    def reached() -> bool:
        assert proc.poll() is None, f"the command ended before reporting {stage!r}"
        return path.exists() and any(
            line.split()[0] == stage for line in path.read_text(encoding="utf-8").splitlines() if line
        )

    wait_for(reached, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_ctrl_c_or_sigterm_during_run_says_nothing_was_written(
    scenario_file: Path, tmp_path: Path, sig: signal.Signals, code: int, word: str
) -> None:
    """`staffsim run` stopped once it reports `simulating`: exit 130 (143), one line, no --out.

    30 replications take seconds of CPU after that point, so the signal lands while they run.
    """
    out = tmp_path / "run-out"
    ready, env = ready_file(tmp_path)
    cmd = [sys.executable, "-m", "sim", "run", str(scenario_file), "-n", "30", "--out", str(out), "-q"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint, env=env
    )
    try:
        wait_stage(ready, "simulating", proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert stderr.strip() == f"staffsim: {word}; no results were written"
    assert stdout == "" and not out.exists()
    assert not list(tmp_path.glob(".run-out*")), "no temporary or partial folder left"


@pytest.mark.parametrize("entry", ["python -m sim", "staffsim script"])
@pytest.mark.slow
@pytest.mark.parametrize("stage", ["started", "command"])
def test_ctrl_c_during_start_up_exits_130_without_a_traceback(entry: str, stage: str, tmp_path: Path) -> None:
    """Ctrl-C while the command still imports pandas, scipy and the model: exit 130, one line.

    The command reports `started` once its interrupt guard is in place, before it imports
    the command-line module (click, pydantic, numpy: about 0.6 s of CPU), and `command`
    when a subcommand starts, before it imports the model. The signal is sent right after
    each report, so it lands during those imports however busy the machine is.
    """
    scenario = ROOT / "scenarios" / "baseline.yaml"
    prog = (
        [sys.executable, "-m", "sim"]
        if entry == "python -m sim"
        else [str(Path(sys.executable).parent / "staffsim")]
    )
    ready, env = ready_file(tmp_path)
    proc = subprocess.Popen(
        [*prog, "run", str(scenario), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        preexec_fn=_default_sigint,
        env=env,
    )
    try:
        wait_stage(ready, stage, proc)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, f"after {stage}: {stderr}"
    assert "Traceback" not in stderr, stderr
    assert stderr.strip() == "staffsim: interrupted; no results were written"
    assert stdout == ""


@pytest.mark.slow
def test_sigterm_keeps_finished_replications_and_says_how_to_resume(
    scenario_file: Path, tmp_path: Path
) -> None:
    """SIGTERM to a sweep on two workers: exit 143, the resume hint, and no worker left behind."""
    out = tmp_path / "term"
    proc = subprocess.Popen(
        sweep_cmd(scenario_file, out, "-j", "2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: tasks_done(out) >= 1 and len(worker_pids(proc.pid)) == 2)
        workers = [psutil.Process(pid) for pid in worker_pids(proc.pid)]
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, stderr
    assert "staffsim: terminated;" in stderr and "--resume" in stderr and "Traceback" not in stderr
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"workers left running: {alive}"


@pytest.mark.slow
def test_workers_die_with_a_parent_killed_by_sigkill(scenario_file: Path, tmp_path: Path) -> None:
    """SIGKILL to the parent of a two-worker sweep: no worker is left after 5 s.

    The parent cannot stop its workers when killed this way; the kernel does
    (`sim.runner.lifecycle.die_with_parent`).
    """
    out = tmp_path / "orphans"
    proc = subprocess.Popen(
        sweep_cmd(scenario_file, out, "-j", "2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: len(worker_pids(proc.pid)) == 2)
        workers = [psutil.Process(pid) for pid in worker_pids(proc.pid)]
        proc.kill()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    _, alive = psutil.wait_procs(workers, timeout=5)
    for p in alive:
        p.kill()
    assert not alive, f"workers outlived their parent: {alive}"


@pytest.mark.slow
def test_killed_worker_during_run_leaves_one_line_and_no_traceback(
    scenario_file: Path, tmp_path: Path
) -> None:
    """SIGKILL one worker of `run -j 2` once it reports `simulating`: stderr is the one warning line.

    Nothing else reaches the user: no traceback and no `KeyError` from the dead worker, the
    pool or multiprocessing's resource tracker; the run finishes and writes its results.
    """
    out = tmp_path / "run-killed"
    ready, env = ready_file(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "run",
        str(scenario_file),
        "-n",
        "30",
        "-j",
        "2",
        "--out",
        str(out),
        "-q",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_stage(ready, "simulating", proc)
        wait_for(lambda: len(worker_pids(proc.pid)) == 2)
        os.kill(worker_pids(proc.pid)[0], signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "KeyError" not in stderr, stderr
    # The killed worker may already have finished its last task (the run then needs no rerun):
    # whatever is said is the one warning line, never more.
    lines = stderr.strip().splitlines()
    assert len(lines) <= 1 and all(line.startswith("a worker process died; rerunning") for line in lines), (
        stderr
    )
    assert "30 replications" in stdout and out.is_dir()


def dask_workers(parent: int) -> list[psutil.Process]:
    """The worker processes a `--dask local` command started (spawned, so not a copy of it)."""
    return [
        c for c in psutil.Process(parent).children(recursive=True) if "spawn_main" in " ".join(c.cmdline())
    ]


@pytest.mark.slow
def test_dask_local_workers_die_with_a_parent_killed_by_sigkill(scenario_file: Path, tmp_path: Path) -> None:
    """SIGKILL to the parent of a `--dask local` sweep once a replication is stored: no worker after 5 s."""
    out = tmp_path / "dask-orphans"
    proc = subprocess.Popen(
        sweep_cmd(scenario_file, out, "--dask", "local", "-j", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: tasks_done(out) >= 1, timeout=120)  # workers exist and have run a task
        workers = dask_workers(proc.pid)
        proc.kill()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert workers, "the local cluster should have worker processes"
    _, alive = psutil.wait_procs(workers, timeout=5)
    for p in alive:
        p.kill()
    assert not alive, f"Dask workers outlived their parent: {alive}"


@pytest.mark.slow
def test_sigterm_to_a_dask_local_sweep_prints_only_the_resume_line(
    scenario_file: Path, tmp_path: Path
) -> None:
    """SIGTERM once a replication is stored: exit 143 and one line; Dask's own warnings stay quiet."""
    out = tmp_path / "dask-term"
    proc = subprocess.Popen(
        sweep_cmd(scenario_file, out, "--dask", "local", "-j", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: tasks_done(out) >= 1, timeout=120)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("staffsim: terminated;") and "--resume" in lines[0], stderr


# --- the pool executor, in-process -------------------------------------------------------


def _die_once(marker_dir: str, task: int) -> int:
    """Kill this worker the first time task 3 runs (a marker file remembers it); else square."""
    marker = Path(marker_dir) / f"died-{task}"
    if task == 3 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return task * task


def _always_die(task: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return task


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_pool_reruns_the_tasks_of_a_dead_worker(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A worker that dies mid-task is logged as a warning and every unfinished task rerun once."""
    import functools

    pool = PoolExecutor(2)
    with caplog.at_level(logging.WARNING, logger="sim.runner.executors"):
        results = dict(pool.map_unordered(functools.partial(_die_once, str(tmp_path)), list(range(8))))
    assert results == {i: i * i for i in range(8)}
    assert any("a worker process died; rerunning" in r.message for r in caplog.records)


def test_pool_gives_up_after_its_retries(caplog: pytest.LogCaptureFixture) -> None:
    """A task that kills every worker it runs on: `BrokenProcessPool` after `retries` fresh pools."""
    pool = PoolExecutor(2, retries=1)
    with caplog.at_level(logging.WARNING, logger="sim.runner.executors"), pytest.raises(BrokenProcessPool):
        list(pool.map_unordered(_always_die, [1, 2]))
    assert any("giving up" in r.message for r in caplog.records)


def test_cli_reports_workers_that_keep_dying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When workers keep dying, `sweep` exits 1 with a message and how to resume, no traceback."""
    path = tmp_path / "tiny.yaml"
    tiny = {**SCENARIO, "horizon_hours": 0.1, "replications": 2}
    path.write_text(yaml.safe_dump(tiny), encoding="utf-8")
    monkeypatch.setattr(sim.runner.tasks, "execute", _always_die)  # forked workers inherit it
    out = tmp_path / "dying"
    result = CliRunner().invoke(main, ["sweep", str(path), *GRID, "-j", "2", "--out", str(out), "-q"])
    assert result.exit_code == 1, result.output
    assert "worker processes kept dying" in result.stderr and "--resume" in result.stderr
    assert not isinstance(result.exception, BrokenProcessPool)
    assert not out.exists()


def test_stopping_early_terminates_running_workers() -> None:
    """Closing the result stream (Ctrl-C, an error) stops the workers instead of awaiting their tasks."""
    pool = PoolExecutor(2)
    stream: Iterator[tuple[int, Any]] = pool.map_unordered(_sleep, [0.05, 60.0, 60.0])
    assert next(stream) == (0, 0.05)
    start = time.monotonic()
    stream.close()  # what a KeyboardInterrupt in the caller's loop amounts to
    assert time.monotonic() - start < 10, "workers should be terminated, not awaited"
